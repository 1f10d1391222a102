"""Bad input gets a clear 4xx and loses nothing; failures leave the thread resumable."""

from __future__ import annotations

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import Serve, run_body
from tests.fakes import FailingModel, GatedResearch
from tests.servers import server_process
from tests.sse_clients import nodes_of, stream
from wayfarer.event_log import contiguous
from wayfarer.settings import Settings
from wayfarer.sse import encode_event


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
    latin1 = client.post(
        "/runs/stream", content=b'{"message": "\xe9"}', headers={"content-type": "application/json"}
    )
    assert latin1.status_code == 422 and "UTF-8" in latin1.json()["detail"]
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


def test_path_ids_follow_the_body_id_rule(client: httpx.Client) -> None:
    """A path id over DynamoDB's 2,048-byte key limit was a 503 with boto's text; it is a 422."""
    long_id = "x" * 3000
    for method, path in [
        ("GET", f"/threads/{long_id}"),
        ("GET", f"/threads/{long_id}/state"),
        ("GET", f"/threads/{long_id}/history"),
        ("DELETE", f"/threads/{long_id}"),
        ("GET", "/threads/has%20space"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 422, (method, path)
        assert "thread_id" in response.text and "Validation" not in response.text


def test_oversized_metadata_is_422_and_says_the_limit(client: httpx.Client) -> None:
    response = client.post("/threads", json={"thread_id": "big-meta", "metadata": {"notes": "x" * 500_000}})
    assert response.status_code == 422
    assert "16384" in response.text
    assert client.get("/threads/big-meta").status_code == 404  # nothing was stored


def test_a_lone_surrogate_is_refused_and_never_cuts_a_stream(client: httpx.Client) -> None:
    raw = b'{"thread_id": "surrogate", "message": "Write about visiting Paris \\ud800 x"}'
    response = client.post("/runs/stream", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "surrogate" in response.text
    metadata = b'{"metadata": {"note": "\\udfff"}}'
    answer = client.post("/threads", content=metadata, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    # The encoder itself cannot fail on one: it escapes it instead.
    encoded = encode_event({"event": "token", "delta": "a\ud800b"})
    assert encoded == b'data: {"event":"token","delta":"a\\ud800b"}\n\n'


def test_run_body_rejects_unknown_fields(client: httpx.Client) -> None:
    response = client.post("/runs/stream", json=run_body(message="Rome", use_hitll=True))
    assert response.status_code == 422
    assert "use_hitll" in response.text


def test_get_on_a_post_route_is_405_even_with_the_site_mounted(
    serve: Serve, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Wayfarer</title>")
    client = serve(settings.model_copy(update={"web_dist": tmp_path}))
    for path in ("/runs/stream", "/runs/invoke"):
        response = client.get(path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == "POST"
    assert client.get("/").status_code == 200  # the site still answers at /
    assert client.get("/docs").status_code == 200


def test_the_task_resent_with_other_case_or_spacing_continues(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris", max_revisions=1)
    stream(client, body)
    events = stream(client, {"thread_id": body["thread_id"], "message": "  write about VISITING paris "})
    assert nodes_of(events) == ["travel_plan"]
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai", "ai"]  # no steer added


def test_concurrent_runs_log_their_own_thread_and_run_ids(tmp_path: Path, moto_endpoint: str) -> None:
    """Powertools' append_context_keys is shared by the whole logger: concurrent runs mixed or
    lost each other's keys. Each run's lines must carry its own ids."""
    log = tmp_path / "app.log"
    suffix = uuid.uuid4().hex[:8]
    settings = {"dynamodb_endpoint_url": moto_endpoint, "table_name": f"wf-{suffix}", "offline_pace_ms": "2"}
    with server_process(log, **settings) as (_, url), httpx.Client(base_url=url, timeout=60) as client:
        bodies = [
            run_body(message=f"Write about visiting {city}", use_hitl=False)
            for city in ("Rome", "Oslo", "Lima")
        ]
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda b: stream(client, b), bodies))
    run_threads = {
        events[0]["run_id"]: body["thread_id"] for body, events in zip(bodies, results, strict=True)
    }
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    node_lines = [line for line in lines if line.get("message") == "node finished"]
    assert len(node_lines) == sum(len(nodes_of(events)) for events in results)
    for line in node_lines:
        assert run_threads[line["run_id"]] == line["thread_id"], line


def test_contiguous_reads_never_skip_past_a_gap_nor_repeat() -> None:
    events = [{"seq": s} for s in (3, 1, 2, 5, 2, 6)]
    assert [e["seq"] for e in contiguous(events, 0)] == [1, 2, 3]  # 4 is still being written
    assert [e["seq"] for e in contiguous(events, 4)] == [5, 6]
    assert contiguous(events, 6) == []


def test_join_refuses_a_last_event_id_that_is_not_a_plain_number(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Oslo")
    run_id = stream(client, body)[0]["run_id"]
    for bad in ("\u00b2", "-1", "1e3", "x"):
        answer = client.get(
            f"/threads/{body['thread_id']}/runs/{run_id}/stream",
            headers={"Last-Event-ID": bad.encode("latin-1")},
        )
        assert answer.status_code == 422, bad


def test_a_tampered_list_cursor_is_422(client: httpx.Client) -> None:
    for raw in (b"[1, 2]", b'{"PK": "x"}', b'["2026", "has space"]', b"not json"):
        cursor = base64.urlsafe_b64encode(raw).decode()
        assert client.get("/threads", params={"cursor": cursor}).status_code == 422, raw
