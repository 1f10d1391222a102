"""Storage faults injected into the running app (throttling, a failed checkpoint write, an item
over 400 KB): every run either completes or ends with an error after which the thread resumes,
with 0 nodes lost and 0 run twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import random_text, run_body
from tests.faults import FaultInjector, SlowCalls, writes_a_checkpoint
from tests.instances import PIECE, LiveStream, nodes_run, saved_nodes, token_of
from tests.servers import ThreadedServer
from tests.sse_clients import stream
from wayfarer.api import create_app
from wayfarer.devstack import dynalite
from wayfarer.leases import LEASE_FIELDS
from wayfarer.runs import new_run_id
from wayfarer.services import Services, build_services
from wayfarer.settings import Settings
from wayfarer.table_keys import thread_key


@pytest.fixture
def app_with_client(settings: Settings) -> Iterator[tuple[httpx.Client, Services]]:
    services = build_services(settings)
    with (
        ThreadedServer(create_app(settings, services=services)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client, services


def dynamodb(services: Services) -> Any:
    return services.runs.checkpointer.client  # the one client the saver, lease and log share


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_a_run_completes_through_dynamodb_throttling(
    app_with_client: tuple[httpx.Client, Services], code: str
) -> None:
    client, services = app_with_client
    # 10 DynamoDB calls (of the run's 15 or so: a step is one) throttled twice each (20 faults):
    # botocore's retries absorb them.
    faults = FaultInjector(
        dynamodb(services), code, "Rate of requests exceeds the allowed throughput.", 20, attempts=2
    )
    body = run_body(message="Write about visiting Paris", use_hitl=False, max_revisions=1)
    events = stream(client, body)
    assert faults.injected == 20
    assert events[-1]["event"] == "complete"
    assert nodes_run(events) == saved_nodes(client, body["thread_id"]) == PIECE


def test_a_failed_checkpoint_write_leaves_the_thread_in_error_and_resumable(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    """The bug: a step whose node finished but whose checkpoint failed to save showed `idle`,
    `next: []`, and a resume got 422 "finished"; the step could never be retried."""
    client, services = app_with_client
    body = run_body(message="Write about visiting Rome", use_hitl=False, max_revisions=1)
    thread = body["thread_id"]
    # The checkpoint after travel_plan is refused as too big, each time it is sent.
    checkpoints: dict[str, Any] = {"n": 0, "refused": None}

    def second_checkpoint_after_input(operation: str, request: dict[str, Any]) -> bool:
        if not writes_a_checkpoint(operation, request):
            return False
        items = [r["PutRequest"]["Item"] for t in request["RequestItems"].values() for r in t]
        ids = {i["id"]["S"] for i in items if i["PK"]["S"].startswith("CHECKPOINT_") and "id" in i}
        if checkpoints["refused"] is None:
            checkpoints["n"] += 1
            if checkpoints["n"] == 4:  # input, planner start, planner, travel_plan
                checkpoints["refused"] = ids
        return checkpoints["refused"] is not None and bool(ids & checkpoints["refused"])

    FaultInjector(
        dynamodb(services),
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
        times=100,
        when=second_checkpoint_after_input,
    )
    first = stream(client, body)
    assert first[-1]["event"] == "error" and first[-1]["resumable"] is True
    assert "arn:" not in first[-1]["error"].lower()
    thread_seen = client.get(f"/threads/{thread}").json()
    assert thread_seen["status"] == "error" and thread_seen["error"]

    resumed = stream(client, {"thread_id": thread, "use_hitl": False})
    assert resumed[0]["resumed"] is True and resumed[-1]["event"] == "complete"
    assert client.get(f"/threads/{thread}").json()["status"] == "idle"
    saved = saved_nodes(client, thread)
    assert saved == PIECE  # nothing lost, nothing twice
    assert nodes_run(first) + nodes_run(resumed) == PIECE


def test_storage_outage_is_503_with_retry_after_and_no_aws_text(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    client, services = app_with_client
    # More throttles than botocore retries: the caller gets a 503 that says to retry.
    FaultInjector(dynamodb(services), "ThrottlingException", "arn:aws:dynamodb:us-east-1:1:table/x", 10)
    answer = client.post("/threads", json={"thread_id": "outage"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert "arn:" not in answer.text and "Throttling" not in answer.text
    assert "try again" in answer.json()["detail"]


def test_an_edit_too_big_for_dynamodb_is_413_and_the_thread_resumes(tmp_path: Path) -> None:
    """No S3 offload: a 700 K-character edit of random text (~530 KB compressed) cannot be
    stored. The caller learns why and what to do (a 4xx, not "try again shortly"), and the
    thread is unharmed. On dynalite, which enforces
    DynamoDB's 400 KB item limit as the user met it (moto does not)."""
    with dynalite(tmp_path / "dynalite") as endpoint:
        settings = Settings(dynamodb_endpoint_url=endpoint, offline_pace_ms=0)
        with (
            ThreadedServer(create_app(settings, services=build_services(settings))) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            body = run_body(message="Write about visiting Paris")
            stream(client, body)
            edit = client.post(
                f"/threads/{body['thread_id']}/state", json={"values": {"plan": random_text(700_000)}}
            )
            assert edit.status_code == 413
            assert "400 KB" in edit.json()["detail"] and "Item size" not in edit.text
            assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "interrupted"
            resumed = stream(client, {"thread_id": body["thread_id"]})
            assert nodes_run(resumed) == ["travel_plan"] and resumed[-1]["event"] == "interrupt"


def test_a_run_that_loses_its_lease_stops_and_writes_no_more_checkpoints(
    settings: Settings, moto_endpoint: str
) -> None:
    """Another holder takes the thread mid-run (as after a long network partition): the run
    notices within a lease poll, stops, and saves nothing after that."""
    fast = settings.model_copy(update={"offline_pace_ms": 15, "lease_seconds": 3, "lease_poll_seconds": 0.2})
    services = build_services(fast)
    with (
        ThreadedServer(create_app(fast, services=services)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        body = run_body(message="Write about visiting Seville", use_hitl=False, max_revisions=1)
        thread = body["thread_id"]
        live = LiveStream(client, "POST", "/runs/stream", body)
        live.wait_for(token_of("travel_plan"))
        thief = new_run_id()
        dynamodb(services).update_item(
            TableName=fast.table_name,
            Key=thread_key(thread),
            UpdateExpression="SET holder = :other, expires_at = :later",
            ExpressionAttributeValues={
                ":other": {"S": thief},
                ":later": {"N": str(time.time() + 60)},
            },
        )
        events = live.result()
        assert events[-1]["event"] == "error" and "lost its hold" in events[-1]["error"]
        history_after_stop = client.get(f"/threads/{thread}/history", params={"limit": 100}).json()
        time.sleep(1.0)  # anything still in flight would land now
        history_later = client.get(f"/threads/{thread}/history", params={"limit": 100}).json()
        assert len(history_later) == len(history_after_stop)
        assert saved_nodes(client, thread) == nodes_run(events)  # saved only what it announced
        busy = client.post("/runs/stream", json={"thread_id": thread})
        assert busy.status_code == 409 and busy.json()["run_id"] == thief  # the other holder has it


@pytest.mark.parametrize("stage", ["before-call", "after-call"], ids=["read-late", "answered-late"])
def test_a_cancel_check_slower_than_the_lease_does_not_hold_back_its_renewals(
    settings: Settings, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded store one look for a cancel can take longer than the whole lease, whether the
    store reads late or its answer comes late. The renewals keep their own pace meanwhile, and a
    check judges the lease as it stood when asked: the run keeps its thread and completes."""
    short = settings.model_copy(update={"offline_pace_ms": 40, "lease_seconds": 3, "lease_poll_seconds": 0.2})
    services = build_services(short)
    # The lease's own reads (a check for a cancel), held longer than the lease lasts.
    slow = SlowCalls(
        dynamodb(services),
        "GetItem",
        3.5,
        lambda params: params.get("ProjectionExpression") == LEASE_FIELDS,
        stage,
    )
    leases = services.runs.leases
    judged: list[bool] = []
    real_check = leases.check

    async def check(lease: Any) -> bool:
        cancel = await real_check(lease)
        judged.append(cancel)
        return cancel

    monkeypatch.setattr(leases, "check", check)
    with (
        ThreadedServer(create_app(short, services=services)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        body = run_body(message="Write about visiting Porto", use_hitl=False, max_revisions=1)
        slow.on = True
        events = stream(client, body)
        judged_during_the_run = len(judged)
        slow.on = False
        assert events[-1]["event"] == "complete", events[-1]
        assert nodes_run(events) == saved_nodes(client, body["thread_id"]) == PIECE
        assert judged_during_the_run >= 1, "no check came back while the run went on"


def test_a_failed_event_log_append_is_retried_whole_and_a_joiner_sees_each_event_once(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    client, services = app_with_client

    def writes_events(operation: str, request: dict[str, Any]) -> bool:
        items = [r for t in request.get("RequestItems", {}).values() for r in t if "PutRequest" in r]
        return operation == "BatchWriteItem" and any(
            i["PutRequest"]["Item"]["SK"]["S"].startswith("EVT#") for i in items
        )

    # Two appends fail outright (every botocore attempt throttled): their batches are retried.
    faults = FaultInjector(dynamodb(services), "ThrottlingException", "Rate exceeded", 8, when=writes_events)
    body = run_body(message="Write about visiting Porto", use_hitl=False, max_revisions=1)
    live = stream(client, body)
    assert faults.injected == 8 and live[-1]["event"] == "complete"
    joined = LiveStream(
        client, "GET", f"/threads/{body['thread_id']}/runs/{live[0]['run_id']}/stream"
    ).result()
    assert [e["seq"] for e in joined] == list(range(1, len(live) + 1))  # each once, no gap
    assert joined == live


def test_a_short_run_whose_log_could_not_be_written_is_found_by_its_lease(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    """A seed HITL request shorter than the log's timer writes its record only with its end. If
    that write fails every try, the run is still there: its outcome is on the lease item."""
    client, services = app_with_client

    def writes_events(operation: str, request: dict[str, Any]) -> bool:
        items = [r for t in request.get("RequestItems", {}).values() for r in t if "PutRequest" in r]
        return operation == "BatchWriteItem" and any(
            i["PutRequest"]["Item"]["SK"]["S"].startswith("EVT#") for i in items
        )

    FaultInjector(
        dynamodb(services),
        "ValidationException",
        "Item size has exceeded the maximum",
        100,
        when=writes_events,
    )
    body = run_body(message="Write about visiting Turin")
    live = stream(client, body)
    assert live[-1]["event"] == "interrupt"  # the live stream is whole
    thread, run_id = body["thread_id"], live[0]["run_id"]
    seen = client.get(f"/threads/{thread}/runs/{run_id}")
    assert seen.status_code == 200 and seen.json()["status"] == "interrupted"
    assert client.get(f"/threads/{thread}").json()["status"] == "interrupted"


def test_a_storage_error_never_shows_aws_text_to_the_caller(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    client, services = app_with_client
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/wayfarer/fn is not authorized to perform: "
        "dynamodb:BatchWriteItem"
    )
    FaultInjector(dynamodb(services), "AccessDeniedException", denied, times=20, when=writes_a_checkpoint)
    body = run_body(message="Write about visiting Rome", use_hitl=False, max_revisions=1)
    events = stream(client, body)
    assert events[-1]["event"] == "error"
    thread = client.get(f"/threads/{body['thread_id']}").json()
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    for text in (events[-1]["error"], thread["error"] or "", json.dumps(state["tasks"])):
        assert "arn:" not in text and "123456789012" not in text and "AccessDenied" not in text


def test_a_new_thread_whose_run_is_refused_is_not_left_behind(
    app_with_client: tuple[httpx.Client, Services],
) -> None:
    """The run's lease take creates a new thread's record. When the run is then refused (its
    checkpoint could not be read: the first try and botocore's 4 retries throttled), the thread is
    gone again."""
    client, services = app_with_client
    faults = FaultInjector(
        dynamodb(services), "ThrottlingException", "Rate exceeded", 5, when=lambda op, _: op == "Query"
    )
    body = run_body(message="Write about visiting Genoa")
    refused = client.post("/runs/stream", json=body)
    assert faults.injected == 5 and refused.status_code == 503, refused.text[:500]
    assert client.get(f"/threads/{body['thread_id']}").status_code == 404
    assert body["thread_id"] not in [t["thread_id"] for t in client.get("/threads").json()["threads"]]
    events = stream(client, body)  # sent again, it runs
    assert events[-1]["event"] == "interrupt" and nodes_run(events) == ["planner"]
    assert client.get(f"/threads/{body['thread_id']}").json()["title"] == "Write about visiting Genoa"
