"""The wire contract of POST /runs/stream (docs/api.md, the seed's event shapes)."""

from __future__ import annotations

import json

import httpx

from tests.conftest import run_body
from tests.sse_clients import naive_reader, raw_stream, spec_reader
from wayfarer.sse import encode_event


def test_naive_seed_reader_and_spec_parser_see_the_same_events(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris", use_hitl=False)
    chunks, response = raw_stream(client, body)
    # The same run again on a new thread, read by a spec-compliant parser.
    spec_events, _ = spec_reader(client, run_body(message="Write about visiting Paris", use_hitl=False))

    naive_events = naive_reader(chunks)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"

    def comparable(events: list[dict]) -> list[tuple]:
        def data(event: dict) -> str:
            # Two runs: everything is the same but each message's own (random) id.
            message = {k: v for k, v in event.get("data", {}).get("message", {}).items() if k != "id"}
            return json.dumps({**event.get("data", {}), "message": message} if message else event.get("data"))

        return [(e["event"], e.get("node"), e.get("delta"), data(e)) for e in events]

    assert comparable(naive_events) == comparable(spec_events)
    assert naive_events[-1]["event"] == "complete"


def test_every_byte_of_the_stream_is_a_data_block_or_a_comment(client: httpx.Client) -> None:
    chunks, _ = raw_stream(client, run_body(message="Write about visiting Kyoto"))
    raw = b"".join(chunks).decode()
    assert raw.endswith("\n\n")
    for block in raw[:-2].split("\n\n"):
        assert block.startswith(("data: ", ": ")), block
        assert "\n" not in block  # one line per block: the naive reader depends on it


def test_events_carry_thread_run_and_strictly_increasing_seq(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Lisbon")
    events = naive_reader(raw_stream(client, body)[0])
    assert events[0]["event"] == "metadata"
    assert events[0]["model"] == "offline" and events[0]["research"] == "offline"
    assert {e["thread_id"] for e in events} == {body["thread_id"]}
    assert len({e["run_id"] for e in events}) == 1
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_first_hitl_run_is_planner_then_interrupt_before_travel_plan(client: httpx.Client) -> None:
    events = naive_reader(raw_stream(client, run_body(message="write about visiting Paris"))[0])
    kinds = [e["event"] for e in events if e["event"] != "token"]
    assert kinds == ["metadata", "node_start", "node", "interrupt"]
    planner = events[[e["event"] for e in events].index("node")]
    assert planner["node"] == "planner"
    assert planner["data"]["message"]["type"] == "AIMessage"
    assert planner["data"]["message"]["content"].startswith("📋 Step 1: Planning Complete\n\n")
    assert "Paris" in planner["data"]["plan"]
    assert events[-1] == {**events[-1], "event": "interrupt", "next": ["travel_plan"], "reason": "hitl"}


def test_token_deltas_rebuild_the_node_output(client: httpx.Client) -> None:
    events = naive_reader(raw_stream(client, run_body(message="Write about visiting Rome"))[0])
    deltas = "".join(e["delta"] for e in events if e["event"] == "token" and e["node"] == "planner")
    planner = next(e for e in events if e["event"] == "node")
    assert deltas.strip() == planner["data"]["plan"]
    assert sum(e["event"] == "token" for e in events) > 5


def test_encoded_event_is_one_line_whatever_the_text() -> None:
    block = encode_event({"event": "token", "delta": "line one\nline two\r\n\n✈️ café"})
    assert block.startswith(b"data: ") and block.endswith(b"\n\n")
    assert block.count(b"\n") == 2
    assert json.loads(block[6:].decode())["delta"] == "line one\nline two\r\n\n✈️ café"


def test_unicode_line_separators_are_escaped_so_every_reader_sees_one_line() -> None:
    """Some readers (httpx's iter_lines, str.splitlines) also break lines at U+2028, U+2029
    and U+0085; model or web text may contain them."""
    block = encode_event({"event": "token", "delta": "a\u2028b\u2029c\u0085d"})
    text = block.decode()
    assert text[:-2].splitlines() == [text[:-2]]  # one line, whatever the splitter
    assert json.loads(text[6:])["delta"] == "a\u2028b\u2029c\u0085d"


def test_a_node_event_names_the_message_the_state_holds(client: httpx.Client) -> None:
    """Clients that rejoin a run dedupe node events against the state by message id."""
    body = run_body(message="Write about visiting Paris")
    events = spec_reader(client, body)[0]
    node = next(e for e in events if e["event"] == "node")
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert node["data"]["message"]["id"]
    assert node["data"]["message"]["id"] == state["values"]["messages"][-1]["id"]
