"""Any request may land on a different instance: two app processes on one DynamoDB (moto
server), with faults injected. Each test compares the nodes the thread saved with the node
events clients saw: 0 nodes lost, 0 run twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import run_body
from tests.instances import PIECE, LiveStream, account, instances, nodes_run, saved_nodes, token_of
from tests.sse_clients import nodes_of, stream

# Slow enough that a node is still writing when the test acts (a draft is ~150 chunks).
PACE = {"offline_pace_ms": "15", "lease_seconds": "3", "lease_poll_seconds": "0.2"}


def settings_for(moto_endpoint: str) -> dict[str, str]:
    return {"dynamodb_endpoint_url": moto_endpoint, "s3_endpoint_url": moto_endpoint, **PACE}


def test_the_same_resume_sent_to_two_instances_runs_once(tmp_path: Path, moto_endpoint: str) -> None:
    with instances(tmp_path / "app.log", **settings_for(moto_endpoint)) as (a, b):
        body = run_body(message="Write about visiting Paris", max_revisions=1)
        first = stream(a.client, body)
        thread = body["thread_id"]
        resume = {"thread_id": thread, "use_hitl": True}
        # Both warm (a fresh process's first request opens its connections): the race is about
        # the lease, not about which process answers its first request sooner.
        for instance in (a, b):
            assert instance.client.get(f"/threads/{thread}").json()["status"] == "interrupted"

        answers: dict[str, httpx.Response] = {}
        barrier = threading.Barrier(2)

        def send(name: str, client: httpx.Client) -> None:
            barrier.wait()
            answers[name] = client.post("/runs/invoke", json=resume)

        senders = [threading.Thread(target=send, args=(n, i.client)) for n, i in (("a", a), ("b", b))]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
        statuses = sorted(r.status_code for r in answers.values())
        assert statuses == [200, 409]
        refused = next(r for r in answers.values() if r.status_code == 409)
        winner = next(r for r in answers.values() if r.status_code == 200).json()
        assert refused.json()["run_id"] == winner["run_id"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert winner["next"] == ["generate"]
        assert saved_nodes(a.client, thread) == ["planner", "travel_plan"]
        assert nodes_of(first) == ["planner"]


def test_busy_edit_and_delete_are_refused_from_the_other_instance(tmp_path: Path, moto_endpoint: str) -> None:
    with instances(tmp_path / "app.log", **settings_for(moto_endpoint)) as (a, b):
        body = run_body(message="Write about visiting Rome", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        live = LiveStream(a.client, "POST", "/runs/stream", body)
        run_id = live.wait_for(lambda e: e["event"] == "metadata")["run_id"]
        live.wait_for(token_of("planner"))

        seen_by_b = b.client.get(f"/threads/{thread}").json()
        assert seen_by_b["status"] == "busy" and seen_by_b["run_id"] == run_id
        listed_by_b = listed(b.client, thread)
        assert listed_by_b["status"] == "busy" and listed_by_b["run_id"] == run_id
        second = b.client.post("/runs/stream", json={"thread_id": thread, "message": "more food"})
        assert second.status_code == 409 and second.json()["run_id"] == run_id
        assert "Retry-After" in second.headers
        edit = b.client.post(f"/threads/{thread}/state", json={"values": {"plan": "mine"}})
        assert edit.status_code == 409 and edit.json()["run_id"] == run_id
        delete = b.client.delete(f"/threads/{thread}")
        assert delete.status_code == 409

        events = live.result()
        assert events[-1]["event"] == "complete"
        assert b.client.get(f"/threads/{thread}").json()["status"] == "idle"
        assert listed(b.client, thread)["status"] == "idle"
        assert nodes_run(events) == saved_nodes(b.client, thread) == PIECE


def listed(client: httpx.Client, thread: str) -> dict[str, Any]:
    """The thread as its owner's list shows it."""
    threads = client.get("/threads", params={"limit": 100}).json()["threads"]
    return next(t for t in threads if t["thread_id"] == thread)


