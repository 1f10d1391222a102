"""The state one piece of writing carries through the graph."""

from __future__ import annotations

from typing import Annotated

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict  # pydantic builds JSON schemas from it on 3.11


class Source(TypedDict):
    """One research snippet and where it came from."""

    query: str
    title: str
    url: str
    content: str


class WriterState(TypedDict, total=False):
    task: str
    plan: str | None
    draft: str | None
    critique: str | None
    queries: list[str]
    content: list[Source]
    revision_number: int
    max_revisions: int
    # The human's latest steer; the next node uses it, then clears it.
    feedback: str | None
    messages: Annotated[list[AnyMessage], add_messages]


DEFAULT_MAX_REVISIONS = 2
# Fields a human may edit while the graph is paused.
EDITABLE_FIELDS = frozenset({"plan", "draft", "critique"})
# The human's steer for the next node: set while paused, read once, then cleared.
STEERING_FIELD = "feedback"


def new_piece(task: str, max_revisions: int | None = None) -> WriterState:
    """The graph input that starts a piece of writing from its task."""
    return {
        "task": task,
        "plan": None,
        "draft": None,
        "critique": None,
        "queries": [],
        "content": [],
        "revision_number": 0,
        "max_revisions": max_revisions or DEFAULT_MAX_REVISIONS,
        "feedback": None,
        "messages": [HumanMessage(task)],
    }
