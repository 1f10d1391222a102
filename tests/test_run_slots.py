"""A process drives at most ``max_runs`` runs at once; the next waits in line for a slot before it
takes its thread, then runs to its end: nothing fails, nothing is refused."""

from __future__ import annotations

from tests.conftest import Serve, run_body
from tests.instances import LiveStream
from wayfarer.settings import Settings


def test_a_run_past_the_limit_waits_for_a_slot_then_runs(serve: Serve, settings: Settings) -> None:
    client = serve(settings.model_copy(update={"max_runs": 1, "offline_pace_ms": 10}))
    first_body = run_body(message="Write about visiting Oslo", use_hitl=False, max_revisions=1)
    second_body = run_body(message="Write about visiting Bergen")
    first = LiveStream(client, "POST", "/runs/stream", first_body)
    first.wait_for(lambda event: event["event"] == "token")  # the first run is under way
    second = LiveStream(client, "POST", "/runs/stream", second_body)
    assert second.started.wait(60) and second.status == 200
    # It began only once the first run had given its thread back (lease released, slot freed).
    assert client.get(f"/threads/{first_body['thread_id']}").json()["status"] != "busy"
    assert first.result()[-1]["event"] == "complete"
    assert second.result()[-1]["event"] == "interrupt"  # the HITL pause, not an error
    assert client.get(f"/threads/{second_body['thread_id']}").json()["status"] == "interrupted"


def test_a_refused_run_gives_its_slot_back(serve: Serve, settings: Settings) -> None:
    client = serve(settings.model_copy(update={"max_runs": 1}))
    refused = client.post("/runs/stream", json=run_body(message=""))
    assert refused.status_code == 422  # a new thread needs a message
    again = client.post("/runs/invoke", json=run_body(message="Write about visiting Porto"))
    assert again.status_code == 200 and again.json()["status"] == "interrupted"


def test_with_no_slot_free_a_busy_thread_is_refused_at_once(serve: Serve, settings: Settings) -> None:
    client = serve(settings.model_copy(update={"max_runs": 1, "offline_pace_ms": 10}))
    body = run_body(message="Write about visiting Oslo", use_hitl=False, max_revisions=1)
    running = LiveStream(client, "POST", "/runs/stream", body)
    running.wait_for(lambda event: event["event"] == "token")
    again = client.post("/runs/stream", json={"thread_id": body["thread_id"], "use_hitl": False})
    assert again.status_code == 409, again.text  # not held in line until the run ends
    assert again.json()["run_id"] == running.events[0]["run_id"]
    assert not running.ended.is_set()
    assert running.result()[-1]["event"] == "complete"
