"""Graph snapshots as JSON in LangGraph's ThreadState shape, so LangGraph clients can read them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import StateSnapshot

from wayfarer.aws_errors import public_error
from wayfarer.jsonable import jsonable


def message_json(message: BaseMessage) -> dict[str, Any]:
    return {"type": message.type, "content": message.content, "id": message.id, "name": message.name}


def values_json(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "messages" in out:
        out["messages"] = [message_json(m) for m in out["messages"]]
    return out


def checkpoint_json(config: Mapping[str, Any] | None, thread_id: str) -> dict[str, Any] | None:
    """The checkpoint's address, naming the thread as its owner does (not its storage key)."""
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": thread_id,
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
    }


def pause_interrupts(next_nodes: list[str], checkpoint_id: str | None) -> list[dict[str, Any]]:
    """The travel writer's pause (a static breakpoint) as an interrupt a LangGraph client
    shows: what comes next and how to steer it; one id per pause (its checkpoint)."""
    return [
        {
            "value": {
                "reason": "hitl",
                "next": next_nodes,
                "resume": 'input: null to go on, or command: {"resume": "<your feedback>"}',
            },
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"wayfarer:pause:{checkpoint_id}")),
        }
    ]


def snapshot_interrupts(snapshot: StateSnapshot, thread_id: str) -> list[dict[str, Any]]:
    """A paused thread (``next`` set, no task failed, no interrupt of its own) shows its pause as
    an interrupt, as the stream that paused it did."""
    interrupts = [{"value": i.value, "id": i.id} for i in snapshot.interrupts]
    if snapshot.next and not interrupts and not any(task.error for task in snapshot.tasks):
        checkpoint = checkpoint_json(snapshot.config, thread_id) or {}
        interrupts = pause_interrupts(list(snapshot.next), checkpoint.get("checkpoint_id"))
    return interrupts


def snapshot_json(snapshot: StateSnapshot, thread_id: str) -> dict[str, Any]:
    interrupts = snapshot_interrupts(snapshot, thread_id)
    return {
        "values": values_json(snapshot.values or {}),
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": task.id,
                "name": task.name,
                "error": public_error(task.error) if task.error else None,
                "interrupts": [{"value": i.value, "id": i.id} for i in task.interrupts]
                or (interrupts if snapshot.next and task.name == snapshot.next[0] else []),
                "path": [str(p) for p in task.path],
                "checkpoint": None,  # the travel writer has no subgraphs
                "state": None,
                "result": jsonable(task.result) if task.result is not None else None,
            }
            for task in snapshot.tasks
        ],
        "interrupts": interrupts,
        "checkpoint": checkpoint_json(snapshot.config, thread_id),
        "parent_checkpoint": checkpoint_json(snapshot.parent_config, thread_id),
        "metadata": dict(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
    }
