"""Server-Sent Events wire encoding.

Every event is ONE block, ``data: <one-line JSON>\\n\\n``: JSON escapes newlines inside
strings, so a naive reader that splits on blank lines and strips ``data: `` keeps working."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": ping\n\n"


def encode_event(event: Mapping[str, Any]) -> bytes:
    payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"data: {payload}\n\n".encode()
