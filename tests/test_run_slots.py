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
