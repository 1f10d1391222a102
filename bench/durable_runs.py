"""What durable runs cost: DynamoDB requests with the run lease and the event log, and how long
a client that lost its stream waits for the replay on another instance.

    make bench        # or: uv run python -m bench.durable_runs [--repeat 2] [--tries 10]

1. DynamoDB requests per HITL request (each POST /runs/stream of a journey runs one node) and
   per node step of a ``use_hitl=false`` run (one request, every node), by operation and by
   purpose: checkpoints, lease, event log, thread record. Counted on the app's one DynamoDB
   client (bench.run_stream.RequestCounter), with the app in this process on dynalite, at the
   offline model's zero pace and at its default pace (20 ms per chunk): the run polls its lease
   every second (WAYFARER_LEASE_POLL_SECONDS) and renews it every 10 s, so those reads grow
   with run time, not with steps. The same HITL journey through the LangGraph API (as
   LangGraph's SDK sends it, paused after every node). Then the web app's reads of the
   threads those runs left: its thread list, and one thread.
2. Two app processes (uvicorn, as ``make dev INSTANCES=2``) on one dynalite, default pace: a
   client starts a run on A and drops it after the first event; at once another asks B for
   ``GET /threads/{t}/runs/{r}/stream?after=<seq>``. Measured: from that first event on A to the
   first replayed event on B, with the time to first byte of the live POST on A beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.run_stream import (
    PURPOSES,
    Call,
    RequestCounter,
    by_operation,
    by_purpose,
    counted_app,
    hitl_journey,
)
from tests.servers import server_process
from wayfarer.devstack import dynalite, local_credentials
from wayfarer.events import TERMINAL_EVENTS
from wayfarer.graph.builder import NODES
from wayfarer.graph_runs import ASSISTANT_ID
from wayfarer.persistence import ensure_local_resources
from wayfarer.settings import Settings

DEFAULT_PACE_MS = Settings.model_fields["offline_pace_ms"].default
TASK = "Write about visiting Paris"


def data_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


# ---------------------------------------------------------------- 1. requests by purpose


@dataclass
class Counted:
    """DynamoDB requests of some runs, and the units (requests or node steps) they cover."""

    label: str
    unit: str
    units: int = 0
    seconds: float = 0.0
    calls: Counter[Call] = field(default_factory=Counter)

    def per_unit(self, n: float) -> str:
        return f"{n / self.units:.2f}" if n else "0"


def unattended_run(url: str, counter: RequestCounter) -> tuple[int, float, Counter[Call]]:
    """One ``use_hitl=false`` run: (node steps, seconds, requests)."""
    body = {"thread_id": f"bench-{uuid.uuid4().hex[:8]}", "message": TASK, "use_hitl": False}
    nodes, terminal = 0, ""
    counter.take()
    start = time.perf_counter()
    with (
        httpx.Client(base_url=url, timeout=300) as client,
        client.stream("POST", "/runs/stream", json=body) as response,
    ):
        for event in data_events(response):
            nodes += event["event"] == "node"
            terminal = event["event"]
    seconds = time.perf_counter() - start
    assert terminal == "complete", f"run ended with {terminal}"
    return nodes, seconds, counter.take()


def langgraph_journey(url: str, counter: RequestCounter) -> tuple[int, float, Counter[Call]]:
    """A HITL journey through the LangGraph API, as LangGraph's SDK sends it (and as
    ``bench.side_by_side`` times it): paused after every node. (requests, seconds, calls)."""
    body: dict[str, Any] = {
        "assistant_id": ASSISTANT_ID,
        "input": {"task": TASK},
        "stream_mode": ["updates", "messages-tuple"],
        "interrupt_after": list(NODES),
    }
    calls: Counter[Call] = Counter()
    requests, seconds = 0, 0.0
    with httpx.Client(base_url=url, timeout=60) as client:
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        counter.take()
        paused = True
        while paused:
            paused = False
            start = time.perf_counter()
            with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
                for line in response.iter_lines():
                    paused = paused or "__interrupt__" in line
            seconds += time.perf_counter() - start
            calls.update(counter.take())
            requests += 1
            body.pop("input", None)
            assert requests <= 2 * len(NODES), "the journey did not end"
    return requests, seconds, calls


def count_requests(pace_ms: float, repeat: int) -> list[Counted]:
    hitl = Counted(f"HITL journey ({pace_ms:g} ms pace)", "request")
    graph_api = Counted(f"LangGraph API HITL journey ({pace_ms:g} ms pace)", "request")
    unattended = Counted(f"use_hitl=false run ({pace_ms:g} ms pace)", "node step")
    with counted_app("dynalite", pace_ms) as (url, counter):
        for _ in range(repeat):
            start = time.perf_counter()
            rows = hitl_journey(url, counter)
            hitl.seconds += time.perf_counter() - start
            hitl.units += len(rows)
            for row in rows:
                hitl.calls.update(row["calls"])
            nodes, seconds, calls = unattended_run(url, counter)
            unattended.units += nodes
            unattended.seconds += seconds
            unattended.calls.update(calls)
            requests, seconds, calls = langgraph_journey(url, counter)
            graph_api.units += requests
            graph_api.seconds += seconds
            graph_api.calls.update(calls)
        reads = count_reads(url, counter, repeat) if not pace_ms else []
    return [hitl, unattended, graph_api, *reads]


def count_reads(url: str, counter: RequestCounter, repeat: int) -> list[Counted]:
    """The web app's reads of the threads the runs left: its list, and one thread."""
    with httpx.Client(base_url=url, timeout=60) as client:
        threads = client.get("/threads", params={"limit": 100}).json()["threads"]
        reads = {
            f"GET /threads ({len(threads)} threads)": "/threads?limit=100",
            "GET /threads/{id}": f"/threads/{threads[0]['thread_id']}",
        }
        counted = []
        for label, path in reads.items():
            c = Counted(label, "request")
            for _ in range(repeat):
                counter.take()
                start = time.perf_counter()
                assert client.get(path).status_code == 200
                c.seconds += time.perf_counter() - start
                c.units += 1
                c.calls.update(counter.take())
            counted.append(c)
    return counted


