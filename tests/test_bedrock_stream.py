"""The Bedrock provider over the wire: the app (WAYFARER_MODEL_PROVIDER=bedrock) drives the real
ChatBedrockConverse, which signs and sends ConverseStream to a local server (tests/converse_server.py)
that answers in AWS's event-stream framing. Research stays offline."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.eventstream import EventStream
from botocore.exceptions import EventStreamError
from botocore.parsers import EventStreamJSONParser

from tests.conftest import Serve
from tests.converse_server import THROTTLE_MESSAGE, ConverseServer, Reply
from tests.instances import saved_nodes
from tests.sse_clients import stream
from wayfarer.graph.prompts import SYSTEM
from wayfarer.settings import Settings

TASK = "Write about visiting Paris"
# The planner's text as Bedrock streams it (non-ASCII too: the frames carry UTF-8 JSON).
PLAN = [
    "Working title:",
    " Paris, Unhurried",
    "\nAngle: a first visit,",
    " café by café.",
    "\n\nOutline:\n1. Arrival",
    "\n2. The sights",
]
PLANNED = "📋 Step 1: Planning Complete\n\n"
ACCESS_KEY = "AKIDBEDROCKSTREAMTEST"


# ---------------------------------------------------------------- the app on a local Bedrock
# Shared by every test here (and by a later LangGraph-API ``messages-tuple`` check): the app's
# URL, a client bound to it, and the Converse server it calls.


@dataclass
class BedrockApp:
    url: str
    client: httpx.Client
    converse: ConverseServer
    settings: Settings


@pytest.fixture
def converse() -> Iterator[ConverseServer]:
    with ConverseServer() as server:
        yield server


@pytest.fixture
def bedrock_app(
    serve: Serve, settings: Settings, converse: ConverseServer, monkeypatch: pytest.MonkeyPatch
) -> BedrockApp:
    """The real app under uvicorn, configured from the environment as in Lambda, its model
    ChatBedrockConverse pointed at ``converse``. Dummy credentials: botocore signs every request,
    the server ignores the signature."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "bedrock-stream-test-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)
    monkeypatch.setenv("WAYFARER_MODEL_PROVIDER", "bedrock")
    monkeypatch.setenv("WAYFARER_BEDROCK_ENDPOINT_URL", converse.url)
    # The test's table and bucket; the model settings come from the environment.
    bedrock = Settings(**settings.model_dump(exclude_unset=True, exclude={"model_provider"}))
    assert bedrock.active_model_provider == "bedrock"
    assert bedrock.bedrock_endpoint_url == converse.url
    assert bedrock.research_provider == "offline"
    client = serve(bedrock)
    return BedrockApp(url=str(client.base_url), client=client, converse=converse, settings=bedrock)


def seed(**fields: Any) -> dict[str, Any]:
    return {"thread_id": f"t-{uuid.uuid4().hex[:12]}", "message": TASK, **fields}


def tokens(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["node"], e["delta"]) for e in events if e["event"] == "token"]


def node_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "node"]


# ---------------------------------------------------------------- tests


def test_a_seed_run_streams_bedrock_text_as_planner_tokens(bedrock_app: BedrockApp) -> None:
    app = bedrock_app
    app.converse.script(Reply(PLAN, pace_seconds=0.005))
    body = seed()
    events = stream(app.client, body)

    assert events[0]["event"] == "metadata"
    assert (events[0]["model"], events[0]["research"]) == ("bedrock", "offline")
    assert tokens(events) == [("planner", chunk) for chunk in PLAN]  # each chunk, in order
    [node] = node_events(events)
    assert node["node"] == "planner"
    assert node["data"]["plan"] == "".join(PLAN)
    assert node["data"]["message"]["content"] == PLANNED + "".join(PLAN)
    last_token = max(e["seq"] for e in events if e["event"] == "token")
    assert last_token < node["seq"]  # streamed before the node ended
    assert events[-1]["event"] == "interrupt" and events[-1]["next"] == ["travel_plan"]

    # What reached "Bedrock": one signed ConverseStream for the configured model, with the task.
    [request] = app.converse.requests
    assert request.operation == "converse-stream"
    assert request.model_id == app.settings.bedrock_model_id
    assert f"Task: {TASK}" in request.user_text()
    assert request.system_text() == SYSTEM["plan"]
    assert request.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/us-east-1/bedrock/aws4_request" in request.headers["Authorization"]

    state = app.client.get(f"/threads/{body['thread_id']}/state").json()
    assert state["values"]["plan"] == "".join(PLAN)
    assert saved_nodes(app.client, body["thread_id"]) == ["planner"]


