"""Threads: create, list, read, edit while paused, history, delete."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from wayfarer.auth import CurrentCaller
from wayfarer.deps import CallersThread, Runs
from wayfarer.errors import InvalidRequest
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
    return await runs.create_thread(caller.owner, body.thread_id, body.metadata)


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


@router.get("/{thread_id}/state", response_model=ThreadState)
async def get_state(ref: CallersThread, runs: Runs) -> dict[str, Any]:
    return await runs.get_state(ref)


@router.post("/{thread_id}/state", response_model=ThreadState)
async def update_state(ref: CallersThread, body: StateEdit, runs: Runs) -> dict[str, Any]:
    return await runs.update_state(ref, body.values)


@router.get("/{thread_id}/history", response_model=list[ThreadState])
async def history(
    ref: CallersThread, runs: Runs, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[dict[str, Any]]:
    return await runs.history(ref, limit)


@router.delete("/{thread_id}", status_code=204, response_class=Response)
async def delete_thread(ref: CallersThread, runs: Runs) -> Response:
    await runs.delete_thread(ref)
    return Response(status_code=204)
