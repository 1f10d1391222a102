"""The same HITL journey through LangGraph's own Python SDK against Wayfarer and against
`langgraph dev` (LangGraph Server, in-memory) serving the same graph and offline model at zero
pace: per request, the time to the first event and to the end of the stream.

    make dev PORT=2025 PACE_MS=0              # Wayfarer (dynalite + s3rver)
    uvx --from "langgraph-cli[inmem]==0.4.40" --with aws-lambda-powertools --with pydantic-settings \\
        --with boto3 langgraph dev --config bench/langgraph_dev/langgraph.json --port 2099 \\
        --no-browser --no-reload
    uv run --frozen python -m bench.side_by_side --server wayfarer=http://127.0.0.1:2025 \\
        --server "langgraph dev=http://127.0.0.1:2099" [--journeys 5] \\
        [--pid wayfarer=$(pgrep -f 'uvicorn.*2025') --pid "langgraph dev=$(pgrep -f 'langgraph dev')"]

With ``--pid NAME=PID`` the CPU time that server process spent (user + system, from
/proc/PID/stat, its own threads; not the DynamoDB or S3 servers beside Wayfarer) is printed per
journey.

With ``--graph-alone`` the same journey also runs in this process on the compiled graph with
LangGraph's InMemorySaver (no server, no HTTP, no storage): the floor that LangGraph and the
graph themselves set for a step on this machine, and the CPU they spend per journey.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph_sdk import get_client

from bench.load import cpu_seconds
from wayfarer.graph.builder import NODES, build_graph
from wayfarer.models.offline import OfflineModel
from wayfarer.research.offline import OfflineGuide

TASK = "Write about visiting Paris"


Timings = tuple[list[float], list[float], int]


async def timed(parts: AsyncIterable[Any], first_ms: list[float], total_ms: list[float]) -> list[Any]:
    """One request's stream, read to its end; its first-part and whole-request ms appended."""
    start = time.perf_counter()
    first = None
    seen = []
    async for part in parts:
        if first is None:
            first = time.perf_counter()
        seen.append(part)
    end = time.perf_counter()
    first_ms.append(((first or end) - start) * 1000)
    total_ms.append((end - start) * 1000)
    return seen


async def journey(url: str) -> Timings:
    """One piece, paused after every node: (first-event ms, whole-request ms) per request."""
    client = get_client(url=url)
    thread_id = (await client.threads.create())["thread_id"]
    first_ms: list[float] = []
    total_ms: list[float] = []
    graph_input: dict[str, str] | None = {"task": TASK}
    while True:
        parts = client.runs.stream(
            thread_id,
            "travel_writer",
            input=graph_input,
            stream_mode=["updates", "messages-tuple"],
            interrupt_after=list(NODES),
        )
        seen = await timed(parts, first_ms, total_ms)
        paused = any(part.event == "updates" and "__interrupt__" in part.data for part in seen)
        graph_input = None
        state = await client.threads.get_state(thread_id)
        if not paused or not state["next"]:
            return first_ms, total_ms, len(total_ms)


async def journey_in_process(graph: Any) -> Timings:
    """The same journey on the compiled graph in this process (InMemorySaver)."""
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    first_ms: list[float] = []
    total_ms: list[float] = []
    graph_input: dict[str, str] | None = {"task": TASK}
    while True:
        modes = ["updates", "messages"]
        await timed(
            graph.astream(graph_input, config, stream_mode=modes, interrupt_after=list(NODES)),
            first_ms,
            total_ms,
        )
        graph_input = None
        if not (await graph.aget_state(config)).next:
            return first_ms, total_ms, len(total_ms)


def row(name: str, values: list[float]) -> str:
    cut = sorted(values)
    p90 = cut[min(len(cut) - 1, int(len(cut) * 0.9))]
    return f"| {name} | {statistics.median(values):.1f} | {p90:.1f} | {max(values):.1f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", default=[], help="name=url")
    parser.add_argument("--journeys", type=int, default=5)
    parser.add_argument("--pid", action="append", default=[], help="name=pid of that server's process")
    parser.add_argument("--graph-alone", action="store_true", help="also the graph in this process")
    args = parser.parse_args()
    pids = {name: int(pid) for name, pid in (spec.split("=", 1) for spec in args.pid)}
    print("| server, per HITL request | median ms | p90 ms | max ms |")
    print("|---|---:|---:|---:|")
    runners: list[tuple[str, Callable[[], Awaitable[Timings]]]] = [
        (name, functools.partial(journey, url)) for name, url in (s.split("=", 1) for s in args.server)
    ]
    if args.graph_alone:
        graph = build_graph(OfflineModel(pace_ms=0), OfflineGuide()).compile(checkpointer=InMemorySaver())
        runners.append(("graph alone", functools.partial(journey_in_process, graph)))
        pids["graph alone"] = os.getpid()
    for name, run_journey in runners:
        await run_journey()  # warm up: imports, first connections
        firsts: list[float] = []
        totals: list[float] = []
        requests = 0
        cpu = cpu_seconds(pids[name]) if name in pids else None
        wall = time.perf_counter()
        for _ in range(args.journeys):
            first, total, count = await run_journey()
            firsts += first
            totals += total
            requests += count
        wall = time.perf_counter() - wall
        print(row(f"{name}: first event", firsts))
        print(row(f"{name}: whole request (one node step)", totals))
        print(
            row(
                f"{name}: first event to end (the step itself)",
                [t - f for t, f in zip(totals, firsts, strict=True)],
            )
        )
        per_journey = wall / args.journeys * 1000
        print(f"| {name}: journey ({requests // args.journeys} requests) | {per_journey:.0f} | | |")
        if cpu is not None:
            cpu_ms = (cpu_seconds(pids[name]) - cpu) / args.journeys * 1000
            print(f"| {name}: server CPU per journey | {cpu_ms:.0f} | | |")


if __name__ == "__main__":
    asyncio.run(main())
