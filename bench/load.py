"""N seed journeys at once against one app process, on dynalite and on moto.

    make bench-load        # or: uv run python -m bench.load [--n 10 50 200] [--backend dynalite moto]

Each journey is the seed's: 9 HITL requests (POST /runs/stream, one node each) on its own
thread, the offline model at a realistic pace (20 ms per chunk). One uvicorn process (as one
Lambda instance would run the app, but here every journey shares it), a fresh one and a fresh
table per row. Printed per N: time to first byte (p50, p99), the p99 gap between two events of
a stream, failed requests (not 200, or an `error` event), the server's CPU seconds and share
of one core, its peak RSS, and requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers import moto_server, server_process
from wayfarer.devstack import dynalite, local_credentials

TASK = "Write about visiting Paris"
HITL_REQUESTS = 9
PACE_MS = "20"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    ttfb: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    requests: int = 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_request(client: httpx.AsyncClient, body: dict[str, object], tally: Tally) -> bool:
    start = time.perf_counter()
    last = None
    tally.requests += 1
    try:
        async with client.stream("POST", "/runs/stream", json=body) as response:
            if response.status_code != 200:
                tally.failures.append(f"HTTP {response.status_code}")
                await response.aread()
                return False
            async for line in response.aiter_lines():
                now = time.perf_counter()
                if last is None:
                    tally.ttfb.append(now - start)
                elif line:
                    tally.gaps.append(now - last)
                if line:
                    last = now
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["event"] == "error":
                        tally.failures.append(f"error event: {event['error'][:90]}")
                        return False
    except httpx.HTTPError as exc:
        tally.failures.append(f"{type(exc).__name__} after {time.perf_counter() - start:.0f} s")
        return False
    return True


async def journey(client: httpx.AsyncClient, tally: Tally) -> None:
    thread_id = f"load-{uuid.uuid4().hex[:12]}"
    body: dict[str, object] = {"thread_id": thread_id, "message": TASK, "use_hitl": True}
    for _ in range(HITL_REQUESTS):
        if not await one_request(client, body, tally):
            return
        body = {"thread_id": thread_id, "use_hitl": True}


async def load(url: str, n: int) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(journey(client, tally) for _ in range(n)))
        return tally, time.perf_counter() - start


@contextmanager
def backend(name: str) -> Iterator[str]:
    if name == "moto":
        with moto_server() as endpoint:
            yield endpoint
    else:
        with tempfile.TemporaryDirectory() as data, dynalite(Path(data)) as endpoint:
            yield endpoint


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(name: str, n: int, log: Path) -> tuple[str, Tally]:
    with ExitStack() as stack:
        endpoint = stack.enter_context(backend(name))
        process, url = stack.enter_context(
            server_process(
                log,
                dynamodb_endpoint_url=endpoint,
                table_name=f"load-{uuid.uuid4().hex[:8]}",
                offline_pace_ms=PACE_MS,
            )
        )
        asyncio.run(load(url, 1))  # warm up: imports, first table access
        cpu_before = cpu_seconds(process.pid)
        tally, wall = asyncio.run(load(url, n))
        cpu = cpu_seconds(process.pid) - cpu_before
        rss = peak_rss_mb(process.pid)
    return (
        f"| {name} | {n} | {statistics.median(tally.ttfb) * 1000:.0f} | {pct(tally.ttfb, 0.99) * 1000:.0f} "
        f"| {pct(tally.gaps, 0.99) * 1000:.0f} | {len(tally.failures)} / {tally.requests} "
        f"| {cpu:.1f} s ({cpu / wall:.0%}) | {rss:.0f} | {tally.requests / wall:.1f} | {wall:.0f} |"
    ), tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--backend", nargs="+", default=["dynalite", "moto"])
    args = parser.parse_args()
    local_credentials()
    print(
        f"Seed journeys ({HITL_REQUESTS} HITL requests each) at once, one uvicorn process, "
        f"offline model at {PACE_MS} ms per chunk; this machine: {os.cpu_count()} cores.\n"
    )
    print(
        "| DynamoDB | N | TTFB p50 ms | TTFB p99 ms | gap p99 ms | failed / requests "
        "| server CPU (of one core) | peak RSS MB | requests/s | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as logs:
        for name in args.backend:
            for n in args.n:
                line, tally = row(name, n, Path(logs) / f"{name}-{n}.log")
                print(line, flush=True)
                failures += [f"{name}, N={n}: {reason}" for reason in tally.failures]
    for reason in failures:
        print(f"\nfailed: {reason}")


if __name__ == "__main__":
    main()
