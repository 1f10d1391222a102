"""The one place that turns graph output into run events (see docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

# The node update fields a seed client reads, in its order.
SEED_FIELDS = ("plan", "draft", "critique", "queries")

# "end": a LangGraph run's end, kept in its log (its stream closes instead of sending it).
TERMINAL_EVENTS = frozenset({"interrupt", "complete", "error", "end"})


def error_data(event: Mapping[str, Any]) -> dict[str, Any]:
    """LangGraph's ``error`` data of an error event: its own, or made from a seed-shaped one
    (a join's terminal for a run that vanished)."""
    data: dict[str, Any] = event.get("data") or {"error": "RunError", "message": event.get("error")}
    return data


def message_type(message: BaseMessage) -> str:
    """The seed names message types by class: "AIMessage", "HumanMessage"."""
    return type(message).__name__.removesuffix("Chunk")


def node_event_data(update: Mapping[str, Any] | None) -> dict[str, Any]:
    """A node's state update as the seed's ``data`` object."""
    update = update or {}
    data: dict[str, Any] = {key: update[key] for key in SEED_FIELDS if key in update}
    if "content" in update:
        data["sources"] = [{"title": s["title"], "url": s["url"]} for s in update["content"]]
    if "revision_number" in update:
        data["revision_number"] = update["revision_number"]
    messages = update.get("messages") or []
    if messages:
        last = messages[-1]
        data["message"] = {"type": message_type(last), "content": last.content, "id": last.id}
    return data


class RunEvents:
    """Stamps every event of one run with its thread, run and a strictly increasing seq."""

    def __init__(self, thread_id: str, run_id: str) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self.seq = 0

    def make(self, event: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return {
            "event": event,
            **fields,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "seq": self.seq,
        }

    def rewind(self, seq: int) -> None:
        """The next event takes ``seq``: the events from it on were never shown nor logged."""
        self.seq = seq - 1

    def node(self, node: str, update: Mapping[str, Any] | None, replayed: bool = False) -> dict[str, Any]:
        """A finished node. ``replayed``: its result was saved by an earlier run that stopped
        before the step was committed; the node did not run again."""
        extra = {"replayed": True} if replayed else {}
        return self.make("node", node=node, data=node_event_data(update), **extra)
