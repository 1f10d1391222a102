"""A run's steps go to DynamoDB in the requests that log the events showing them, and the live
stream shows a node's end only once that node's step is stored (``wayfarer.run_steps``)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.faults import FaultInjector, writes_a_checkpoint
from tests.instances import PIECE, nodes_run
from wayfarer.persistence import dynamodb_client
from wayfarer.runs import LOST, UNSAVED, RunService
from wayfarer.seed_runs import RunRequest
from wayfarer.services import build_services
from wayfarer.settings import Settings
from wayfarer.table_keys import CHECKPOINT_PK_PREFIX, LOCAL_OWNER, ThreadRef, thread_key

TASK = "Write about visiting Paris"


class Requests:
    """Each DynamoDB request the app sends: its operation and the key prefixes it writes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, set[str]]] = []

    def __call__(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        body = json.loads(request.body or b"{}")
        written = {
            "step" if r["PutRequest"]["Item"]["PK"]["S"].startswith(CHECKPOINT_PK_PREFIX) else "log"
            for requests in body.get("RequestItems", {}).values()
            if isinstance(requests, list)
            for r in requests
            if "PutRequest" in r
        }
        self.sent.append((operation, written))

    def take(self) -> list[tuple[str, set[str]]]:
        sent, self.sent = self.sent, []
        return sent


async def saved_nodes(runs: RunService, thread: str) -> list[str]:
    """The nodes the thread's saved state holds, in order (one AI message per node)."""
    state = await runs.get_state(ThreadRef(LOCAL_OWNER, thread))
    return [m["name"] for m in state["values"].get("messages", []) if m["type"] == "ai"]


async def events_of(runs: RunService, request: RunRequest) -> list[dict[str, Any]]:
    run = await runs.start_run(request)
    return [event async for event in run.events() if event is not None]


async def test_a_hitl_request_stores_its_step_with_its_events_in_one_request(settings: Settings) -> None:
    services = build_services(settings)
    # The log's timer (250 ms) never fires within a request, however slow this machine: what
    # is counted is what a request writes at its end.
    services.runs.timings = replace(services.runs.timings, log_flush_seconds=60)
    requests = Requests()
    services.runs.checkpointer.client.meta.events.register("before-send.dynamodb", requests)
    thread, message = "one-write-journey", TASK
    journey: list[list[tuple[str, set[str]]]] = []
    seen: list[str] = []
    while True:
        request = RunRequest(thread_id=thread, message=message, max_revisions=1)
        events = await events_of(services.runs, request)
        journey.append(requests.take())
        seen += nodes_run(events)
        message = ""
        if events[-1]["event"] != "interrupt":
            assert events[-1]["event"] == "complete"
            break
    assert seen == PIECE
    for sent in journey:
        # Take the thread, read its checkpoint, store the step and the events, give it back.
        assert [operation for operation, _ in sent] == ["UpdateItem", "Query", "BatchWriteItem", "UpdateItem"]
        assert sent[2][1] == {"step", "log"}, sent[2]  # the step and its events, together
    assert await saved_nodes(services.runs, thread) == PIECE


@pytest.mark.parametrize("use_hitl", [True, False], ids=["hitl", "unattended"])
async def test_the_live_stream_shows_a_nodes_end_only_once_its_step_is_stored(
    settings: Settings, use_hitl: bool
) -> None:
    """Every step's write takes half a second: were a node's end shown as LangGraph streams it
    (before it saves the step), a read right after it would not find the node saved."""
    services = build_services(settings)
    client = services.runs.checkpointer.client

    def slow_step(params: dict[str, Any], **_: Any) -> None:
        if writes_a_checkpoint("BatchWriteItem", json.loads(params["body"])):
            time.sleep(0.5)

    client.meta.events.register("before-call.dynamodb.BatchWriteItem", slow_step)
    runs, thread = services.runs, f"shown-once-stored-{use_hitl}"
    request = RunRequest(thread_id=thread, message=TASK, use_hitl=use_hitl, max_revisions=1)
    seen: list[str] = []
    while True:
        run = await runs.start_run(request)
        async for event in run.events():
            if event is not None and event["event"] == "node":
                seen.append(event["node"])
                saved = await saved_nodes(runs, thread)  # read from DynamoDB
                assert saved[: len(seen)] == seen, f"{event['node']} shown before it was saved"
            last = event
        request = RunRequest(thread_id=thread, use_hitl=use_hitl)
        if last is not None and last["event"] != "interrupt":
            break
    assert seen == PIECE


async def test_a_step_that_cannot_be_stored_is_not_shown_and_is_redone(settings: Settings) -> None:
    """A HITL request whose step DynamoDB refuses at every try (the run's end carries it): the
    client is told the step was not saved, never sees its node end, and sending again redoes
    the node; nothing is lost or run twice."""
    services = build_services(settings)
    runs, thread = services.runs, "unsaved-step"
    first = await events_of(runs, RunRequest(thread_id=thread, message=TASK))
    assert nodes_run(first) == ["planner"] and first[-1]["event"] == "interrupt"

    def writes_the_step(operation: str, request: dict[str, Any]) -> bool:
        """Any write of the thread's checkpoint partition: the checkpoint or the node's writes
        (the log's timer may carry those first, on a slow machine)."""
        items = [r["PutRequest"]["Item"] for t in request.get("RequestItems", {}).values() for r in t]
        return operation == "BatchWriteItem" and any(
            i["PK"]["S"].startswith(CHECKPOINT_PK_PREFIX) for i in items
        )

    faults = FaultInjector(
        runs.checkpointer.client,
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
        times=100,
        when=writes_the_step,
    )
    failed = await events_of(runs, RunRequest(thread_id=thread))
    assert faults.injected > 0
    assert nodes_run(failed) == []  # travel_plan ran, but its end was never stored: not shown
    assert failed[-1]["event"] == "error" and failed[-1]["error"] == UNSAVED and failed[-1]["resumable"]
    thread_seen = await runs.get_thread(ThreadRef(LOCAL_OWNER, thread))
    assert thread_seen["status"] == "error" and thread_seen["error"] == UNSAVED

    faults.left = 0
    redone = await events_of(runs, RunRequest(thread_id=thread))
    assert nodes_run(redone) == ["travel_plan"] and redone[-1]["event"] == "interrupt"
    assert await saved_nodes(runs, thread) == ["planner", "travel_plan"]


async def test_a_run_that_loses_its_lease_before_storing_its_step_never_shows_it(settings: Settings) -> None:
    """A HITL request's last write (its step, its events, its end) fails twice; meanwhile
    another holder takes the thread. The step is dropped, and the client and the log
    both end at the node's start with the lost-lease error, at the seq that node's end had."""
    fast = settings.model_copy(update={"lease_seconds": 3, "lease_poll_seconds": 0.2})
    services = build_services(fast)
    runs, thread = services.runs, "lost-before-stored"
    ref = ThreadRef(LOCAL_OWNER, thread)
    await events_of(runs, RunRequest(thread_id=thread, message=TASK))  # planned, paused
    thief = "the-other-holder"
    other_instance = dynamodb_client(fast)  # a client of its own: no fault hooks on it

    def steal_then_refuse(operation: str, request: dict[str, Any]) -> bool:
        if not writes_a_checkpoint(operation, request):
            return False
        other_instance.update_item(
            TableName=fast.table_name,
            Key=thread_key(ref.key),
            UpdateExpression="SET holder = :other, expires_at = :later",
            ExpressionAttributeValues={":other": {"S": thief}, ":later": {"N": str(time.time() + 60)}},
        )
        return True

    faults = FaultInjector(
        runs.checkpointer.client, "ValidationException", "refused", times=4, when=steal_then_refuse
    )
    live = await events_of(runs, RunRequest(thread_id=thread))
    assert faults.injected == 4  # two tries (with the step alone), then the lease is gone
    assert nodes_run(live) == [] and live[-1]["event"] == "error" and live[-1]["error"] == LOST
    assert [e["seq"] for e in live] == list(range(1, len(live) + 1))  # no gap where the node was
    logged = await runs.log.read(ref.key, live[0]["run_id"], 0)
    assert logged == live
    assert await saved_nodes(runs, thread) == ["planner"]
