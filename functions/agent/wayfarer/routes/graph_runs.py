"""LangGraph Server's run routes: stream, wait, start in the background, list and join a
thread's runs, and the stateless runs. The seed's POST /runs/stream shares its path with
LangGraph's stateless stream: a body with ``assistant_id`` is LangGraph's (routes/runs.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from wayfarer.auth import CurrentCaller
from wayfarer.deps import CallersThread, RunIdPath, Runs, ServicesDep
from wayfarer.errors import Conflict, InvalidRequest, NotFound
from wayfarer.event_log import RunRecord
from wayfarer.graph_runs import GraphDriver, check_assistant_id, final_values, graph_run_json
from wayfarer.langgraph_schemas import GraphRun, RunCreate
from wayfarer.persistence import now_iso
from wayfarer.runs import Run, RunService
from wayfarer.settings import running_in_lambda
from wayfarer.sse import HEADERS, HEARTBEAT, MEDIA_TYPE, encode_part
from wayfarer.table_keys import ThreadRef

router = APIRouter(tags=["LangGraph runs"])

# How long interrupt and enqueue wait for the running run to stop before answering 409.
ENQUEUE_WAIT_SECONDS = 120.0

PART_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "LangGraph Server's stream: `event: <mode>`, `data: <one-line JSON>`, `id: <seq>` "
        "when resumable; the first event is `metadata {run_id, attempt}`; `: ping` heartbeats.",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def check_assistant(body: RunCreate) -> None:
    check_assistant_id(body.assistant_id)
    if body.on_disconnect == "cancel" and running_in_lambda():
        raise InvalidRequest(
            'on_disconnect "cancel" cannot be honoured on Lambda, which never learns that a client '
            'left: send "continue" and cancel the run with POST /threads/{thread_id}/runs/{run_id}/cancel.'
        )


async def start(runs: RunService, ref: ThreadRef, body: RunCreate, *, stateless: bool = False) -> Run:
    check_assistant(body)
    if body.on_completion is not None and not stateless:
        raise InvalidRequest("on_completion is for stateless runs (POST /runs/...); a thread's run keeps it.")
    driver = GraphDriver(runs, body)
    wait = runs.leases.lease_seconds + 5 if body.multitask_strategy == "interrupt" else ENQUEUE_WAIT_SECONDS
    return await runs.launch_with(ref, driver, body.multitask_strategy, wait)


def run_headers(run: Run) -> dict[str, str]:
    path = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return {"Content-Location": path, "Location": f"{path}/stream"}


async def _finish_stateless(runs: RunService, run: Run, body: RunCreate) -> None:
    """A stateless run's thread goes once the run ended, unless asked to keep it."""
    if body.on_completion == "keep":
        return
    if run.task is not None:
        await asyncio.shield(run.task)
    with suppress(Conflict, NotFound):
        await runs.delete_thread(run.ref)


def part_stream(
    runs: RunService,
    run: Run,
    body: RunCreate,
    idle_tick: float,
    *,
    stateless: bool = False,
) -> StreamingResponse:
    async def body_bytes() -> AsyncIterator[bytes]:
        ended = False
        try:
            async for event in run.events(idle_tick=idle_tick):
                if event is None:
                    yield HEARTBEAT
                    continue
                ended = event["event"] in ("end", "error")
                chunk = encode_part(event, body.stream_resumable)
                if chunk:
                    yield chunk
        finally:
            if not ended and body.on_disconnect == "cancel":
                # The client left (only a server that sees it gets here: not Lambda).
                task = asyncio.create_task(runs.cancel_run(run.ref, run.run_id))
                task.add_done_callback(lambda t: t.exception())
            if stateless:
                cleanup = asyncio.create_task(_finish_stateless(runs, run, body))
                cleanup.add_done_callback(lambda t: t.exception())

    headers = {**HEADERS, **run_headers(run)}
    return StreamingResponse(body_bytes(), media_type=MEDIA_TYPE, headers=headers)


