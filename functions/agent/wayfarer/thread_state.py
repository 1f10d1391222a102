"""Graph snapshots as JSON in LangGraph's ThreadState shape, so LangGraph clients can read them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import StateSnapshot

from wayfarer.aws_errors import public_error


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


def snapshot_json(snapshot: StateSnapshot, thread_id: str) -> dict[str, Any]:
    return {
        "values": values_json(snapshot.values or {}),
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": task.id,
                "name": task.name,
                "error": public_error(task.error) if task.error else None,
                "interrupts": [{"value": i.value, "id": i.id} for i in task.interrupts],
            }
            for task in snapshot.tasks
        ],
        "interrupts": [{"value": i.value, "id": i.id} for i in snapshot.interrupts],
        "checkpoint": checkpoint_json(snapshot.config, thread_id),
        "parent_checkpoint": checkpoint_json(snapshot.parent_config, thread_id),
        "metadata": dict(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
    }
