"""The program a Flex Template runs: ``python -m pipelines $PIPELINES_COMMAND`` with the launcher's arguments.

Dataflow's Python template launcher runs ``python FLEX_TEMPLATE_PYTHON_PY_FILE --name=value ...``: the
template's parameters (named as the command's option dest names, underscore spelling) and the job's
pipeline options. The launcher must submit the job and return, so ``--no-wait`` is added: a program that
waits for its job to end holds the launch until it times out.
Which command an image runs is fixed when the image is built (``--build-arg
COMMAND=stream|score``, pipelines/flex/Dockerfile), so that a template cannot run another pipeline.
"""

from __future__ import annotations

import os
import sys

COMMANDS = ("stream", "score")


def main(argv: list[str] | None = None) -> int:
    command = os.environ.get("PIPELINES_COMMAND", "")
    if command not in COMMANDS:
        print(f"PIPELINES_COMMAND must be one of {', '.join(COMMANDS)} (set by the image), not {command!r}",
              file=sys.stderr)
        return 2
    from pipelines.__main__ import main as pipelines_main

    return pipelines_main([command, *(sys.argv[1:] if argv is None else argv), "--no-wait"])


if __name__ == "__main__":
    sys.exit(main())
