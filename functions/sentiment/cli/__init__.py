"""``python -m sentiment``: command-line tools around the serving library.

    python -m sentiment score --input tweets.csv --output scored.csv

Local tooling: this subpackage (and ``sentiment/__main__.py``) is left out of the functions' zip.
"""

from __future__ import annotations

import argparse

from ..text import MAX_CHARS


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m sentiment", description="Tweet sentiment tools.")
    commands = root.add_subparsers(dest="command", required=True)

    score = commands.add_parser(
        "score",
        help="score a CSV or JSONL file of tweets",
        description="Write every input row plus probability_positive (the polarity P(pos) / (P(pos) + P(neg))), "
        "sentiment (negative, neutral or positive), the three probabilities and model_version. Rows that cannot "
        "be scored keep empty scores and are reported on stderr with their line number.",
    )
    score.add_argument("--input", required=True, help="CSV (with a header) or JSONL file; - for stdin")
    score.add_argument("--text-column", default="text", help="column or key holding the tweet (default: text)")
    score.add_argument("--output", help="output file: CSV if it ends in .csv, JSONL otherwise (default: stdout)")
    score.add_argument("--model", help="bundle directory, model store or gs:// URI (default: the committed model)")
    score.add_argument("--input-format", choices=("csv", "jsonl"), help="default: from the file name or content")
    score.add_argument("--encoding", default="utf-8", help="input encoding (default: utf-8; e.g. latin-1)")
    score.add_argument("--max-chars", type=int, default=MAX_CHARS,
                       help=f"longer texts are reported, not scored (default: {MAX_CHARS:,})")
    score.add_argument("--strict", action="store_true", help="exit with status 1 if any row was not scored")
    score.add_argument("--quiet", action="store_true", help="no progress bar or summary (bad rows still reported)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "score":
        from .score import main_score

        return main_score(args)
    return 2
