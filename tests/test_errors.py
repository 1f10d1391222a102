"""Bad input gets a clear 4xx and loses nothing; failures leave the thread resumable."""

from __future__ import annotations

import httpx

from tests.conftest import Serve, run_body
from tests.fakes import FailingModel, GatedResearch
from tests.sse_clients import nodes_of, stream


def test_unknown_thread_is_404_with_a_hint(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/threads/nope"),
        ("GET", "/threads/nope/state"),
        ("GET", "/threads/nope/history"),
        ("DELETE", "/threads/nope"),
        ("POST", "/threads/nope/state"),
    ]:
        response = client.request(method, path, json={"values": {"plan": "x"}} if method == "POST" else None)
        assert response.status_code == 404, (method, path)
        assert "does not exist" in response.json()["detail"]


def test_empty_message_on_a_new_thread_is_422(client: httpx.Client) -> None:
    for message in (None, "", "   "):
        response = client.post("/runs/stream", json=run_body(message=message))
        assert response.status_code == 422
        assert "non-empty message" in response.json()["detail"]


def test_message_over_8000_characters_is_422_and_says_the_limit(client: httpx.Client) -> None:
    response = client.post("/runs/stream", json=run_body(message="x" * 8001))
    assert response.status_code == 422
    assert "8000" in response.json()["detail"]
    assert client.post("/runs/invoke", json=run_body(message="Visit Rome " + "x" * 7980)).status_code == 200


def test_malformed_json_and_bad_fields_are_422(client: httpx.Client) -> None:
    bad_json = client.post("/runs/stream", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    assert client.post("/runs/stream", json=run_body(message="Rome", max_revisions=9)).status_code == 422
    assert client.post("/runs/stream", json={"thread_id": "has space", "message": "Rome"}).status_code == 422
    assert client.post("/threads", json={"thread_id": "x" * 65}).status_code == 422


def test_a_second_run_on_a_busy_thread_is_409_before_any_stream(serve: Serve) -> None:
    research = GatedResearch()
    client = serve(research=research)
    body = run_body(message="Write about visiting Paris", use_hitl=False)
    with client.stream("POST", "/runs/stream", json=body) as first:
        assert first.status_code == 200
        lines = first.iter_lines()
        while not research.called.is_set():
            next(lines)
        second = client.post("/runs/stream", json={"thread_id": body["thread_id"], "message": "more food"})
        assert second.status_code == 409
        assert second.headers["content-type"].startswith("application/json")
        assert "already has a run in progress" in second.json()["detail"]
        assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "busy"
        assert client.delete(f"/threads/{body['thread_id']}").status_code == 409
        research.gate.set()
        list(lines)
    assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "idle"


def test_provider_failure_is_an_error_event_and_a_later_resume_completes(serve: Serve) -> None:
    client = serve(model=FailingModel("draft"))
    body = run_body(message="Write about visiting Rome", use_hitl=False, max_revisions=1)
    events = stream(client, body)
    assert nodes_of(events) == ["planner", "travel_plan"]
    assert events[-1]["event"] == "error"
    assert "generate failed" in events[-1]["error"] and "503" in events[-1]["error"]
    assert events[-1]["resumable"] is True
    thread = client.get(f"/threads/{body['thread_id']}").json()
    assert thread["status"] == "error"
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert state["next"] == ["generate"]
    assert state["tasks"][0]["error"]

    events = stream(client, {"thread_id": body["thread_id"], "use_hitl": False})
    assert events[0]["resumed"] is True
    assert nodes_of(events) == ["generate", "reflect", "research_critique", "generate"]
    assert events[-1]["event"] == "complete"
    assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "idle"


def test_state_edit_is_refused_unless_paused_and_for_unknown_keys(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris", use_hitl=False, max_revisions=1)
    client.post("/threads", json={"thread_id": body["thread_id"]})
    assert (
        client.post(f"/threads/{body['thread_id']}/state", json={"values": {"plan": "x"}}).status_code == 409
    )
    stream(client, {**body, "use_hitl": True})
    unknown = client.post(f"/threads/{body['thread_id']}/state", json={"values": {"task": "x"}})
    assert unknown.status_code == 422 and "only critique, draft, plan" in unknown.json()["detail"]
