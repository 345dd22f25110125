"""The rendered examples of docs/notifications.md, from the code: ``python -m tests.notify_docs`` rewrites them.

Each example sits between ``<!-- rendered: NAME -->`` and ``<!-- /rendered -->`` (a fenced block);
tests/test_notify_formats.py checks that the page holds exactly what the code renders today.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from devstack.chat_render import as_text
from sentiment.alert_payload import parse_alert_object
from sentiment.notify.notifier import GOOGLE_CHAT, SLACK, render

from .notify_support import bad_buzz, resolved

PAGE = Path(__file__).resolve().parents[1] / "docs" / "notifications.md"
DASHBOARD = "https://console.cloud.google.com/monitoring/dashboards/builder/1234abcd?project=air-paradis"
BLOCK = re.compile(r"(<!-- rendered: ([\w-]+) -->\n)(.*?)(<!-- /rendered -->)", re.S)


def examples() -> dict[str, str]:
    """Block name -> the fenced block the page must hold."""
    found = {}
    for fmt in (SLACK, GOOGLE_CHAT):
        for payload in (bad_buzz(), resolved()):
            body, query = render(fmt, parse_alert_object(payload), DASHBOARD)
            name = f"{fmt}-{payload['type']}"
            found[f"{name}-json"] = "```json\n" + json.dumps(body, indent=2, ensure_ascii=False) + "\n```\n"
            if query:
                found[f"{name}-query"] = "```text\n" + "&".join(f"{k}={v}" for k, v in query.items()) + "\n```\n"
            found[f"{name}-text"] = "```text\n" + as_text(body, query) + "\n```\n"
    return found


def rendered(text: str) -> str:
    wanted = examples()
    return BLOCK.sub(lambda m: m.group(1) + wanted.get(m.group(2), m.group(3)) + m.group(4), text)


def blocks(text: str) -> dict[str, str]:
    return {m.group(2): m.group(3) for m in BLOCK.finditer(text)}


if __name__ == "__main__":
    PAGE.write_text(rendered(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the rendered examples of {PAGE}")
