"""``python -m sentiment score``: every input row comes out, scored or with the reason it was not.

A row that cannot be scored (no text, wrong type, not decodable, too long, no scorable token) is
written with empty scores, reported on stderr with its line number, and counted in the summary:
nothing is silently dropped. Texts are checked and scored exactly as the functions check and score
them (``payloads.check_text``, ``scoring.Scorer``).
"""

from __future__ import annotations

import sys
from typing import IO

from ..errors import InputError, Rejected, SentimentError
from ..payloads import CheckedText, check_text
from ..rows import Row, detect_format, open_text, read_csv, read_jsonl
from ..scoring import Scorer
from ..text import MAX_CHARS
from .rows import Summary, Writer, rename_clashes, rename_fields

SOURCE = "file"
# Hints a file's author can act on, added to the rejection's own message.
HINTS = {"bad_encoding": " (try --encoding latin-1)", "too_large": " (an unclosed quote?)"}


def row_text(row: Row, text_column: str, max_chars: int) -> CheckedText | None:
    """The row's text checked as the functions check it, or None after setting ``row.error``."""
    if row.error:
        return None
    if text_column not in row.record:
        row.error = f"no {text_column!r} field"
        return None
    try:
        return check_text(row.record[text_column], text_column, max_chars)
    except Rejected as rejected:
        row.error = rejected.message + HINTS.get(rejected.reason, "")
        return None


def score_stream(
    scorer: Scorer,
    source: IO[str],
    sink: IO[str],
    *,
    input_format: str,
    output_csv: bool,
    text_column: str = "text",
    max_chars: int = MAX_CHARS,
    progress=None,
) -> Summary:
    summary = Summary()
    if input_format == "csv":
        header, rows = read_csv(source, text_column)
        renamed = rename_clashes(header)
        mapping = dict(zip(header, renamed, strict=True))
        rows = (rename_fields(row, mapping) for row in rows)
        writer = Writer(sink, output_csv, renamed)
    else:
        rows = read_jsonl(source)
        if output_csv:  # the columns are known only once every object has been read
            buffered = list(rows)
            names = list(dict.fromkeys(k for r in buffered if r.record for k in r.record))
            rows = iter(buffered)
            writer = Writer(sink, True, names)
        else:
            writer = Writer(sink, False, None)
    for row in rows:
        summary.rows += 1
        checked = row_text(row, text_column, max_chars)
        probability = sentiment = None
        if checked is not None:
            (prediction,) = scorer.score([checked], SOURCE)
            probability, sentiment = prediction.probability_positive, prediction.sentiment
            summary.scored += 1
        if row.error:
            summary.bad.append((row.line, row.error))
        writer.write(row, probability, sentiment)
        if progress is not None:
            progress.update()
    return summary


def _progress_bar(version: str):
    """tqdm when installed (dev and converter environments); the deployed functions do without."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit=" tweets", desc=f"scoring ({version})", file=sys.stderr)


def main_score(args) -> int:
    """``python -m sentiment score``; returns the exit status."""
    from .. import model as models
    from ..config import DEFAULT_MODEL_STORE

    try:
        binary = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    except OSError as error:
        print(f"error: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return 2
    input_format = args.input_format or detect_format(args.input, binary)
    try:
        model = models.load(args.model or DEFAULT_MODEL_STORE)
    except SentimentError as error:
        print(f"error: cannot load the model: {error}", file=sys.stderr)
        return 2
    output_csv = bool(args.output and args.output.lower().endswith(".csv"))
    sink = sys.stdout if args.output in (None, "-") else open(  # noqa: SIM115
        args.output, "w", encoding="utf-8", newline=""
    )
    progress = _progress_bar(model.version) if sys.stderr.isatty() and not args.quiet else None
    try:
        summary = score_stream(
            Scorer(lambda: model), open_text(binary, args.encoding), sink, input_format=input_format,
            output_csv=output_csv, text_column=args.text_column, max_chars=args.max_chars, progress=progress,
        )
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (LookupError, UnicodeError) as error:
        print(f"error: cannot decode the input: {error}", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
        if sink is not sys.stdout:
            sink.close()
        if binary is not sys.stdin.buffer:
            binary.close()
    if not args.quiet or summary.bad:
        summary.report(sys.stderr)
    return 1 if (args.strict and summary.bad) else 0
