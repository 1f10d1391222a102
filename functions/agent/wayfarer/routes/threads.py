"""Threads: create, list, read, edit while paused, history, delete."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from wayfarer.auth import CurrentCaller
from wayfarer.deps import CallersThread, Runs
from wayfarer.errors import InvalidRequest
from wayfarer.langgraph_schemas import HistoryQuery, StateAt, ThreadPatch, ThreadSearch, selected
from wayfarer.persistence import ThreadRecord
from wayfarer.runs import THREAD_ID
from wayfarer.schemas import CreateThread, StateEdit, Thread, ThreadPage, ThreadState

router = APIRouter(prefix="/threads", tags=["threads"])


def encode_cursor(last: ThreadRecord | None) -> str | None:
    """Where the next page starts: the last thread's id and activity time, nothing more."""
    if last is None:
        return None
    return base64.urlsafe_b64encode(json.dumps([last.updated_at, last.thread_id]).encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        updated_at, thread_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(updated_at, str) and isinstance(thread_id, str) and THREAD_ID.match(thread_id):
            return updated_at, thread_id
    except (ValueError, TypeError):
        pass
    raise InvalidRequest("cursor is not one this server gave you; start again without it.")


@router.post("", status_code=201, response_model=Thread)
async def create_thread(body: CreateThread, runs: Runs, caller: CurrentCaller) -> dict[str, Any]:
    return await runs.create_thread(caller.owner, body.thread_id, body.metadata, body.if_exists)


@router.post("/search", response_model=list[Thread], response_model_exclude_unset=True)
async def search_threads(body: ThreadSearch, runs: Runs, caller: CurrentCaller) -> list[dict[str, Any]]:
    """LangGraph's thread search: the caller's threads, newest activity first, that match."""
    threads = await runs.search_threads(
        caller.owner,
        metadata=body.metadata,
        ids=body.ids,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
    )
    return selected(threads, body.select, Thread, "a thread")


@router.get("", response_model=ThreadPage)
async def list_threads(
    runs: Runs,
    caller: CurrentCaller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="The last page's next_cursor.")] = None,
) -> dict[str, Any]:
    """The caller's threads, newest activity first."""
    threads, last = await runs.list_threads(caller.owner, limit, decode_cursor(cursor))
    return {"threads": threads, "next_cursor": encode_cursor(last)}


@router.get("/{thread_id}", response_model=Thread)
async def get_thread(ref: CallersThread, runs: Runs) -> dict[str, Any]:
    return await runs.get_thread(ref)


@router.patch("/{thread_id}", response_model=Thread)
async def patch_thread(ref: CallersThread, body: ThreadPatch, runs: Runs) -> dict[str, Any]:
    """Merge metadata into the thread's."""
    return await runs.patch_thread(ref, body.metadata)


@router.get("/{thread_id}/state", response_model=ThreadState)
async def get_state(
    ref: CallersThread,
    runs: Runs,
    subgraphs: Annotated[bool, Query(description="No subgraphs here.")] = False,
) -> dict[str, Any]:
    return await runs.get_state(ref)


@router.post("/{thread_id}/state", response_model=ThreadState)
async def update_state(ref: CallersThread, body: StateEdit, runs: Runs) -> dict[str, Any]:
    """Edit while paused, or set feedback for the next node; with a checkpoint, fork from it."""
    return await runs.update_state(ref, body.values, body.as_node, body.from_checkpoint())


@router.get("/{thread_id}/state/{checkpoint_id}", response_model=ThreadState)
async def get_state_at(
    ref: CallersThread, runs: Runs, checkpoint_id: Annotated[str, Path(max_length=64)]
) -> dict[str, Any]:
    return await runs.get_state(ref, checkpoint_id)


@router.post("/{thread_id}/state/checkpoint", response_model=ThreadState)
async def get_state_at_checkpoint(ref: CallersThread, body: StateAt, runs: Runs) -> dict[str, Any]:
    """The state at ``checkpoint.checkpoint_id``, or the latest without one."""
    return await runs.get_state(ref, body.checkpoint.checkpoint_id)


@router.get("/{thread_id}/history", response_model=list[ThreadState])
async def history(
    ref: CallersThread,
    runs: Runs,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    before: Annotated[str | None, Query(max_length=64, description="A checkpoint id.")] = None,
) -> list[dict[str, Any]]:
    return await runs.history(ref, limit, before)


@router.post("/{thread_id}/history", response_model=list[ThreadState])
async def search_history(ref: CallersThread, body: HistoryQuery, runs: Runs) -> list[dict[str, Any]]:
    """The checkpoints newest first: before one, from one, or matching metadata."""
    before = body.before if isinstance(body.before, str) or body.before is None else body.before.checkpoint_id
    start = body.checkpoint.checkpoint_id if body.checkpoint else None
    return await runs.history(ref, body.limit, before, body.metadata, start)


@router.delete("/{thread_id}", status_code=204, response_class=Response)
async def delete_thread(ref: CallersThread, runs: Runs) -> Response:
    await runs.delete_thread(ref)
    return Response(status_code=204)
