"""Events leave the server as they happen, not when the run ends."""

from __future__ import annotations

import json

from tests.conftest import Serve, run_body
from tests.fakes import GatedResearch
from wayfarer.settings import Settings


def test_planner_event_arrives_before_travel_plan_research_is_released(serve: Serve) -> None:
    research = GatedResearch()
    client = serve(research=research)
    seen: list[str] = []
    with client.stream(
        "POST", "/runs/stream", json=run_body(message="Visit Paris", use_hitl=False)
    ) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            seen.append(event["event"] + ":" + event.get("node", ""))
            if event["event"] == "node" and event["node"] == "planner":
                # The run is blocked inside travel_plan's search, yet the planner event is here.
                assert not research.gate.is_set()
                research.gate.set()
    assert "node:planner" in seen and seen[-1] == "complete:"


def test_heartbeat_comments_keep_a_quiet_stream_alive(serve: Serve, settings: Settings) -> None:
    research = GatedResearch()
    client = serve(settings.model_copy(update={"heartbeat_seconds": 0.05}), research=research)
    raw = b""
    with client.stream(
        "POST", "/runs/stream", json=run_body(message="Visit Rome", use_hitl=False)
    ) as response:
        for chunk in response.iter_raw():
            raw += chunk
            if raw.count(b": ping\n\n") >= 3:
                research.gate.set()
    assert raw.count(b": ping\n\n") >= 3
    assert raw.rstrip().split(b"\n\n")[-1].startswith(b'data: {"event":"complete"')


def test_a_client_that_leaves_does_not_stop_the_run(serve: Serve) -> None:
    """On Lambda a function never learns that its client left, so locally neither does the
    run: it goes on to its end (the client can join it again, or cancel it)."""
    research = GatedResearch()
    client = serve(research=research)
    body = run_body(message="Write about visiting Paris", use_hitl=False)
    with client.stream("POST", "/runs/stream", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:]).get("node") == "planner":
                assert research.called.wait(10), "travel_plan never reached its research"
                break  # leave mid-node: travel_plan is waiting on research
    research.gate.set()  # travel_plan may now finish: it is not cut short
    for _ in range(500):  # bounded wait for the run to end
        thread = client.get(f"/threads/{body['thread_id']}").json()
        if thread["status"] != "busy":
            break
        research.called.wait(0.02)
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert thread["status"] == "idle" and state["next"] == []  # it ran to the end
    names = [m["name"] for m in state["values"]["messages"] if m["type"] == "ai"]
    revise = ["reflect", "research_critique", "generate"]
    assert names == ["planner", "travel_plan", "generate", *revise, *revise]
    run = client.get(f"/threads/{body['thread_id']}/runs/{thread['run_id']}").json()
    assert run["status"] == "complete"
