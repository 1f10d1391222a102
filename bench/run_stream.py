"""A full HITL run (offline model, zero pace) over HTTP, against moto server and dynalite.

Prints, per node step: time to first byte, server time to the node event, and the DynamoDB
requests the step made (counted with botocore event hooks on the app's own client).

    make bench        # or: uv run python -m bench.run_stream [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
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


class RequestCounter:
    """Counts AWS API calls by operation through botocore's before-send hook."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        name = target.decode().split(".")[-1] if target else f"S3 {request.method}"
        self.calls[name] += 1

    def attach(self, services: Services) -> None:
        saver: Any = services.runs.checkpointer
        saver.client.meta.events.register("before-send", self)
        s3 = getattr(saver.storage, "s3_client", None)
        if s3 is not None:
            s3.meta.events.register("before-send", self)

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


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
def backend(name: str) -> Iterator[Settings]:
    suffix = uuid.uuid4().hex[:8]
    if name == "moto":
        with moto_server() as endpoint:
            yield Settings(dynamodb_endpoint_url=endpoint, table_name=f"bench-{suffix}", offline_pace_ms=0)
    else:
        with tempfile.TemporaryDirectory() as data, dynalite(Path(data)) as endpoint:
            yield Settings(dynamodb_endpoint_url=endpoint, table_name=f"bench-{suffix}", offline_pace_ms=0)


def measure(name: str, repeat: int) -> list[list[dict[str, Any]]]:
    with backend(name) as settings:
        services = build_services(settings)
        counter = RequestCounter()
        counter.attach(services)
        with ThreadedServer(create_app(settings, services=services)) as server:
            hitl_journey(server.url, counter)  # warm-up: imports, first table access
            return [hitl_journey(server.url, counter) for _ in range(repeat)]


def print_table(name: str, journeys: list[list[dict[str, Any]]]) -> None:
    print(f"\n### {name}: full HITL run, {len(journeys)} journeys (median per step)\n")
    print("| step | node | TTFB ms | node event ms | DynamoDB requests | by operation |")
    print("|---:|---|---:|---:|---:|---|")
    totals = []
    for step, rows in enumerate(zip(*journeys, strict=True), start=1):
        calls: Counter[str] = Counter()
        for row in rows:
            calls.update(row["calls"])
        per_run = {op: n / len(rows) for op, n in sorted(calls.items())}
        total = sum(per_run.values())
        totals.append(total)
        ops = ", ".join(f"{op} {n:g}" for op, n in per_run.items())
        ttfb = statistics.median(r["ttfb"] for r in rows)
        node_ms = statistics.median(r["node_ms"] for r in rows)
        print(f"| {step} | {rows[0]['node']} | {ttfb:.1f} | {node_ms:.1f} | {total:g} | {ops} |")
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
