"""``python -m pipelines score`` on a generated archive of good and bad lines, against ``python -m sentiment score``
on the same files and the committed model: every non-blank line ends in exactly one output, the same lines are
scored, with the same scores (within 1e-6), and each refused line carries its reason, file and line."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines import bulk
from sentiment.rows import MAX_LINE_CHARS

pytestmark = pytest.mark.slow

WORDS = ["flight", "delayed", "lost", "bag", "crew", "friendly", "rude", "seat", "legroom", "late",
         "gate", "refund", "great", "awful", "thanks", "again", "never", "boarding", "smooth", "landing",
         "staff", "helpful", "cancelled", "love", "hate", "food", "coffee", "wifi"]
TWO_CORES = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]


@dataclass(frozen=True)
class Line:
    source: str
    line: int
    id: str | None  # carried to the scored message, so a scored line can be found again
    outcome: str  # "scored", or the reason it is refused


def tweet(rng: random.Random) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
    return text + rng.choice(["", " :)", " :(", " !!", " #fail", " @AirParadis", " http://t.co/x", " 😡"])


def jsonl_archive(path: Path, rng: random.Random, good: int) -> list[Line]:
    """Good tweets with, at random places, every kind of bad line a JSONL archive holds."""
    bad = [
        (b'{"id": "%s", "text": ""}', "empty_text"),
        (b'{"id": "%s", "text": "   \\t "}', "empty_text"),
        (b'{"id": "%s", "text": "... ,,, --"}', "empty_text"),
        (b'{"id": "%s", "text": 42}', "bad_field"),
        (b'{"id": "%s", "tweet": "no text key"}', "bad_field"),
        (b'{"id": "%s", "text": "' + b"long " * 1200 + b'"}', "too_large"),
        (b'{"id": "%s", "text": "caf\xe9 cr\xe8me latin-1"}', "bad_encoding"),
        (b'{"id": "%s", "text": "lone \\ud800 surrogate"}', "bad_encoding"),
        (b'{"id": "%s", "text": "fine", "user": "\\udfff"}', "bad_encoding"),
        (b'{"id": "%s", "text": "nan", "user": NaN}', "bad_json"),
        (b'{"id": "%s", "text": "unclosed', "bad_json"),
        (b'not json at all %s', "bad_json"),
        (b'["an", "array", "%s"]', "bad_field"),
        (b'"a string %s"', "bad_field"),
        (b'{"id": "%s", "text": "' + b"x" * (MAX_LINE_CHARS + 10) + b'"}', "too_large"),  # a huge line
    ]
    kinds = ["good"] * good + list(range(len(bad))) + ["blank"] * 5
    rng.shuffle(kinds)
    lines, expected = [], []
    for number, kind in enumerate(kinds, start=1):
        key = f"{path.name}:{number}"
        if kind == "blank":
            lines.append(rng.choice([b"", b"   ", b"\t"]))
            continue
        if kind == "good":
            record = {"id": key, "text": tweet(rng)} | rng.choice(
                [{}, {"brand": "AirParadis"}, {"created_at": "2026-01-02T03:04:05Z", "lang": "en"},
                 {"user": {"screen_name": "x", "followers": 3}}])
            lines.append(json.dumps(record, ensure_ascii=rng.random() < 0.5).encode("utf-8"))
            expected.append(Line(path.name, number, key, "scored"))
            continue
        template, reason = bad[kind]
        lines.append(template.replace(b"%s", key.encode()))
        expected.append(Line(path.name, number, None, reason))
    data = b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"  # a BOM, as some exporters write
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data.replace(b"\n", b"\r\n", 3))  # a few Windows line ends too
    return expected


def csv_archive(path: Path, rng: random.Random, good: int) -> list[Line]:
    """A CSV export: header, quoted multi-line fields, and the bad rows such exports have."""
    rows = [b"id,text,brand,created_at"]
    expected, number = [], 2
    kinds = ["good"] * good + ["multiline", "empty", "nowords", "latin1", "long", "fields", "short", "bigfield",
                               "blank", "blank"]
    rng.shuffle(kinds)
    for kind in kinds:
        key = f"{path.name}:{number}"
        outcome, span = "scored", 1
        if kind == "good":
            text = tweet(rng).replace(",", " ")
            rows.append(f'{key},"{text}",{rng.choice(["", "AirParadis"])},'.encode())
        elif kind == "multiline":
            rows.append(f'{key},"delayed again,\n""really"" late",AirParadis,2026-01-01'.encode())
            span = 2
        elif kind == "blank":
            rows.append(b"")
            number += 1
            continue
        else:
            outcome, row = {
                "empty": ("empty_text", f"{key},,AirParadis,"),
                "nowords": ("empty_text", f"{key},... ---,,"),
                "latin1": ("bad_encoding", None),
                "long": ("too_large", f'{key},"{"long " * 1200}",,'),
                "fields": ("bad_csv", f"{key},too,many,fields,here"),
                "short": ("bad_csv", f"{key}"),
                "bigfield": ("bad_csv", f'{key},"{"x" * 200_000}",,'),  # beyond the csv module's field limit
            }[kind]
            rows.append(f"{key},caf\xe9 au lait,,".encode("latin-1") if row is None else row.encode())
        expected.append(Line(path.name, number, key if outcome == "scored" else None, outcome))
        number += span
    path.write_bytes(b"\n".join(rows) + b"\n")
    return expected


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[Line]]:
    directory = tmp_path_factory.mktemp("archive")
    rng = random.Random(14)
    expected = jsonl_archive(directory / "part-1.jsonl", rng, 300)
    expected += jsonl_archive(directory / "part-2.jsonl.gz", rng, 150)
    expected += csv_archive(directory / "export.csv", rng, 150)
    return directory, expected


def read_shards(prefix: Path) -> list[dict]:
    found = []
    for shard in sorted(prefix.parent.glob(prefix.name + "-[0-9][0-9][0-9][0-9][0-9]-of-*.jsonl")):
        found += [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    return found


def run_pipeline(archive_dir: Path, output: Path, *extra: str, capsys=None) -> tuple[list[dict], list[dict], str]:
    argv = ["--input", str(archive_dir / "*"), "--output", str(output / "scored"), *extra]
    if capsys is None:  # as a user runs it: its own process
        result = subprocess.run([sys.executable, "-m", "pipelines", "score", *argv], capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        stderr = result.stderr
    else:
        assert bulk.main(argv) == 0
        stderr = capsys.readouterr().err
    return read_shards(output / "scored"), read_shards(output / "scored-rejected"), stderr


def reference_scores(archive_dir: Path, tmp_path: Path) -> dict[str, dict]:
    """``python -m sentiment score`` on each file of the archive: its rows by id (scored ones only)."""
    scored = {}
    for source in sorted(archive_dir.iterdir()):
        plain = source
        if source.suffix == ".gz":  # the CLI reads plain files
            plain = tmp_path / source.stem
            plain.write_bytes(gzip.decompress(source.read_bytes()))
        output = tmp_path / f"{source.name}.out.jsonl"
        result = subprocess.run([sys.executable, "-m", "sentiment", "score", "--input", str(plain), "--output",
                                 str(output), "--quiet"], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        for row in map(json.loads, output.read_text(encoding="utf-8").splitlines()):
            if row.get("sentiment") is not None:
                scored[row["id"]] = row
    return scored


def check_accounting(expected: list[Line], scored: list[dict], rejected: list[dict]) -> None:
    ids = [message["id"] for message in scored]
    assert len(ids) == len(set(ids)), "a line scored twice"
    assert set(ids) == {line.id for line in expected if line.outcome == "scored"}
    refused = sorted((r["source"].rsplit("/", 1)[-1], r["line"], r["reason"]) for r in rejected)
    assert refused == sorted((line.source, line.line, line.outcome) for line in expected if line.outcome != "scored")
    for r in rejected:
        assert set(r) == {"reason", "error", "source", "line", "row"} and r["error"]
        assert len(json.dumps(r)) < 10_000  # a huge line is named, not copied


def test_every_line_in_exactly_one_output_with_the_cli_scores(archive, tmp_path, capsys):
    archive_dir, expected = archive
    scored, rejected, stderr = run_pipeline(archive_dir, tmp_path / "out", capsys=capsys)
    check_accounting(expected, scored, rejected)

    reference = reference_scores(archive_dir, tmp_path)
    assert set(reference) == {m["id"] for m in scored}  # the CLI scores the same lines, no more, no fewer
    for message in scored:
        cli = reference[message["id"]]
        assert message["text"] == cli["text"] and message["sentiment"] == cli["sentiment"]
        assert message["probability_positive"] == pytest.approx(cli["probability_positive"], abs=1e-6)
        for name, value in (cli.get("probabilities") or {}).items():  # the three-class outputs, when present
            assert message["probabilities"][name] == pytest.approx(value, abs=1e-6)
        assert all(message.get(key) == cli[key] for key in ("brand", "created_at", "lang", "user") if key in cli
                   and cli[key] != "")

    counts = {reason: sum(1 for line in expected if line.outcome == reason) for reason in {e.outcome for e in expected}}
    assert f"scored {counts.pop('scored'):,} tweets" in stderr
    assert f"rejected {sum(counts.values()):,} (" in stderr
    for reason, n in counts.items():
        assert f"{reason} {n:,}" in stderr
    assert "3 files read" in stderr


def test_two_worker_processes_give_the_same_outputs(archive, tmp_path):
    archive_dir, expected = archive
    scored, rejected, stderr = run_pipeline(archive_dir, tmp_path / "out", *TWO_CORES)
    check_accounting(expected, scored, rejected)
    assert len(list((tmp_path / "out").glob("scored-0000[0-9]-of-00002.jsonl"))) == 2  # both workers wrote a shard
    assert "Traceback" not in stderr


def test_a_file_without_a_text_column_is_one_rejection_naming_it(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("id,tweet\n1,hello\n")
    (tmp_path / "in" / "b.csv").write_text("")  # an empty shard: nothing to score, nothing lost
    (tmp_path / "in" / "c.jsonl").write_text('{"text": "lovely crew"}\n')
    scored, rejected, _ = run_pipeline(tmp_path / "in", tmp_path / "out", capsys=capsys)
    assert [m["text"] for m in scored] == ["lovely crew"]
    assert [(r["source"].rsplit("/", 1)[-1], r["line"], r["reason"]) for r in rejected] == [("a.csv", 1, "bad_input")]
    assert "no column 'text'" in rejected[0]["error"]


def test_no_matching_input_fails_with_a_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipelines", "score", "--input", str(tmp_path / "none-*.jsonl"),
                             "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "none-*.jsonl" in result.stderr


def test_options_take_both_spellings_and_leave_the_rest_to_beam():
    args, rest = bulk.parser().parse_known_args(["--input", "a", "--output", "b", "--bigquery_table", "p:d.t",
                                                 "--text_column", "tweet", "--runner", "DataflowRunner"])
    assert (args.bigquery_table, args.text_column, rest) == ("p:d.t", "tweet", ["--runner", "DataflowRunner"])


def test_bigquery_rows_follow_the_schema(archive, tmp_path, capsys):
    """A real scored message of this model becomes a row of the schema: every field declared, types as
    declared (no network: the conversion and the schema WriteToBigQuery is given)."""
    from apache_beam.io.gcp.bigquery_tools import parse_table_schema_from_json

    archive_dir, _ = archive
    scored, _, _ = run_pipeline(archive_dir, tmp_path / "out", capsys=capsys)
    schema = parse_table_schema_from_json(json.dumps(bulk.BIGQUERY_SCHEMA))
    types = {field.name: (field.type, field.mode) for field in schema.fields}
    python = {"STRING": str, "FLOAT64": float, "TIMESTAMP": str, "RECORD": dict}
    for message in scored:
        row = bulk.bigquery_row(message)
        for name, value in row.items():
            kind, mode = types[name]
            assert value is not None or mode == "NULLABLE", name
            assert value is None or isinstance(value, python[kind]), (name, value)
        if "user" in message:
            assert json.loads(row["user"]) == message["user"]
    with pytest.raises(ValueError, match="not in the BigQuery schema"):
        bulk.bigquery_row({**scored[0], "surprise": 1})
