"""Server-Sent Events wire encoding.

Every event is ONE block, ``data: <one-line JSON>\\n\\n``: JSON escapes newlines inside
strings, so a naive reader that splits on blank lines and strips ``data: `` keeps working."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wayfarer.events import error_data
from wayfarer.json_text import one_line

MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": ping\n\n"


def encode_event(event: Mapping[str, Any]) -> bytes:
    return b"data: " + one_line(event) + b"\n\n"


def encode_part(event: Mapping[str, Any], with_id: bool) -> bytes:
    """LangGraph Server's wire format: ``event: <mode>``, ``data: <one-line JSON>`` and, for a
    resumable stream, ``id: <seq>``. A run's end is the stream closing (nothing is sent); the
    seed-shaped error a join makes for a run that vanished becomes LangGraph's error."""
    name: str = event["event"]
    if name in ("end", "complete", "interrupt"):
        return b""
    data = error_data(event) if name == "error" else event.get("data")
    block = b"event: " + name.encode() + b"\ndata: " + one_line(data) + b"\n"
    if with_id:
        block += b"id: " + str(event["seq"]).encode() + b"\n"
    return block + b"\n"