def test_a_killed_instance_blocks_the_thread_only_until_its_lease_expires(
    tmp_path: Path, moto_endpoint: str
) -> None:
    with instances(tmp_path / "app.log", **settings_for(moto_endpoint)) as (a, b):
        body = run_body(message="Write about visiting Lisbon", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        live = LiveStream(a.client, "POST", "/runs/stream", body)
        run_id = live.wait_for(lambda e: e["event"] == "metadata")["run_id"]
        live.wait_for(token_of("generate"))  # mid-node: planner and travel_plan are saved
        a.process.kill()  # kill -9: no finally, no release
        a.process.wait()
        seen_before_kill = list(live.events)

        refused = b.client.post("/runs/stream", json={"thread_id": thread})
        assert refused.status_code == 409 and refused.json()["run_id"] == run_id

        deadline = time.monotonic() + 15
        while b.client.get(f"/threads/{thread}").json()["status"] == "busy":
            assert time.monotonic() < deadline, "the dead instance's lease never expired"
            time.sleep(0.2)
        thread_seen = b.client.get(f"/threads/{thread}").json()
        assert thread_seen["status"] == "error" and "went away" in thread_seen["error"]
        assert listed(b.client, thread)["error"] == thread_seen["error"]
        run = b.client.get(f"/threads/{thread}/runs/{run_id}").json()
        assert run["status"] == "error"

        # A join of the dead run replays what was logged and ends with the error, once.
        joined = stream_join(b.client, thread, run_id, after=0)
        assert joined[-1]["event"] == "error" and "went away" in joined[-1]["error"]
        assert [e["seq"] for e in joined] == list(range(1, len(joined) + 1))
        assert stream_join(b.client, thread, run_id, after=0) == joined
        # A client that saw more than the log holds (the live stream outran the dead instance)
        # still gets a terminal event when it rejoins from its own last seq.
        ahead = stream_join(b.client, thread, run_id, after=seen_before_kill[-1]["seq"])
        assert [e["event"] for e in ahead] in ([], ["error"])
        if ahead:
            assert ahead[0]["seq"] == seen_before_kill[-1]["seq"] + 1

        resumed = stream(b.client, {"thread_id": thread, "use_hitl": False})
        assert resumed[-1]["event"] == "complete"
        assert nodes_run(resumed)[0] == "generate"  # only the unfinished node is redone
        seen = nodes_run(seen_before_kill) + nodes_run(resumed)
        saved = saved_nodes(b.client, thread)
        assert account(saved, seen, PIECE) == (0, 0)
        assert saved == seen == PIECE


def stream_join(client: httpx.Client, thread: str, run_id: str, after: int) -> list[dict]:
    live = LiveStream(client, "GET", f"/threads/{thread}/runs/{run_id}/stream?after={after}")
    return live.result()


def test_a_client_that_leaves_mid_node_rejoins_from_the_other_instance(
    tmp_path: Path, moto_endpoint: str
) -> None:
    with instances(tmp_path / "app.log", **settings_for(moto_endpoint)) as (a, b):
        body = run_body(message="Write about visiting Kyoto", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        first = LiveStream(a.client, "POST", "/runs/stream", body, stop_after=40)  # mid-planner
        gone = first.result()
        last_seq = gone[-1]["seq"]
        assert gone[-1]["event"] == "token" and last_seq == 40

        joined = LiveStream(
            b.client,
            "GET",
            f"/threads/{thread}/runs/{gone[0]['run_id']}/stream",
            headers={"Last-Event-ID": str(last_seq)},
        ).result()
        everything = gone + joined
        assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))  # once, in order
        assert joined[-1]["event"] == "complete"
        assert nodes_run(everything) == saved_nodes(b.client, thread) == PIECE


