"""``python -m pipelines score``: score archived tweets with the serving bundle, on Beam.

    python -m pipelines score --input 'archive/*.jsonl.gz' --output scored/tweets [--rejected scored/rejected]
        [--model DIR|gs://bucket/prefix] [--bigquery-table PROJECT:DATASET.TABLE] [Beam pipeline options...]

Reads every file matching ``--input`` (``pipelines.rows``), scores each tweet (``pipelines.scoring``) and
writes the ``tweets-scored`` messages as JSONL shards ``PREFIX-00000-of-000NN.jsonl`` (and, with
``--bigquery-table``, to BigQuery), and every line that could not be scored, with its reason, file and line, to
the ``--rejected`` shards (default ``PREFIX-rejected``). Nothing is dropped: each non-blank line of the input
ends in exactly one of the two outputs. Counters per outcome (Beam metrics, namespace ``sentiment``) make the
final summary; on a terminal, a progress line while the job runs.

Options other than these are Beam's (``--runner DataflowRunner --project ... --region ...``,
``--direct_num_workers 2 --direct_running_mode multi_processing``). Each hyphenated option also accepts its
underscore spelling (``--bigquery_table``): Flex Templates pass parameters by their names.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sentiment.text import MAX_CHARS

# The BigQuery table of scored tweets: every field of a tweets-scored message. Object-valued fields with no
# fixed shape (the author ``user``) are JSON text; ``probabilities`` has the model's three classes.
BIGQUERY_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "id", "type": "STRING", "mode": "NULLABLE"},
    {"name": "text", "type": "STRING", "mode": "REQUIRED"},
    {"name": "created_at", "type": "STRING", "mode": "NULLABLE", "description": "As the archive had it."},
    {"name": "brand", "type": "STRING", "mode": "NULLABLE"},
    {"name": "user", "type": "STRING", "mode": "NULLABLE", "description": "JSON text."},
    {"name": "lang", "type": "STRING", "mode": "NULLABLE"},
    {"name": "sentiment", "type": "STRING", "mode": "REQUIRED"},
    {"name": "probabilities", "type": "RECORD", "mode": "NULLABLE", "fields": [
        {"name": name, "type": "FLOAT64", "mode": "NULLABLE"} for name in ("negative", "neutral", "positive")]},
    {"name": "probability_positive", "type": "FLOAT64", "mode": "REQUIRED"},
    {"name": "model_version", "type": "STRING", "mode": "REQUIRED"},
    {"name": "scored_at", "type": "TIMESTAMP", "mode": "REQUIRED"},
    {"name": "source_message_id", "type": "STRING", "mode": "NULLABLE"},
]}
_BIGQUERY_TYPES = {field["name"]: field["type"] for field in BIGQUERY_SCHEMA["fields"]}


def bigquery_row(message: dict[str, Any]) -> dict[str, Any]:
    """A tweets-scored message as a row of ``BIGQUERY_SCHEMA``. A field the schema does not know is an error
    here (the message changed shape: the schema must follow), not a load job failing later."""
    unknown = set(message) - set(_BIGQUERY_TYPES)
    if unknown:
        raise ValueError(f"fields not in the BigQuery schema: {sorted(unknown)}")
    row = {}
    for name, value in message.items():
        if _BIGQUERY_TYPES[name] == "STRING" and value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, allow_nan=False)
        row[name] = value
    return row


def json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines score", description=__doc__.splitlines()[0],
                                     epilog="Other options are Beam pipeline options.")

    def option(name: str, **kwargs) -> None:
        spellings = [name] + (["--" + name[2:].replace("-", "_")] if "-" in name[2:] else [])
        parser.add_argument(*spellings, dest=name[2:].replace("-", "_"), **kwargs)

    option("--input", required=True, help="file path or glob, local or gs:// (JSONL, or CSV with a header; "
                                          ".gz read as such)")
    option("--output", required=True, help="prefix of the scored JSONL shards (local or gs://)")
    option("--rejected", help="prefix of the rejected-line shards (default: OUTPUT-rejected)")
    option("--model", help="bundle directory or gs://bucket/prefix, LATEST followed (default: the committed one)")
    option("--bigquery-table", help="also write to this table (PROJECT:DATASET.TABLE), created if needed")
    option("--input-format", choices=("jsonl", "csv"), help="default: from each file's name or first bytes")
    option("--text-column", default="text", help="CSV column or JSON key holding the tweet (default: text)")
    option("--max-chars", type=int, default=MAX_CHARS, help=f"longer texts are rejected (default: {MAX_CHARS:,})")
    option("--quiet", action="store_true", help="no progress line, no summary")
    option("--no-wait", action="store_true",
           help="on Dataflow: submit the job and return (what a Flex Template launcher needs); no summary")
    return parser


def build(pipeline, args, tap=None) -> None:
    """The job: read, score, write both outputs (and BigQuery). ``tap(pcollection, name)`` may count the
    elements of both outputs on their way out (the progress line)."""
    import apache_beam as beam

    from pipelines.rows import ReadTweetFiles
    from pipelines.scoring import REJECTED, ScoreTweets

    records, unreadable = pipeline | "Read" >> ReadTweetFiles(args.input, args.input_format, args.text_column)
    scored = records | "Score" >> ScoreTweets(args.model, args.max_chars)
    tap = tap or (lambda pcollection, name: pcollection)
    (tap(scored.scored, "Count scored") | "Scored as JSON" >> beam.Map(json_line)
     | "Write scored" >> beam.io.WriteToText(args.output, file_name_suffix=".jsonl"))
    (tap((unreadable, scored[REJECTED]) | "All rejected" >> beam.Flatten(), "Count rejected")
     | "Rejected as JSON" >> beam.Map(json_line)
     | "Write rejected" >> beam.io.WriteToText(args.rejected or f"{args.output}-rejected", file_name_suffix=".jsonl"))
    if args.bigquery_table:
        (scored.scored | "As BigQuery rows" >> beam.Map(bigquery_row)
         | "Write BigQuery" >> beam.io.WriteToBigQuery(
             args.bigquery_table, schema=BIGQUERY_SCHEMA,
             create_disposition=beam.io.BigQueryDisposition.CREATE_IF_NEEDED,
             write_disposition=beam.io.BigQueryDisposition.WRITE_APPEND,
             method=beam.io.WriteToBigQuery.Method.FILE_LOADS))


def input_problem(pattern: str) -> str | None:
    """Why ``--input`` cannot be read, checked before a job starts (a job over nothing is a mistake)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        (matched,) = FileSystems.match([pattern])
    except Exception as error:  # BeamIOError, a filesystem Beam does not know, missing credentials...
        return f"cannot list {pattern}: {error}"[:500]
    return None if matched.metadata_list else f"no file matches {pattern}"


def summary(totals: dict[str, int]) -> str:
    rejected = {name.removeprefix("rejected_"): n for name, n in sorted(totals.items()) if name.startswith("rejected_")}
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in rejected.items())
    return (f"scored {totals.get('scored', 0):,} tweets; rejected {sum(rejected.values()):,}"
            + (f" ({reasons})" if reasons else "") + f"; {totals.get('blank_lines', 0):,} blank lines skipped; "
            f"{totals.get('files', 0):,} files read")


def main(argv: list[str] | None = None) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    args, beam_args = parser().parse_known_args(argv)
    options = PipelineOptions(beam_args)
    problem = input_problem(args.input)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    import apache_beam as beam

    from pipelines import progress

    with progress.Reporter(options, enabled=not args.quiet and sys.stderr.isatty(), wait=not args.no_wait) as reporter:
        pipeline = beam.Pipeline(options=reporter.options)
        build(pipeline, args, reporter.tap)
        result = reporter.run(pipeline)
    if args.no_wait and reporter.remote:
        print(f"submitted job {getattr(result, 'job_id', lambda: '?')()}", file=sys.stderr)
    elif not args.quiet:
        print(summary(progress.counters(result)), file=sys.stderr)
    return 0
