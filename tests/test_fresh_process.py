"""Nothing survives in memory between invocations: a paused run resumes in a new process,
on a DynamoDB server that itself restarted (dynalite, data on disk)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import run_body
from tests.servers import server_process
from tests.sse_clients import nodes_of, stream
from wayfarer.devstack import dynalite, free_port


def test_resume_in_a_fresh_process_after_dynalite_restarts(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "dynalite", tmp_path / "servers.log"
    port = free_port()
    body = run_body(message="write about visiting Paris")

    with (
        dynalite(data_dir, port) as endpoint,
        server_process(log, dynamodb_endpoint_url=endpoint, offline_pace_ms="0") as (process_a, url),
    ):
        with httpx.Client(base_url=url, timeout=30) as client:
            first = stream(client, body)
        process_a.kill()  # no graceful shutdown: the state must already be durable
        process_a.wait()
    assert nodes_of(first) == ["planner"] and first[-1]["next"] == ["travel_plan"]

    with (
        dynalite(data_dir, port) as endpoint,
        server_process(log, dynamodb_endpoint_url=endpoint, offline_pace_ms="0") as (_, url),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        second = stream(client, {"thread_id": body["thread_id"], "message": ""})
        third = stream(client, {"thread_id": body["thread_id"], "message": ""})
        history = client.get(f"/threads/{body['thread_id']}/history", params={"limit": 100}).json()
        state = client.get(f"/threads/{body['thread_id']}/state").json()

    assert second[0]["resumed"] is True
    assert nodes_of(second) == ["travel_plan"] and nodes_of(third) == ["generate"]
    ai_names = [m["name"] for m in state["values"]["messages"] if m["type"] == "ai"]
    assert ai_names == ["planner", "travel_plan", "generate"]  # no node ran twice
    loop_steps = [h["metadata"]["step"] for h in history if h["metadata"]["source"] == "loop"]
    assert len(loop_steps) == len(set(loop_steps))