def print_requests(counted: list[Counted], repeat: int) -> None:
    print(f"\n### DynamoDB requests per HITL request and per node step (dynalite, {repeat} runs each)\n")
    print("| run | per | s per unit | requests | " + " | ".join(PURPOSES) + " | by operation |")
    print("|---|---|---:|---:|" + "---:|" * len(PURPOSES) + "---|")
    for c in counted:
        purposes = by_purpose(c.calls)
        cells = " | ".join(c.per_unit(purposes[p]) for p in PURPOSES)
        others = sum(n for p, n in purposes.items() if p not in PURPOSES)
        ops = ", ".join(f"{op} {c.per_unit(n)}" for op, n in sorted(by_operation(c.calls).items()))
        total = c.per_unit(sum(c.calls.values()))
        extra = f" (+{c.per_unit(others)} other)" if others else ""
        unit = f"{c.unit} ({c.units // repeat} per run)"
        print(f"| {c.label} | {unit} | {c.seconds / c.units:.2f} | {total}{extra} | {cells} | {ops} |")
    operations = sorted({op for c in counted for _, op in c.calls})
    print("\nBy purpose and operation (per unit as above):\n")
    print("| run | purpose | " + " | ".join(operations) + " |")
    print("|---|---|" + "---:|" * len(operations))
    for c in counted:
        for purpose in sorted({p for p, _ in c.calls}, key=lambda p: (p not in PURPOSES, p)):
            cells = " | ".join(c.per_unit(c.calls[(purpose, op)]) for op in operations)
            print(f"| {c.label} | {purpose} | {cells} |")


# ---------------------------------------------------------------- 2. join from another instance


@dataclass
class JoinTry:
    post_first_byte: float  # ms from sending the POST on A to its response headers
    post_first_event: float  # ms from sending the POST on A to its first event
    join_first_byte: float  # ms from sending the GET on B to its response headers
    drop_to_replay: float  # ms from the first event on A to the first event on B
    first_replayed_seq: int
    after: int


