"""Two ways to read a run stream: the seed's naive reader and a spec-compliant parser."""

from __future__ import annotations

import json
from typing import Any

import httpx
from httpx_sse import connect_sse


def naive_reader(chunks: list[bytes]) -> list[dict[str, Any]]:
    """A port of the seed's client.ts: split on blank lines, keep `data: ` blocks, JSON.parse."""
    events: list[dict[str, Any]] = []
    buffer = ""
    decoder_tail = b""
    for chunk in chunks:
        data = decoder_tail + chunk
        # TextDecoder({stream: true}) keeps an incomplete UTF-8 sequence for the next chunk.
        try:
            text, decoder_tail = data.decode(), b""
        except UnicodeDecodeError as exc:
            text, decoder_tail = data[: exc.start].decode(), data[exc.start :]
        buffer += text
        blocks = buffer.split("\n\n")
        buffer = blocks.pop()
        events += [json.loads(b[len("data: ") :]) for b in blocks if b.startswith("data: ")]
    return events


def spec_reader(client: httpx.Client, body: dict[str, Any]) -> tuple[list[dict[str, Any]], httpx.Response]:
    events: list[dict[str, Any]] = []
    with connect_sse(client, "POST", "/runs/stream", json=body) as source:
        source.response.raise_for_status()
        events = [json.loads(sse.data) for sse in source.iter_sse()]
        return events, source.response


def raw_stream(client: httpx.Client, body: dict[str, Any]) -> tuple[list[bytes], httpx.Response]:
    with client.stream("POST", "/runs/stream", json=body) as response:
        return list(response.iter_raw()), response


def stream(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Events of one run, via the spec-compliant reader."""
    return spec_reader(client, body)[0]


def nodes_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["node"] for e in events if e["event"] == "node"]
