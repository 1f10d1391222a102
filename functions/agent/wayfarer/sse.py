"""Server-Sent Events wire encoding.

Every event is ONE block, ``data: <one-line JSON>\\n\\n``: JSON escapes newlines inside
strings, so a naive reader that splits on blank lines and strips ``data: `` keeps working."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wayfarer.events import error_data

MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": ping\n\n"
# JSON leaves these unescaped, and some line readers split on them.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"})


def _json_line(data: Any) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        payload.encode()
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8: escape everything rather than cut the stream.
        payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"), default=str)
    return payload.translate(_LINE_BREAKS)


def encode_event(event: Mapping[str, Any]) -> bytes:
    return f"data: {_json_line(event)}\n\n".encode()


def encode_part(event: Mapping[str, Any], with_id: bool) -> bytes:
    """LangGraph Server's wire format: ``event: <mode>``, ``data: <one-line JSON>`` and, for a
    resumable stream, ``id: <seq>``. A run's end is the stream closing (nothing is sent); the
    seed-shaped error a join makes for a run that vanished becomes LangGraph's error."""
    name = event["event"]
    if name in ("end", "complete", "interrupt"):
        return b""
    data = error_data(event) if name == "error" else event.get("data")
    block = f"event: {name}\ndata: {_json_line(data)}\n"
    if with_id:
        block += f"id: {event['seq']}\n"
    return (block + "\n").encode()
