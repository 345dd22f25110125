"""`python -m sentiment score`, run as users run it: a real subprocess on real files."""

import csv
import io
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def score(*args, stdin: bytes | None = None, model=None):
    command = [sys.executable, "-m", "sentiment", "score", *args]
    if model is not None:
        command += ["--model", str(model)]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=120)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_in_csv_out_keeps_every_row_and_column(tiny_bundle, tmp_path):
    source = tmp_path / "tweets.csv"
    source.write_text('id,text,user\n1,"love this crew, amazing :)",a\n2,"worst airline, lost bag :(",b\n',
                      encoding="utf-8")
    result = score("--input", str(source), "--output", str(tmp_path / "out.csv"), model=tiny_bundle)
    assert result.returncode == 0, result.stderr
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == ["id", "text", "user", "probability_positive", "sentiment"]
    assert [r["sentiment"] for r in rows] == ["positive", "negative"]
    assert all(0.0 <= float(r["probability_positive"]) <= 1.0 for r in rows)
    assert b"scored 2 of 2 rows" in result.stderr


def test_jsonl_to_stdout_with_custom_column(tiny_bundle, tmp_path):
    source = tmp_path / "tweets.jsonl"
    source.write_text('{"tweet": "amazing flight", "n": 1}\n\n{"tweet": "rude crew", "n": 2}\n')
    result = score("--input", str(source), "--text-column", "tweet", model=tiny_bundle)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["n"] for r in rows] == [1, 2]
    assert [r["sentiment"] for r in rows] == ["positive", "negative"]
    assert all(isinstance(r["probability_positive"], float) for r in rows)


def test_stdin_is_sniffed(tiny_bundle):
    result = score("--input", "-", stdin=b'{"text": "love it"}\n', model=tiny_bundle)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sentiment"] in ("positive", "negative")
    result = score("--input", "-", stdin=b"text\nlove it\n", model=tiny_bundle)
    assert json.loads(result.stdout)["text"] == "love it"


def test_bad_csv_rows_are_reported_by_line_and_kept(tiny_bundle, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_bytes(
        b"id,text\n"
        b"1,fine flight\n"  # line 2
        b"2,\n"  # line 3: empty
        b"3,...\n"  # line 4: nothing to score
        b'4,"two\nlines"\n'  # lines 5-6: fine
        b"5,too,many\n"  # line 7: extra field
        b"6,caf\xe9 latin-1\n"  # line 8: not UTF-8
        b"7," + b"x " * 6000 + b"\n"  # line 9: too long
        b"8\n"  # line 10: missing field
    )
    result = score("--input", str(source), "--output", str(tmp_path / "out.csv"), model=tiny_bundle)
    assert result.returncode == 0
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    scored = {r["id"] for r in rows if r["sentiment"]}
    assert scored == {"1", "4"}
    stderr = result.stderr.decode()
    # the rejections read as the API's (one check for every entry point), with a hint for files
    for expected in ("line 3: text is empty", "line 4: text has no words", "line 7: 3 fields where the header has 2",
                     "line 8: text is not valid Unicode", "(try --encoding latin-1)",
                     "line 9: text has 12,000 characters; the limit is 4,000 (an unclosed quote?)", "line 10: 1 fields",
                     "scored 2 of 8 rows; 6 not scored"):
        assert expected in stderr, (expected, stderr)
    assert "Traceback" not in stderr


def test_strict_mode_fails_on_bad_rows(tiny_bundle, tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("text\ngood\n\n...\n")
    assert score("--input", str(source), "--strict", model=tiny_bundle).returncode == 1


def test_bad_jsonl_rows(tiny_bundle, tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'{"text": "ok flight"}\n[1, 2]\n{"text": 42}\nnot json\n{"id": 1}\n"just a string"\n'
                       b'{"text": "caf\xe9"}\n{"text": null}\n')
    result = score("--input", str(source), model=tiny_bundle)
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == 8
    assert rows[0]["sentiment"] and "error" not in rows[0]
    errors = [r.get("error") for r in rows[1:]]
    assert errors == ["not a JSON object", "text must be a string, not a number",
                      "malformed JSON: Expecting value at line 1 column 1",
                      "no 'text' field", "not a JSON object", "not valid text in this encoding",
                      "text must be a string, not null"]
    assert all(r["probability_positive"] is None for r in rows[1:])


def test_latin1_input_with_encoding_flag(tiny_bundle, tmp_path):
    source = tmp_path / "latin1.csv"
    source.write_bytes("text\ncafé très bon\n".encode("latin-1"))
    result = score("--input", str(source), "--encoding", "latin-1", model=tiny_bundle)
    assert result.returncode == 0
    assert json.loads(result.stdout)["text"] == "café très bon"


def test_utf16_with_bom_is_read(tiny_bundle, tmp_path):
    source = tmp_path / "excel.csv"
    source.write_bytes("text\nlove it\n".encode("utf-16"))
    result = score("--input", str(source), model=tiny_bundle)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "love it"


def test_clashing_input_columns_are_kept_renamed(tiny_bundle, tmp_path):
    source = tmp_path / "labelled.csv"
    source.write_text("text,sentiment\nlove it,pos\n")
    result = score("--input", str(source), "--output", str(tmp_path / "o.csv"), model=tiny_bundle)
    assert result.returncode == 0
    row = read_csv(tmp_path / "o.csv")[0]
    assert row["input_sentiment"] == "pos" and row["sentiment"] in ("positive", "negative")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,tweet\n1,hello\n", "no column 'text'"),
        (b"text,text\na,b\n", "repeats a column"),
    ],
    ids=["empty-file", "no-text-column", "duplicate-header"],
)
def test_unreadable_files_exit_2_with_a_message(tiny_bundle, tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = score("--input", str(source), model=tiny_bundle)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_missing_input_and_bad_model(tiny_bundle, tmp_path):
    result = score("--input", str(tmp_path / "nope.csv"), model=tiny_bundle)
    assert result.returncode == 2 and b"cannot read" in result.stderr
    source = tmp_path / "in.csv"
    source.write_text("text\nhi\n")
    result = score("--input", str(source), model=tmp_path)
    assert result.returncode == 2 and b"cannot load the model" in result.stderr


def test_json_output_is_valid_even_for_undecodable_rows(tiny_bundle, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"text\n\xff\xfe broken\n")
    result = score("--input", str(source), model=tiny_bundle)
    row = json.loads(result.stdout.decode("utf-8"))
    assert row["sentiment"] is None and "not valid" in row["error"]


def test_committed_model_scores_a_csv_by_default(tmp_path):
    """The README's example: no --model, the committed bundle is used."""
    source = tmp_path / "tweets.csv"
    rows = ["I love flying with you, the crew was amazing", "Worst airline ever. Lost my bag, nobody cares",
            "My flight got cancelled again, so angry", "Thanks for the upgrade, what a great day!"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text"])
    writer.writerows([r] for r in rows)
    source.write_text(buffer.getvalue())
    result = score("--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    assert [r["sentiment"] for r in read_csv(tmp_path / "out.csv")] == ["positive", "negative", "negative", "positive"]
