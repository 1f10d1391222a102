"""Compact UTF-8 JSON for the paths every event takes: the stream, the event log and the graph's
output. orjson (already in the layer: langsmith and langgraph-sdk depend on it) writes a token
event 7x faster than ``json`` here (0.6 against 4.6 us); ``json`` still writes what orjson
refuses, so a value never fails here that ``json`` would have written.

What the two write the same: key order, compact separators, non-string keys as strings, str,
int, float and dict subclasses as their base type, tuples (named ones too) as lists, dates and
dataclasses through ``default``. Where they differ, orjson's is kept: NaN and the
infinities become ``null`` (``json`` writes ``NaN``, which no JSON parser in a browser reads),
and an ``Enum`` becomes its value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Dates and dataclasses go to ``default``, as ``json`` sends them: one text whichever writes it.
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# orjson writes these as they are; JSON parsers accept them, but line readers split on them.
_LINE_BREAKS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"), (b"\xc2\x85", b"\\u0085"))


def dumps(value: Any, default: Callable[[Any], Any] = str) -> bytes:
    """``value`` as compact JSON in UTF-8, ``default`` called for what JSON has no type for.
    An int beyond 64 bits or a lone surrogate (not UTF-8) is written by ``json``, the
    surrogate escaped."""

    def fallback(obj: Any) -> Any:
        # orjson leaves tuple and float subclasses to ``default``; ``json`` writes them as
        # lists and numbers.
        if isinstance(obj, tuple):
            return list(obj)
        return float(obj) if isinstance(obj, float) else default(obj)

    try:
        return orjson.dumps(value, default=fallback, option=OPTIONS)
    except orjson.JSONEncodeError:
        text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode()
        except UnicodeEncodeError:
            return json.dumps(value, default=default, ensure_ascii=True, separators=(",", ":")).encode()


def one_line(value: Any) -> bytes:
    """``dumps`` with every character that some line reader takes for a line break escaped:
    JSON already escapes ``\\n`` and ``\\r`` inside strings."""
    payload = dumps(value)
    if b"\xe2\x80" in payload or b"\xc2\x85" in payload:
        for raw, escaped in _LINE_BREAKS:
            payload = payload.replace(raw, escaped)
    return payload


def loads(data: bytes | str) -> Any:
    """The value of a JSON text; one that escapes a lone surrogate (``dumps`` writes those) is
    read by ``json``, which orjson refuses."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