async def wait_values(runs: RunService, run: Run) -> dict[str, Any]:
    terminal: dict[str, Any] | None = None
    async for event in run.events():
        if event is not None:
            terminal = event
    return await final_values(runs, run.ref, terminal)


@router.post("/threads/{thread_id}/runs/stream", response_class=StreamingResponse, responses=PART_STREAM)
async def stream_thread_run(
    ref: CallersThread, body: RunCreate, runs: Runs, services: ServicesDep
) -> StreamingResponse:
    """Start a run on the thread and stream it in the stream modes asked for."""
    run = await start(runs, ref, body)
    return part_stream(runs, run, body, services.settings.heartbeat_seconds)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_thread_run(ref: CallersThread, body: RunCreate, runs: Runs) -> dict[str, Any]:
    """Start a run and answer the thread's values once it pauses or ends (``__interrupt__``
    while paused, ``__error__`` if it failed)."""
    run = await start(runs, ref, body)
    return await wait_values(runs, run)


@router.post("/threads/{thread_id}/runs", response_model=GraphRun)
async def create_thread_run(ref: CallersThread, body: RunCreate, runs: Runs) -> dict[str, Any]:
    """Start a run and answer at once; join it or read it by its id. On Lambda the run lives
    in the invocation that started it, so there this answers when the run has paused or ended
    (docs/api.md)."""
    run = await start(runs, ref, body)
    if running_in_lambda():
        async for _ in run.events():
            pass
        return await runs.get_run(ref, run.run_id)
    return _starting(run)


def _starting(run: Run) -> dict[str, Any]:
    """The run as it starts (its record is written with its first event, a moment later)."""
    now = now_iso()
    info = run.driver.record_info()
    return graph_run_json(
        RunRecord(run.ref.key, run.run_id, "running", now, now, 0, None, "langgraph", info), run.thread_id
    )


@router.get("/threads/{thread_id}/runs", response_model=list[GraphRun])
async def list_thread_runs(
    ref: CallersThread,
    runs: Runs,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"] | None = None,
) -> list[dict[str, Any]]:
    """The thread's runs (seed runs too), newest first."""
    return await runs.list_runs(ref, limit, offset, status)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_thread_run(ref: CallersThread, run_id: RunIdPath, runs: Runs) -> dict[str, Any]:
    """Wait for the run to pause or end, wherever it runs; the thread's values then."""
    await runs.check_run(ref, run_id)
    terminal = await runs.wait_for_end(ref, run_id)
    return await final_values(runs, ref, terminal)


@router.post("/runs/wait")
async def wait_stateless_run(body: RunCreate, runs: Runs, caller: CurrentCaller) -> dict[str, Any]:
    """A run on a new thread of its own, deleted when the run ends (unless on_completion is
    "keep"); the values it left."""
    ref = ThreadRef(caller.owner, str(uuid.uuid4()))
    body = body.model_copy(update={"if_not_exists": "create"})
    run = await start(runs, ref, body, stateless=True)
    try:
        return await wait_values(runs, run)
    finally:
        await _finish_stateless(runs, run, body)


async def stream_stateless_run(
    body: RunCreate, runs: RunService, owner: str, idle_tick: float
) -> StreamingResponse:
    """POST /runs/stream with an assistant_id (routes/runs.py routes the seed's body)."""
    ref = ThreadRef(owner, str(uuid.uuid4()))
    body = body.model_copy(update={"if_not_exists": "create"})
    run = await start(runs, ref, body, stateless=True)
    return part_stream(runs, run, body, idle_tick, stateless=True)


def join_stream(
    runs: RunService, ref: ThreadRef, run_id: str, after: int, idle_tick: float
) -> StreamingResponse:
    """A LangGraph run's join: its events after ``after``, with ids, then live to its end."""

    async def body_bytes() -> AsyncIterator[bytes]:
        async for event in runs.join(ref, run_id, after, idle_tick=idle_tick):
            if event is None:
                yield HEARTBEAT
            elif chunk := encode_part(event, with_id=True):
                yield chunk

    return StreamingResponse(body_bytes(), media_type=MEDIA_TYPE, headers=HEADERS)
