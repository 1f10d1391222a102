"""The JSON every event is written with (orjson, ``json`` for what orjson refuses) says what
``json`` said before, so the stream, the event log and stored logs read the same."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

import pytest

from wayfarer import json_text
from wayfarer.sse import encode_part

Task = namedtuple("Task", "id name")


@dataclasses.dataclass
class Interrupt:
    value: str


class Kind(str):
    pass


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, None, True, "é ü 東京"]},
        {"task": Task("t1", "research"), "pair": (1, 2)},
        {1: "int key", None: "null key", 2.5: "float key"},
        {"at": datetime(2026, 11, 24, 21, 0, tzinfo=UTC), "interrupt": Interrupt("go on")},
        {"kind": Kind("plan"), "big": 2**70, "set": {"only"}},
    ],
    ids=["plain", "tuples", "keys", "through default", "subclass, big int, set"],
)
def test_the_text_is_what_json_writes(value: Any) -> None:
    assert json_text.dumps(value) == as_json(value)


def test_a_lone_surrogate_is_escaped_and_read_back() -> None:
    text = json_text.dumps({"text": "cut \ud800 here"})
    text.decode()  # valid UTF-8
    assert json_text.loads(text) == {"text": "cut \ud800 here"}


def test_not_a_number_is_null_which_every_json_parser_reads() -> None:
    assert json_text.loads(json_text.dumps([math.nan, math.inf])) == [None, None]


def test_every_unicode_line_break_is_escaped_in_a_stream_part() -> None:
    part = encode_part({"event": "updates", "data": {"t": "a\u2028b\u2029c\u0085d\ne"}, "seq": 7}, True)
    lines = part.decode().split("\n")
    assert lines[:3] == ["event: updates", 'data: {"t":"a\\u2028b\\u2029c\\u0085d\\ne"}', "id: 7"]
    assert json.loads(lines[1][6:]) == {"t": "a\u2028b\u2029c\u0085d\ne"}
