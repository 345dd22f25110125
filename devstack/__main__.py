"""``python -m devstack``: the local stack (see docs/local_stack.md).

    up       start emulators, the functions and the bad-buzz pipeline; Ctrl-C stops all (make run)
    down     stop a stack from another terminal, or what a killed one left (make dev-down)
    logs     the tail of every process log; -f follows them (make logs)
    replay   publish tweets from a file to the stack and watch scores and alerts (make replay)
    publish  publish one tweet (JSON or text) and print its scored result

Ports, the state directory and the number of scoring instances come from the environment: see
devstack/stack.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the stack in the foreground (Ctrl-C stops it)")
    commands.add_parser("down", help="stop a running stack, or what a killed one left")
    logs = commands.add_parser("logs", help="tail the stack's logs")
    logs.add_argument("name", nargs="?", help="one process: pubsub-emulator, fake-gcs-server, predict-http, "
                                              "score-pubsub, notify-alert, webhook-receiver, buzz-pipeline "
                                              "(default: all)")
    logs.add_argument("-n", "--lines", type=int, default=20)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (Ctrl-C stops)")
    replay = commands.add_parser("replay", help="publish tweets to the running stack and follow the results")
    replay.add_argument("file", nargs="?", default="examples/bad_buzz.jsonl", help="JSONL or CSV of tweets")
    replay.add_argument("--rate", type=float, default=40.0,
                        help="tweets per second (0: as fast as possible); the demo's 2,298 tweets: about a minute")
    replay.add_argument("--text-column", default="text", help="the CSV column holding the text")
    replay.add_argument("--follow-seconds", type=float, default=30.0,
                        help="after the last tweet, give up waiting after this long without a new result")
    publish = commands.add_parser("publish", help="publish one tweet to the stack and print its scored result")
    publish.add_argument("data", help='a tweet JSON (\'{"id": "1", "text": "..."}\') or plain text')
    args = parser.parse_args(argv)

    from .emulators import EmulatorError
    from .stack import Ports, Stack, run_forever, silence_output, state_dir, stop_recorded

    if args.command == "up":
        try:
            stack = Stack(Ports.from_env())
        except EmulatorError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return run_forever(stack)
    if args.command == "down":
        return stop_recorded()
    if args.command == "logs":
        try:
            return show_logs(state_dir() / "logs", args.name, args.lines, args.follow)
        except BrokenPipeError:  # `make logs | head`: the reader has what it wanted
            silence_output()
            return 0
    if args.command == "publish":
        from .publish import publish as publish_one

        return publish_one(args.data)
    from .replay import replay as run_replay

    try:
        return run_replay(args.file, args.rate, args.text_column, args.follow_seconds)
    except KeyboardInterrupt:
        return 130


def show_logs(directory: Path, name: str | None, lines: int, follow: bool) -> int:
    every = sorted(directory.glob("*.log"))
    if not every:
        print(f"no logs in {directory}: has `make run` been started?", file=sys.stderr)
        return 1
    logs = [log for log in every if name is None or log.stem == name]
    if not logs:
        print(f"no process named {name!r}; the stack's logs: {', '.join(log.stem for log in every)}", file=sys.stderr)
        return 1
    offsets = {}
    for log in logs:
        text = log.read_text(errors="replace")
        offsets[log] = len(text.encode())
        print(f"==> {log.name} <==", *text.splitlines()[-lines:], "", sep="\n")
    if not follow:
        return 0
    try:
        while True:
            for log in logs:
                size = log.stat().st_size if log.exists() else 0
                if size < offsets[log]:  # a new `up` truncated it
                    offsets[log] = 0
                if size > offsets[log]:
                    with open(log, "rb") as handle:
                        handle.seek(offsets[log])
                        chunk = handle.read()
                    offsets[log] += len(chunk)
                    for line in chunk.decode(errors="replace").splitlines():
                        print(f"{log.stem}| {line}", flush=True)
            time.sleep(0.3)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
