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
    cli_scores: bool = False  # refused for a field other than the text: python -m sentiment score scores it


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
        # a tweets-scored message needs a readable time and brand: the CLI, which scores text only, takes them
        (b'{"id": "%s", "text": "late again", "created_at": "2026-01-01"}', "bad_field"),
        (b'{"id": "%s", "text": "late again", "created_at": 1767225600}', "bad_field"),
        (b'{"id": "%s", "text": "late again", "brand": ["AirParadis"]}', "bad_field"),
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
                 {"created_at": "Wed Oct 10 20:19:24 +0000 2018"},
                 {"user": {"screen_name": "x", "followers": 3}}])
            lines.append(json.dumps(record, ensure_ascii=rng.random() < 0.5).encode("utf-8"))
            expected.append(Line(path.name, number, key, "scored"))
            continue
        template, reason = bad[kind]
        lines.append(template.replace(b"%s", key.encode()))
        cli_scores = b"created_at" in template or b"brand" in template
        expected.append(Line(path.name, number, key if cli_scores else None, reason, cli_scores))
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
            rows.append(f'{key},"delayed again,\n""really"" late",AirParadis,2026-01-01T08:00:00+01:00'.encode())
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
    assert ids, "nothing scored"
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
    # the CLI scores the same lines, no more, no fewer (but those whose time or brand no message can carry)
    assert set(reference) == {m["id"] for m in scored} | {line.id for line in expected if line.cli_scores}
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


def test_gs_input_through_fake_gcs(fake_gcs, bucket, tmp_path):
    """A ``gs://`` pattern in, through Beam's GCS filesystem against fake-gcs-server (which has no batch API,
    so the shards Beam renames into place are written locally here)."""
    from converter import gcs

    rows = [{"id": str(i), "text": f"flight {i} was late again"} for i in range(30)] + [{"id": "x", "text": ""}]
    gcs.client().bucket(bucket).blob("archive/2026-11/part-0.jsonl").upload_from_string(
        "\n".join(json.dumps(row) for row in rows[:20]) + "\n")
    gcs.client().bucket(bucket).blob("archive/2026-11/part-1.jsonl.gz").upload_from_string(
        gzip.compress(("\n".join(json.dumps(row) for row in rows[20:]) + "\n").encode()))
    gcs.client().bucket(bucket).blob("archive/2026-10/other.jsonl").upload_from_string('{"text": "not this"}\n')
    result = subprocess.run([sys.executable, "-m", "pipelines", "score", "--input", f"gs://{bucket}/archive/2026-11/*",
                             "--output", str(tmp_path / "scored")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(m["id"] for m in read_shards(tmp_path / "scored")) == sorted(str(i) for i in range(30))
    assert [(r["source"], r["line"], r["reason"]) for r in read_shards(tmp_path / "scored-rejected")] == [
        (f"gs://{bucket}/archive/2026-11/part-1.jsonl.gz", 11, "empty_text")]
    assert "scored 30 tweets; rejected 1 (empty_text 1)" in result.stderr
    missing = subprocess.run([sys.executable, "-m", "pipelines", "score", "--input", f"gs://{bucket}/none/*",
                              "--output", str(tmp_path / "none")], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and f"no file matches gs://{bucket}/none/*" in missing.stderr


def test_a_progress_line_on_a_terminal(tmp_path):
    """On a terminal (a real pseudo-terminal here) the running count is redrawn in place, then the summary."""
    import os
    import pty

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": f"late flight number {i}"}) + "\n" for i in range(3000)))
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "pipelines", "score", "--input", str(source), "--output",
                                    str(tmp_path / "out" / "scored")], stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=600) == 0, seen[-2000:]
    finally:
        os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert "\r3,000 lines done in" in text  # the last redraw counts every line
    assert "scored 3,000 tweets; rejected 0; 0 blank lines skipped; 1 files read" in text