def drop_and_join(a: httpx.Client, b: httpx.Client) -> JoinTry:
    body = {"thread_id": f"bench-{uuid.uuid4().hex[:8]}", "message": TASK, "use_hitl": True}
    start = time.perf_counter()
    with a.stream("POST", "/runs/stream", json=body) as live:
        post_first_byte = time.perf_counter() - start
        assert live.status_code == 200, live.read()
        first = next(data_events(live))
        dropped = time.perf_counter()
    # Leaving the block closed the connection: the client is gone, the run goes on in A.
    path = f"/threads/{first['thread_id']}/runs/{first['run_id']}/stream"
    join_start = time.perf_counter()
    with b.stream("GET", path, params={"after": first["seq"]}) as joined:
        join_first_byte = time.perf_counter() - join_start
        assert joined.status_code == 200, joined.read()
        events = data_events(joined)
        replayed = next(events)
        replayed_at = time.perf_counter()
        rest = [replayed, *events]
    seqs = [e["seq"] for e in rest]
    assert seqs == list(range(first["seq"] + 1, seqs[-1] + 1)), f"gap or repeat in the replay: {seqs}"
    assert rest[-1]["event"] in TERMINAL_EVENTS, rest[-1]
    return JoinTry(
        post_first_byte=post_first_byte * 1000,
        post_first_event=(dropped - start) * 1000,
        join_first_byte=join_first_byte * 1000,
        drop_to_replay=(replayed_at - dropped) * 1000,
        first_replayed_seq=replayed["seq"],
        after=first["seq"],
    )


@contextmanager
def two_instances(log: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two app processes (default pace) on one new dynalite; the table is made once first."""
    with tempfile.TemporaryDirectory() as data, dynalite(Path(data)) as endpoint, ExitStack() as stack:
        settings = {"dynamodb_endpoint_url": endpoint, "table_name": f"bench-{uuid.uuid4().hex[:8]}"}
        ensure_local_resources(Settings(**settings))  # type: ignore[arg-type]
        clients = []
        for _ in range(2):
            _, url = stack.enter_context(server_process(log, **settings))
            clients.append(stack.enter_context(httpx.Client(base_url=url, timeout=60)))
        yield clients[0], clients[1]


def measure_joins(tries: int) -> list[JoinTry]:
    with tempfile.TemporaryDirectory() as logs:
        log = Path(logs) / "instances.log"
        try:
            with two_instances(log) as (a, b):
                drop_and_join(a, b)  # warm-up: imports, first table access, connections
                drop_and_join(b, a)
                return [drop_and_join(a, b) for _ in range(tries)]
        except BaseException:
            print(log.read_text()[-5000:] if log.exists() else "(no server log)")
            raise


def print_joins(tries: list[JoinTry]) -> None:
    print(
        f"\n### Join a dropped stream from another instance (2 app processes on one dynalite, "
        f"{DEFAULT_PACE_MS:g} ms pace, {len(tries)} tries)\n"
    )
    print("| measure | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in (
        ("live POST /runs/stream on A: time to first byte", [t.post_first_byte for t in tries]),
        ("live POST /runs/stream on A: time to first event", [t.post_first_event for t in tries]),
        ("join GET …/stream?after=<seq> on B: time to first byte", [t.join_first_byte for t in tries]),
        ("first event on A (then dropped) → first replayed event on B", [t.drop_to_replay for t in tries]),
    ):
        print(f"| {name} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")
    firsts = Counter(t.first_replayed_seq - t.after for t in tries)
    print(
        "\nThe first replayed event was the one right after the dropped one in "
        f"{firsts[1]}/{len(tries)} tries; every replay ran to its terminal event with no gap."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2, help="journeys and runs per pace")
    parser.add_argument("--tries", type=int, default=10, help="dropped streams joined on B")
    args = parser.parse_args()
    local_credentials()
    counted = [c for pace in (0.0, DEFAULT_PACE_MS) for c in count_requests(pace, args.repeat)]
    print_requests(counted, args.repeat)
    print_joins(measure_joins(args.tries))
    print(f"\nmachine: {os.cpu_count()} cores; offline model; servers on loopback")


if __name__ == "__main__":
    main()
