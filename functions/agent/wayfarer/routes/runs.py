"""Runs: start or resume one and stream it (the seed contract), wait for one, and from any
instance read, join or cancel one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from wayfarer.auth import CurrentCaller
from wayfarer.deps import CallersThread, RunIdPath, Runs, ServicesDep, run_request
from wayfarer.errors import InvalidRequest
from wayfarer.schemas import CancelledRun, Run, RunBody, RunResult
from wayfarer.sse import HEADERS, HEARTBEAT, MEDIA_TYPE, encode_event

router = APIRouter(tags=["runs"])

# OpenAPI: the streams answer text/event-stream, one RunEvent per `data:` line.
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`data: <RunEvent as one-line JSON>` blocks, and `: ping` heartbeats.",
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/RunEvent"}}},
    }
}


def event_stream(events: AsyncIterator[dict[str, Any] | None]) -> StreamingResponse:
    async def body_bytes() -> AsyncIterator[bytes]:
        async for event in events:
            yield HEARTBEAT if event is None else encode_event(event)

    return StreamingResponse(body_bytes(), media_type=MEDIA_TYPE, headers=HEADERS)


@router.post("/runs/stream", response_class=StreamingResponse, responses=EVENT_STREAM)
async def stream_run(
    body: RunBody, request: Request, runs: Runs, caller: CurrentCaller, services: ServicesDep
) -> StreamingResponse:
    """Start or resume a run and stream its events. A client that disconnects does not stop
    the run (on Lambda a function never learns it left): join it again, or cancel it."""
    run = await runs.start_run(run_request(body, request, caller))
    return event_stream(run.events(idle_tick=services.settings.heartbeat_seconds))


@router.post("/runs/invoke", response_model=RunResult, response_model_exclude_none=True)
async def invoke_run(body: RunBody, request: Request, runs: Runs, caller: CurrentCaller) -> dict[str, Any]:
    """The same run, answered once it pauses or ends."""
    return await runs.invoke(run_request(body, request, caller))


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=Run)
async def get_run(ref: CallersThread, run_id: RunIdPath, runs: Runs) -> dict[str, Any]:
    return await runs.get_run(ref, run_id)


@router.get(
    "/threads/{thread_id}/runs/{run_id}/stream", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def join_run(
    ref: CallersThread,
    run_id: RunIdPath,
    runs: Runs,
    services: ServicesDep,
    after: Annotated[int | None, Query(ge=0, description="The last seq the client has.")] = None,
    last_event_id: Annotated[str | None, Header(description="The last seq the client has.")] = None,
) -> StreamingResponse:
    """Replay the run's events after the client's last seq, then follow it live to its end,
    wherever it runs. Same wire format and seq values as POST /runs/stream."""
    if last_event_id is not None:
        if not re.fullmatch(r"[0-9]{1,10}", last_event_id.strip()):
            raise InvalidRequest("Last-Event-ID must be the seq of the last event you have (0, 1, ...).")
        after = int(last_event_id)
    await runs.check_run(ref, run_id)
    return event_stream(runs.join(ref, run_id, after or 0, idle_tick=services.settings.heartbeat_seconds))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=202, response_model=CancelledRun)
async def cancel_run(ref: CallersThread, run_id: RunIdPath, runs: Runs) -> dict[str, Any]:
    """Stop the run mid-node, from any instance: the node in progress is discarded, its
    stream ends with an interrupt (reason "cancelled"), and sending again redoes it."""
    return await runs.cancel_run(ref, run_id)
