"""Threads: create, read, state (LangGraph's ThreadState shape), edits, history, delete."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import run_body
from tests.sse_clients import nodes_of, stream
from wayfarer.graph_runs import ASSISTANT_ID
from wayfarer.persistence import dynamodb_client
from wayfarer.settings import Settings
from wayfarer.table_keys import thread_key

THREAD_STATE_KEYS = {
    "values", "next", "tasks", "interrupts", "checkpoint", "parent_checkpoint", "metadata", "created_at",
}  # fmt: skip


def test_create_thread_with_and_without_an_id(client: httpx.Client) -> None:
    created = client.post("/threads", json={"thread_id": "test123", "metadata": {"owner": "ana"}})
    assert created.status_code == 201
    assert created.json() == {
        **created.json(),
        "thread_id": "test123",
        "status": "idle",
        "metadata": {"owner": "ana"},
    }
    assert client.post("/threads", json={"thread_id": "test123"}).status_code == 409
    generated = client.post("/threads", json={}).json()["thread_id"]
    assert uuid.UUID(generated)
    assert client.get(f"/threads/{generated}").json()["created_at"]


def test_state_of_a_new_thread_is_empty_thread_state(client: httpx.Client) -> None:
    thread_id = client.post("/threads", json={}).json()["thread_id"]
    state = client.get(f"/threads/{thread_id}/state").json()
    assert set(state) == THREAD_STATE_KEYS
    assert state["values"] == {} and state["next"] == []


def test_paused_state_reports_next_checkpoint_and_status(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris")
    run_id = stream(client, body)[0]["run_id"]
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert set(state) == THREAD_STATE_KEYS
    assert state["next"] == ["travel_plan"]
    assert [t["name"] for t in state["tasks"]] == ["travel_plan"]
    assert state["checkpoint"]["thread_id"] == body["thread_id"] and state["checkpoint"]["checkpoint_id"]
    assert state["parent_checkpoint"]["checkpoint_id"]
    assert state["metadata"]["run_id"] == run_id
    assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "interrupted"


def test_editing_the_plan_while_paused_is_kept_and_the_run_continues(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris")
    stream(client, body)
    edited = client.post(
        f"/threads/{body['thread_id']}/state", json={"values": {"plan": "My own plan: cafés."}}
    )
    assert edited.status_code == 200
    assert edited.json()["values"]["plan"] == "My own plan: cafés."
    assert edited.json()["next"] == ["travel_plan"]
    events = stream(client, {"thread_id": body["thread_id"]})
    assert nodes_of(events) == ["travel_plan"]
    assert client.get(f"/threads/{body['thread_id']}/state").json()["values"]["plan"] == "My own plan: cafés."


def test_history_lists_checkpoints_newest_first_with_limit(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Rome")
    stream(client, body)
    stream(client, {"thread_id": body["thread_id"]})
    history = client.get(f"/threads/{body['thread_id']}/history", params={"limit": 50}).json()
    steps = [h["metadata"]["step"] for h in history]
    assert steps == sorted(steps, reverse=True)
    assert history[0]["next"] == ["generate"]
    assert len(client.get(f"/threads/{body['thread_id']}/history", params={"limit": 2}).json()) == 2
    assert client.get(f"/threads/{body['thread_id']}/history", params={"limit": 0}).status_code == 422


def test_delete_removes_the_thread_and_its_checkpoints(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Lisbon")
    stream(client, body)
    assert client.delete(f"/threads/{body['thread_id']}").status_code == 204
    assert client.get(f"/threads/{body['thread_id']}").status_code == 404
    # The id is free again: a new run starts a new piece from scratch.
    events = stream(client, body)
    assert events[0]["resumed"] is False and nodes_of(events) == ["planner"]


def test_a_run_marks_its_threads_activity_and_a_refused_one_leaves_it_as_it_was(
    client: httpx.Client, settings: Settings
) -> None:
    older, newer = (
        run_body(message="Write about visiting Paris"),
        run_body(message="Write about visiting Rome"),
    )
    stream(client, older)
    stream(client, newer)
    ids = {older["thread_id"], newer["thread_id"]}

    def listed() -> list[dict[str, Any]]:
        threads = client.get("/threads", params={"limit": 100}).json()["threads"]
        return [t for t in threads if t["thread_id"] in ids]

    assert [t["thread_id"] for t in listed()] == [newer["thread_id"], older["thread_id"]]
    stream(client, {"thread_id": older["thread_id"]})  # a resume: its lease take marks the activity
    before = listed()
    assert [t["thread_id"] for t in before] == [older["thread_id"], newer["thread_id"]]

    # Refused after it took the thread (the input names no task): the thread's activity time,
    # last run and status are as they were.
    refused = client.post(
        f"/threads/{newer['thread_id']}/runs/stream",
        json={"assistant_id": ASSISTANT_ID, "input": {"task": " "}},
    )
    assert refused.status_code == 422, refused.text
    assert listed() == before

    # A run refused on a thread that does not exist leaves nothing behind.
    missing = f"t-{uuid.uuid4().hex[:12]}"
    assert (
        client.post(f"/threads/{missing}/runs/wait", json={"assistant_id": ASSISTANT_ID}).status_code == 404
    )
    assert client.get(f"/threads/{missing}").status_code == 404
    item = dynamodb_client(settings).get_item(TableName=settings.table_name, Key=thread_key(missing))
    assert "Item" not in item
    # One that creates the thread and is then refused leaves a new thread with its own times.
    made = client.post(
        f"/threads/{missing}/runs/stream",
        json={"assistant_id": ASSISTANT_ID, "if_not_exists": "create", "input": {"task": " "}},
    )
    assert made.status_code == 422, made.text
    thread = client.get(f"/threads/{missing}").json()
    assert thread["status"] == "idle" and thread["updated_at"] >= thread["created_at"]


def test_health_names_the_active_providers(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok", "model": "offline", "research": "offline"}
    assert client.get("/openapi.json").json()["paths"]["/runs/stream"]
