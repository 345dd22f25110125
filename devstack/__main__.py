"""``python -m devstack``: the local stack.

    up       start emulators + both functions on the committed model; Ctrl-C stops all (make run)
    down     stop a stack that was left running (make dev-down)
    replay   publish tweets from a file to the stack and watch scores and alerts (make replay)
    logs     print the tail of every process log (make logs)
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the stack in the foreground (Ctrl-C stops it)")
    commands.add_parser("down", help="stop a stack left running")
    logs = commands.add_parser("logs", help="tail the stack's logs")
    logs.add_argument("--lines", type=int, default=20)
    replay = commands.add_parser("replay", help="publish tweets to the running stack and follow the results")
    replay.add_argument("file", nargs="?", default="examples/bad_buzz.jsonl", help="JSONL or CSV of tweets")
    replay.add_argument("--rate", type=float, default=20.0, help="tweets per second (0: as fast as possible)")
    replay.add_argument("--text-column", default="text")
    replay.add_argument("--follow-seconds", type=float, default=15.0,
                        help="keep following results this long after the last tweet")
    args = parser.parse_args(argv)

    from .emulators import EmulatorError
    from .stack import STATE_DIR, Ports, Stack, run_forever, stop_recorded

    if args.command == "up":
        try:
            return run_forever(Stack(Ports.from_env()))
        except EmulatorError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    if args.command == "down":
        if not stop_recorded():
            print("no local stack is recorded as running")
        return 0
    if args.command == "logs":
        for log in sorted((STATE_DIR / "logs").glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-args.lines:]
            print(f"==> {log.name} <==", *lines, sep="\n")
        return 0
    from .replay import replay as run_replay

    return run_replay(args.file, args.rate, args.text_column, args.follow_seconds)


if __name__ == "__main__":
    sys.exit(main())
