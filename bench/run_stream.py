"""A full HITL run (offline model, zero pace) over HTTP, against moto server and dynalite.

Prints, per node step: time to first byte, server time to the node event, and the DynamoDB
requests the step made, by operation and by purpose: checkpoints, the run lease, the event log
and the thread record (counted with a botocore hook on the one client they share).

    make bench        # or: uv run python -m bench.run_stream [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.servers import ThreadedServer, moto_server
from wayfarer.api import create_app
from wayfarer.devstack import dynalite, local_credentials
from wayfarer.services import Services, build_services
from wayfarer.settings import Settings
from wayfarer.table_keys import EVENTS_SK_PREFIX, RUN_SK_PREFIX, THREAD_PK_PREFIX, THREAD_SK

# What a request is for, told by the keys it touches (wayfarer.table_keys has the formats).
CHECKPOINTS, LEASE, EVENT_LOG, THREAD_RECORD = "checkpoints", "lease", "event log", "thread record"
STEP_WITH_EVENTS = "checkpoints + event log"  # a step stored with the events that show it
PURPOSES = (CHECKPOINTS, STEP_WITH_EVENTS, EVENT_LOG, LEASE, THREAD_RECORD)
CHECKPOINT_PK_PREFIXES = ("CHECKPOINT_", "WRITES_", "CHUNK_")  # ours, and the earlier layout's
LEASE_FIELD = "holder"  # every lease request names it; a thread record request never does

Call = tuple[str, str]  # (purpose, operation)


def key_purpose(pk: str, sk: str) -> str:
    if pk.startswith(CHECKPOINT_PK_PREFIXES):
        return CHECKPOINTS
    if pk.startswith(THREAD_PK_PREFIX):
        if sk.startswith((RUN_SK_PREFIX, EVENTS_SK_PREFIX)):
            return EVENT_LOG
        if sk == THREAD_SK:
            return THREAD_RECORD
    return "other"


def names_lease(body: dict[str, Any]) -> bool:
    expressions = (
        body.get(name, "") for name in ("UpdateExpression", "ConditionExpression", "ProjectionExpression")
    )
    return any(re.search(rf"\b{LEASE_FIELD}\b", expression) for expression in expressions)


def request_purpose(operation: str, body: dict[str, Any]) -> str:
    """The purpose of one DynamoDB request, from the keys in its body (and on the thread
    record's item, whether it names the lease). A batch is told by the purpose most of its
    items share, or is a step stored with its events."""
    keys: list[dict[str, Any]] = []
    if "Key" in body:
        keys.append(body["Key"])
    if "Item" in body:
        keys.append(body["Item"])
    for requests in body.get("RequestItems", {}).values():
        if isinstance(requests, dict):  # BatchGetItem: {"Keys": [...]}
            keys += requests.get("Keys", [])
            continue
        for request in requests:  # BatchWriteItem: [{"PutRequest": {"Item"}} | {"DeleteRequest": {"Key"}}]
            keys += [r.get("Item") or r.get("Key") for r in request.values()]
    if "Key" in body and names_lease(body):
        return LEASE  # the lease lives on the thread record's item
    if keys:
        found = Counter(key_purpose(k.get("PK", {}).get("S", ""), k.get("SK", {}).get("S", "")) for k in keys)
        if found[CHECKPOINTS] and found[EVENT_LOG]:
            return STEP_WITH_EVENTS
        return found.most_common(1)[0][0]
    if operation == "Query" and body.get("IndexName"):
        return THREAD_RECORD  # an index over thread records (a listing)
    if operation == "Query":
        values = [v.get("S", "") for v in body.get("ExpressionAttributeValues", {}).values()]
        if any(v.startswith(CHECKPOINT_PK_PREFIXES) for v in values):
            return CHECKPOINTS
        if any(v.startswith(EVENTS_SK_PREFIX) for v in values):
            return EVENT_LOG
        if any(v.startswith(THREAD_PK_PREFIX) for v in values):
            return THREAD_RECORD  # the whole thread partition: a thread's delete
    return "other"


class RequestCounter:
    """Counts AWS API calls (every attempt, as sent) by purpose and operation through
    botocore's before-send hook on the app's own clients."""

    def __init__(self) -> None:
        self.calls: Counter[Call] = Counter()
        self._lock = threading.Lock()  # the app calls boto3 from worker threads

    def __call__(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if target:
            operation = target.split(".")[-1]
            call = (request_purpose(operation, json.loads(request.body or b"{}")), operation)
        else:
            call = (f"{CHECKPOINTS} (S3)", f"S3 {request.method}")
        with self._lock:
            self.calls[call] += 1

    def attach(self, services: Services) -> None:
        saver: Any = services.runs.checkpointer
        saver.client.meta.events.register("before-send", self)  # shared by saver, lease and log
        s3 = getattr(saver.storage, "s3_client", None)
        if s3 is not None:
            s3.meta.events.register("before-send", self)

    def take(self) -> Counter[Call]:
        with self._lock:
            taken, self.calls = self.calls, Counter()
        return taken


def by_operation(calls: Counter[Call]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for (_, operation), n in calls.items():
        totals[operation] += n
    return totals


def by_purpose(calls: Counter[Call]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for (purpose, _), n in calls.items():
        totals[purpose] += n
    return totals


def timed_run(client: httpx.Client, body: dict[str, Any]) -> tuple[float, float, str, str]:
    """(ms to first byte, ms to the node event, node, terminal event)."""
    start = time.perf_counter()
    first_byte = node_at = 0.0
    node = terminal = ""
    with client.stream("POST", "/runs/stream", json=body) as response:
        for line in response.iter_lines():
            if not first_byte:
                first_byte = time.perf_counter() - start
            if '"event":"node"' in line:
                node_at = time.perf_counter() - start
                node = line.split('"node":"', 1)[1].split('"', 1)[0]
            for kind in ("interrupt", "complete", "error"):
                if f'"event":"{kind}"' in line:
                    terminal = kind
    return first_byte * 1000, node_at * 1000, node, terminal


def hitl_journey(url: str, counter: RequestCounter) -> list[dict[str, Any]]:
    thread_id = f"bench-{uuid.uuid4().hex[:8]}"
    rows = []
    body: dict[str, Any] = {"thread_id": thread_id, "message": "Write about visiting Paris", "use_hitl": True}
    with httpx.Client(base_url=url, timeout=60) as client:
        counter.take()
        while True:
            ttfb, node_ms, node, terminal = timed_run(client, body)
            calls = counter.take()
            rows.append({"node": node, "ttfb": ttfb, "node_ms": node_ms, "calls": calls})
            if terminal != "interrupt":
                assert terminal == "complete", f"run ended with {terminal}"
                return rows
            body = {"thread_id": thread_id, "message": "", "use_hitl": True}


@contextmanager
def backend(name: str, pace_ms: float = 0) -> Iterator[Settings]:
    """A fresh table on a new moto server or dynalite; the offline model at ``pace_ms``."""
    table = f"bench-{uuid.uuid4().hex[:8]}"
    if name == "moto":
        with moto_server() as endpoint:
            yield Settings(dynamodb_endpoint_url=endpoint, table_name=table, offline_pace_ms=pace_ms)
    else:
        with tempfile.TemporaryDirectory() as data, dynalite(Path(data)) as endpoint:
            yield Settings(dynamodb_endpoint_url=endpoint, table_name=table, offline_pace_ms=pace_ms)


@contextmanager
def counted_app(name: str, pace_ms: float = 0) -> Iterator[tuple[str, RequestCounter]]:
    """The app under uvicorn in this process on a fresh ``name`` backend, warmed up (imports,
    first table access); yields its URL and the counter of its AWS requests."""
    with backend(name, pace_ms) as settings:
        services = build_services(settings)
        counter = RequestCounter()
        counter.attach(services)
        with ThreadedServer(create_app(settings, services=services)) as server:
            hitl_journey(server.url, counter)
            counter.take()
            yield server.url, counter


def measure(name: str, repeat: int) -> list[list[dict[str, Any]]]:
    with counted_app(name) as (url, counter):
        return [hitl_journey(url, counter) for _ in range(repeat)]


def breakdown(counts: Counter[str], runs: int) -> str:
    """``"BatchWriteItem 2, GetItem 3"``: mean per run, in name order."""
    return ", ".join(f"{name} {n / runs:.3g}" for name, n in sorted(counts.items()))


def print_table(name: str, journeys: list[list[dict[str, Any]]]) -> None:
    print(f"\n### {name}: full HITL run, {len(journeys)} journeys (median per step)\n")
    print("| step | node | TTFB ms | node event ms | DynamoDB requests | by operation | by purpose |")
    print("|---:|---|---:|---:|---:|---|---|")
    totals = []
    for step, rows in enumerate(zip(*journeys, strict=True), start=1):
        calls: Counter[Call] = Counter()
        for row in rows:
            calls.update(row["calls"])
        total = sum(calls.values()) / len(rows)
        totals.append(total)
        ops = breakdown(by_operation(calls), len(rows))
        purposes = breakdown(by_purpose(calls), len(rows))
        ttfb = statistics.median(r["ttfb"] for r in rows)
        node_ms = statistics.median(r["node_ms"] for r in rows)
        cells = f"{ttfb:.1f} | {node_ms:.1f} | {total:.3g} | {ops} | {purposes}"
        print(f"| {step} | {rows[0]['node']} | {cells} |")
    mean = statistics.mean(totals)
    print(f"\nDynamoDB requests per node step: mean {mean:.1f}, total {sum(totals):g} per journey")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["moto", "dynalite", "both"], default="both")
    args = parser.parse_args()
    local_credentials()
    for name in ("moto", "dynalite") if args.backend == "both" else (args.backend,):
        print_table(name, measure(name, args.repeat))
    print(f"\nmachine: {os.cpu_count()} cores; offline model at zero pace; servers on loopback")


if __name__ == "__main__":
    main()
