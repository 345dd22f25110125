"""``python -m pipelines COMMAND ...``: each command lives in its own module, imported on demand
(Beam takes seconds to import; ``--help`` should not)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "stream": ("pipelines.stream", "bad-buzz detection over the scored-tweet stream (Pub/Sub in, alerts out)"),
    "backtest": ("pipelines.backtest", "the bad-buzz transforms over a JSONL file of tweets: what would have fired"),
    "score": ("pipelines.bulk", "score archived tweets (JSONL/CSV, local or gs://) with the serving bundle"),
}


def usage() -> str:
    lines = ["usage: python -m pipelines COMMAND [options]   (COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<9} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