def test_a_throttle_mid_stream_is_a_resumable_error_and_sending_again_completes_the_node(
    bedrock_app: BedrockApp,
) -> None:
    app = bedrock_app
    # The first ConverseStream throttles after two chunks; every later one answers in full.
    app.converse.script(Reply(PLAN, throttle_after=2))
    app.converse.default = Reply(PLAN)
    body = seed()
    thread_id = body["thread_id"]

    first = stream(app.client, body)
    assert tokens(first) == [("planner", chunk) for chunk in PLAN[:2]]
    assert node_events(first) == []
    error = first[-1]
    assert error["event"] == "error" and error["resumable"] is True
    assert error["error"].startswith("planner failed: The bedrock model failed (throttlingException)")
    thread = app.client.get(f"/threads/{thread_id}").json()
    assert thread["status"] == "error" and thread["error"]
    for text in (json.dumps(first), json.dumps(thread)):  # nothing of AWS's own text
        for leak in (THROTTLE_MESSAGE, "Too many tokens", "arn:", "123456789012"):
            assert leak not in text
    # A throttle inside a 200 stream is not retried by botocore: one request so far.
    assert len(app.converse.requests) == 1

    resumed = stream(app.client, {"thread_id": thread_id})
    assert resumed[0]["event"] == "metadata" and resumed[0]["resumed"] is True
    assert tokens(resumed) == [("planner", chunk) for chunk in PLAN]
    [node] = node_events(resumed)
    assert node["node"] == "planner" and not node.get("replayed")
    assert node["data"]["message"]["content"] == PLANNED + "".join(PLAN)
    assert resumed[-1]["event"] == "interrupt" and resumed[-1]["next"] == ["travel_plan"]
    assert saved_nodes(app.client, thread_id) == ["planner"]  # the node once
    assert app.client.get(f"/threads/{thread_id}").json()["status"] == "interrupted"
    assert [r.operation for r in app.converse.requests] == ["converse-stream"] * 2
    assert f"Task: {TASK}" in app.converse.requests[1].user_text()


def test_langgraph_messages_tuple_streams_bedrock_tokens_and_a_throttle_is_an_error_event(
    bedrock_app: BedrockApp,
) -> None:
    """LangGraph's messages-tuple stream carries the model's own chunks, with no code of ours
    between (the chat model's stream); a throttle mid-stream is LangGraph's error event, and
    the thread resumes."""
    app = bedrock_app
    app.converse.script(Reply(PLAN, throttle_after=2))
    app.converse.default = Reply(PLAN)
    thread_id = app.client.post("/threads", json={}).json()["thread_id"]
    body = {"assistant_id": "travel_writer", "input": {"task": TASK}, "stream_mode": "messages-tuple"}

    failed = lg_parts(app.client, f"/threads/{thread_id}/runs/stream", body)
    assert [chunk_text(chunk) for _, (chunk, _) in failed[1:-1] if chunk_text(chunk)] == PLAN[:2]
    event, data = failed[-1]
    assert event == "error" and data["message"].startswith("planner failed: The bedrock model failed")
    assert THROTTLE_MESSAGE not in json.dumps(failed)

    resumed = lg_parts(app.client, f"/threads/{thread_id}/runs/stream", {**body, "input": None})
    chunks = [chunk for event, (chunk, meta) in resumed[1:] if chunk["type"] == "AIMessageChunk"]
    assert [chunk_text(c) for c in chunks if chunk_text(c)] == PLAN
    assert {meta["langgraph_node"] for _, (_, meta) in resumed[1:]} == {"planner"}
    assert saved_nodes(app.client, thread_id) == ["planner"]


def chunk_text(chunk: dict[str, Any]) -> str:
    """A chunk's text: ChatBedrockConverse streams content blocks ([{"type": "text", ...}])."""
    content = chunk["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


def lg_parts(client: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """LangGraph's stream as (event, data) pairs."""
    parts: list[tuple[str, Any]] = []
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                parts.append((event, json.loads(line[6:])))
    return parts


class _Raw:
    """A response body that hands over the bytes in small, arbitrary pieces."""

    def __init__(self, data: bytes, size: int = 7) -> None:
        self.pieces = [data[i : i + size] for i in range(0, len(data), size)]

    def stream(self) -> Iterator[bytes]:
        yield from self.pieces


def decoded(reply: Reply) -> list[dict[str, Any]]:
    """The reply as botocore's own event-stream decoder and parser read it."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    shape = model.operation_model("ConverseStream").output_shape.members["stream"]
    raw = _Raw(b"".join(reply.messages()))
    return list(EventStream(raw, shape, EventStreamJSONParser(), "ConverseStream"))


def test_the_frames_are_what_botocores_decoder_and_the_service_model_expect() -> None:
    assert decoded(Reply(["Bonjour", " Paris — café"])) == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Bonjour"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": " Paris — café"}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {
            "metadata": {
                "usage": {"inputTokens": 42, "outputTokens": 4, "totalTokens": 46},
                "metrics": {"latencyMs": 12},
            }
        },
    ]
    with pytest.raises(EventStreamError) as raised:
        decoded(Reply(["Bonjour", " Paris"], throttle_after=1))
    assert raised.value.response["Error"] == {"Code": "throttlingException", "Message": THROTTLE_MESSAGE}