def test_a_run_is_found_from_the_other_instance_before_its_log_is_written(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """A seed run's first event waits for the log's timer (250 ms): in that window the other
    instance finds the run by the lease it holds, says it is running, and a join from the
    first event replays the rest, once each, in order."""
    with instances(tmp_path / "app.log", **settings_for(moto_endpoint)) as (a, b):
        body = run_body(message="Write about visiting Lisbon", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        first = LiveStream(a.client, "POST", "/runs/stream", body, stop_after=1).result()
        assert [e["event"] for e in first] == ["metadata"]
        run_id = first[0]["run_id"]
        seen = b.client.get(f"/threads/{thread}/runs/{run_id}")
        assert seen.status_code == 200 and seen.json()["status"] == "running"
        assert b.client.get(f"/threads/{thread}").json()["status"] == "busy"
        joined = LiveStream(
            b.client, "GET", f"/threads/{thread}/runs/{run_id}/stream", headers={"Last-Event-ID": "1"}
        ).result()
        everything = first + joined
        assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
        assert joined[-1]["event"] == "complete"
        assert nodes_run(everything) == saved_nodes(b.client, thread) == PIECE


def test_cancel_from_the_other_instance_stops_mid_node_and_resume_redoes_only_it(
    tmp_path: Path, moto_endpoint: str
) -> None:
    slow = {**settings_for(moto_endpoint), "offline_pace_ms": "40"}  # a draft takes ~1.5 s
    with instances(tmp_path / "app.log", **slow) as (a, b):
        body = run_body(message="Write about visiting Vienna", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        live = LiveStream(a.client, "POST", "/runs/stream", body)
        run_id = live.wait_for(lambda e: e["event"] == "metadata")["run_id"]
        live.wait_for(token_of("generate"))

        cancel = b.client.post(f"/threads/{thread}/runs/{run_id}/cancel")
        assert cancel.status_code == 202 and cancel.json()["cancel_requested"] is True
        events = live.result(timeout=30)
        # The node that had started and not finished when the run stopped: it is discarded.
        started = [e["node"] for e in events if e["event"] == "node_start"]
        cut = started[-1]
        assert len(started) == len(nodes_run(events)) + 1
        assert {k: events[-1][k] for k in ("event", "reason", "next")} == {
            "event": "interrupt",
            "reason": "cancelled",
            "next": [cut],
        }
        assert b.client.get(f"/threads/{thread}/runs/{run_id}").json()["status"] == "cancelled"
        assert b.client.post(f"/threads/{thread}/runs/{run_id}/cancel").status_code == 409
        assert b.client.get(f"/threads/{thread}").json()["status"] == "interrupted"

        resumed = stream(b.client, {"thread_id": thread, "use_hitl": False})
        assert nodes_run(resumed)[0] == cut and resumed[-1]["event"] == "complete"
        seen = nodes_run(events) + nodes_run(resumed)
        assert seen == saved_nodes(a.client, thread) == PIECE


def test_unknown_runs_are_404_and_bad_run_ids_422(tmp_path: Path, moto_endpoint: str) -> None:
    with instances(tmp_path / "app.log", count=1, **settings_for(moto_endpoint)) as (a,):
        body = run_body(message="Write about visiting Oslo")
        events = stream(a.client, body)
        thread, run_id = body["thread_id"], events[0]["run_id"]
        missing = "01a20bed-f7ec-73e3-8720-c3441ff1566f"
        for path in (f"/threads/{thread}/runs/{missing}", f"/threads/nope/runs/{run_id}"):
            assert a.client.get(path).status_code == 404
            assert a.client.get(f"{path}/stream").status_code == 404
            assert a.client.post(f"{path}/cancel").status_code == 404
        assert a.client.get(f"/threads/{thread}/runs/not-a-uuid").status_code == 422
        bad_id = a.client.get(f"/threads/{thread}/runs/{run_id}/stream", headers={"Last-Event-ID": "x"})
        assert bad_id.status_code == 422

        run = a.client.get(f"/threads/{thread}/runs/{run_id}").json()
        assert run["status"] == "interrupted" and run["last_seq"] == events[-1]["seq"]
        replay = stream_join(a.client, thread, run_id, after=0)
        assert replay == events  # a finished run replays every event and ends


def test_a_join_from_past_the_end_of_a_finished_run_ends_at_once(tmp_path: Path, moto_endpoint: str) -> None:
    """Found by schemathesis: a client that has the terminal event and rejoins from its seq got
    a stream of heartbeats that never ended, polling DynamoDB all along."""
    with instances(tmp_path / "app.log", count=1, **settings_for(moto_endpoint)) as (a,):
        body = run_body(message="Write about visiting Oslo")
        events = stream(a.client, body)
        last = events[-1]["seq"]
        for after in (last, last + 5):
            # Before the fix this stream never ended (the reader gives up and fails).
            assert stream_join(a.client, body["thread_id"], events[0]["run_id"], after=after) == []
