"""Runs: start or resume one and stream it (the seed contract), wait for one, and from any
instance read, join or cancel one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError

from wayfarer.auth import CurrentCaller
from wayfarer.deps import CallersThread, RunIdPath, Runs, ServicesDep, run_request
from wayfarer.errors import InvalidRequest
from wayfarer.langgraph_schemas import CancelledGraphRun, GraphRun, RunCreate
from wayfarer.routes.graph_runs import join_stream, stream_stateless_run
from wayfarer.schemas import CancelledRun, Run, RunBody, RunResult
from wayfarer.sse import HEADERS, HEARTBEAT, MEDIA_TYPE, encode_event

router = APIRouter(tags=["runs"])
Body_ = TypeVar("Body_", bound=BaseModel)

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


def validated(model: type[Body_], payload: dict[str, Any]) -> Body_:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        ) from exc


@router.post(
    "/runs/stream",
    response_class=StreamingResponse,
    responses=EVENT_STREAM,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/RunBody"},
                            {"$ref": "#/components/schemas/RunCreate"},
                        ]
                    }
                }
            },
        }
    },
)
async def stream_run(
    payload: Annotated[dict[str, Any], Body(openapi_examples={})],
    request: Request,
    runs: Runs,
    caller: CurrentCaller,
    services: ServicesDep,
) -> StreamingResponse:
    """Start or resume a run and stream its events (the seed's RunBody). A client that
    disconnects does not stop the run (on Lambda a function never learns it left): join it
    again, or cancel it. A body with ``assistant_id`` is LangGraph's stateless run instead."""
    idle_tick = services.settings.heartbeat_seconds
    if "assistant_id" in payload:
        return await stream_stateless_run(validated(RunCreate, payload), runs, caller.owner, idle_tick)
    body = validated(RunBody, payload)
    run = await runs.start_run(run_request(body, request, caller))
    return event_stream(run.events(idle_tick=idle_tick))


@router.post("/runs/invoke", response_model=RunResult, response_model_exclude_none=True)
async def invoke_run(body: RunBody, request: Request, runs: Runs, caller: CurrentCaller) -> dict[str, Any]:
    """The same run, answered once it pauses or ends."""
    return await runs.invoke(run_request(body, request, caller))


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=Run | GraphRun)
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
    wherever it runs. Same wire format and seq values as the stream that started the run (a
    LangGraph run's parts with their ids)."""
    if last_event_id is not None:
        if not re.fullmatch(r"[0-9]{1,10}", last_event_id.strip()):
            raise InvalidRequest("Last-Event-ID must be the seq of the last event you have (0, 1, ...).")
        after = int(last_event_id)
    record = await runs.check_run(ref, run_id)
    idle_tick = services.settings.heartbeat_seconds
    if record.kind == "langgraph":
        return join_stream(runs, ref, run_id, after or 0, idle_tick)
    return event_stream(runs.join(ref, run_id, after or 0, idle_tick=idle_tick))


@router.post(
    "/threads/{thread_id}/runs/{run_id}/cancel",
    status_code=202,
    response_model=CancelledRun | CancelledGraphRun,
)
async def cancel_run(
    ref: CallersThread,
    run_id: RunIdPath,
    runs: Runs,
    wait: Annotated[bool, Query(description="Answer once the run has stopped.")] = False,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
) -> dict[str, Any]:
    """Stop the run mid-node, from any instance: the node in progress is discarded, its
    stream ends with an interrupt (reason "cancelled"), and sending again redoes it."""
    if action == "rollback":
        raise InvalidRequest(
            "action rollback is not supported: a run's steps are saved as they happen; cancel with "
            "interrupt (the default) and resume, or fork from an earlier checkpoint."
        )
    return await runs.cancel_run(ref, run_id, wait=wait)
