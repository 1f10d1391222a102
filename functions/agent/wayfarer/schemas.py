"""The HTTP contract as types: request bodies, answers and the run stream's events, so OpenAPI
says what each is (and the web app's types can be generated from it). docs/api.md is the prose
version of the same."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from wayfarer.event_log import RunStatus
from wayfarer.runs import THREAD_ID, ThreadStatus
from wayfarer.settings import Settings

DEFAULTS = Settings.model_construct()  # limits for the request models (one source: settings)


def valid_unicode(value: Any) -> Any:
    """Refuse lone surrogates (``"\\ud800"`` in JSON): they cannot be stored or streamed."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise ValueError(
            "contains an unpaired UTF-16 surrogate (such as \\ud800); send valid Unicode text"
        ) from exc
    return value


Text = Annotated[str, AfterValidator(valid_unicode)]
ThreadId = Annotated[str, Field(pattern=THREAD_ID.pattern, examples=["test123"])]


# ------------------------------------------------------------------ requests


def metadata_size(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value).encode())
    if size > DEFAULTS.max_metadata_bytes:
        raise ValueError(f"is {size} bytes as JSON; the limit is {DEFAULTS.max_metadata_bytes}")
    return value


class CreateThread(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    metadata: Annotated[dict[str, Any], AfterValidator(valid_unicode), AfterValidator(metadata_size)] = Field(
        default_factory=dict
    )
    if_exists: Literal["raise", "do_nothing"] = Field(
        default="raise", description="An id that exists: 409 (raise), or answer that thread (do_nothing)."
    )


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    message: Text | None = Field(default=None, description="The task, or feedback when resuming.")
    use_hitl: bool = True
    max_revisions: int | None = Field(default=None, ge=1, le=5)


class StateEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Annotated[Text | None, Field(max_length=DEFAULTS.max_edit_chars)]] = Field(
        description="plan, draft or critique: the fields a human may edit while the thread is paused; "
        "feedback: a steer the next node reads."
    )
    as_node: str | None = Field(
        default=None, description="The node the edit is made as (LangGraph's as_node)."
    )
    checkpoint_id: str | None = Field(default=None, description="Edit from this checkpoint (a fork).")
    checkpoint: dict[str, Any] | None = Field(
        default=None, description="{checkpoint_id}: the same, as LangGraph sends it."
    )

    def from_checkpoint(self) -> str | None:
        return self.checkpoint_id or (self.checkpoint or {}).get("checkpoint_id")


# ------------------------------------------------------------------ answers


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    research: str


class Thread(BaseModel):
    thread_id: str
    created_at: str
    updated_at: str
    title: str | None = Field(description="The task of the thread's latest piece.")
    metadata: dict[str, Any]
    status: ThreadStatus
    error: str | None
    run_id: str | None = Field(description="The running run while busy, else the most recent one.")


class ThreadPage(BaseModel):
    threads: list[Thread]
    next_cursor: str | None


class Checkpoint(BaseModel):
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None


class Task(BaseModel):
    id: str
    name: str
    error: str | None
    interrupts: list[dict[str, Any]]
    path: list[str]
    checkpoint: dict[str, Any] | None
    state: dict[str, Any] | None
    result: Any = Field(description="The node's saved result, before its step is committed.")


class ThreadState(BaseModel):
    """LangGraph's ThreadState shape."""

    values: dict[str, Any]
    next: list[str]
    tasks: list[Task]
    interrupts: list[dict[str, Any]]
    checkpoint: Checkpoint | None
    parent_checkpoint: Checkpoint | None
    metadata: dict[str, Any]
    created_at: str | None


class Run(BaseModel):
    run_id: str
    thread_id: str
    status: RunStatus
    created_at: str
    updated_at: str
    last_seq: int
    error: str | None


class CancelledRun(Run):
    cancel_requested: bool


class RunResult(BaseModel):
    """POST /runs/invoke: the run's end and the state it left."""

    thread_id: str
    run_id: str
    status: RunStatus
    next: list[str]
    values: dict[str, Any]
    error: str | None = None


# ------------------------------------------------------------------ the run stream's events


class _Event(BaseModel):
    thread_id: str
    run_id: str
    seq: int = Field(description="1, 2, 3, ... within a run: the event's id for a join.")


class MetadataEvent(_Event):
    event: Literal["metadata"]
    model: str
    research: str
    resumed: bool
    use_hitl: bool


class NodeStartEvent(_Event):
    event: Literal["node_start"]
    node: str


class TokenEvent(_Event):
    event: Literal["token"]
    node: str
    delta: str


class NodeEvent(_Event):
    event: Literal["node"]
    node: str
    data: dict[str, Any] = Field(description="The node's fields (plan, draft, ...) and its message.")
    replayed: bool | None = None


class InterruptEvent(_Event):
    event: Literal["interrupt"]
    next: list[str]
    reason: Literal["hitl", "deadline", "cancelled", "stopped"]


class CompleteEvent(_Event):
    event: Literal["complete"]


class ErrorEvent(_Event):
    event: Literal["error"]
    error: str
    resumable: bool


RunEvent = Annotated[
    MetadataEvent | NodeStartEvent | TokenEvent | NodeEvent | InterruptEvent | CompleteEvent | ErrorEvent,
    Field(discriminator="event"),
]
