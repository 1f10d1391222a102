"""LangGraph Server's request and answer bodies, as its clients send and read them. Every field
named here is honoured; any other is a 422 naming it (``extra="forbid"``), and values that
cannot be honoured say why."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from wayfarer.errors import InvalidRequest
from wayfarer.graph.builder import NODES
from wayfarer.graph_runs import CONTEXT_FIELDS, STREAM_MODES
from wayfarer.schemas import ThreadId, metadata_size, valid_unicode

Json = Annotated[dict[str, Any], AfterValidator(valid_unicode)]
Metadata = Annotated[dict[str, Any], AfterValidator(valid_unicode), AfterValidator(metadata_size)]
# The client sets these in config: the server owns the thread's address.
RESERVED_CONFIGURABLE = frozenset({"thread_id", "checkpoint_ns", "checkpoint_map", "checkpoint_id"})
CONFIG_FIELDS = frozenset({"configurable", "tags", "recursion_limit", "metadata", "run_name"})


def node_names(value: Literal["*"] | list[str] | None) -> Literal["*"] | list[str] | None:
    if isinstance(value, list):
        unknown = sorted(set(value) - set(NODES))
        if unknown:
            raise ValueError(f"names no node {', '.join(unknown)}; the nodes are {', '.join(NODES)}")
    return value


Interrupts = Annotated[Literal["*"] | list[str] | None, AfterValidator(node_names)]


def selected(
    rows: list[dict[str, Any]], select: list[str] | None, model: type[BaseModel], one: str
) -> list[dict[str, Any]]:
    """A search's ``select``: only those fields of each row; a field ``model`` lacks is a 422
    (``one``: what a row is, "a thread")."""
    if not select:
        return rows
    unknown = sorted(set(select) - set(model.model_fields))
    if unknown:
        raise InvalidRequest(f"select names {', '.join(unknown)}; {one} has {', '.join(model.model_fields)}.")
    return [{k: row[k] for k in select} for row in rows]


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resume: Any = Field(
        default=None, description='Goes on from the pause; text (or {"feedback": text}) steers the next node.'
    )
    update: Json | list[Any] | None = None
    goto: str | list[str] | None = None

    @field_validator("goto")
    @classmethod
    def _goto_nodes(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else value or []
        unknown = sorted(set(names) - set(NODES))
        if unknown:
            raise ValueError(f"names no node {', '.join(unknown)}; the nodes are {', '.join(NODES)}")
        return value


class RunCreate(BaseModel):
    """POST /threads/{thread_id}/runs[/stream|/wait] and the stateless /runs/stream, /runs/wait."""

    model_config = ConfigDict(extra="forbid")
    assistant_id: str = Field(description='The assistant: "travel_writer".')
    input: Json | None = None
    command: CommandBody | None = None
    stream_mode: str | list[str] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = Field(
        default=False, description="Send each event's id (every run's events are kept for a join anyway)."
    )
    interrupt_before: Interrupts = None
    interrupt_after: Interrupts = None
    config: Json | None = None
    context: Json | None = None
    metadata: Metadata | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] = "reject"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] | None = Field(
        default=None, description="Stateless runs only: keep or delete (default) their thread."
    )
    checkpoint: Json | None = None
    checkpoint_id: str | None = None

    @field_validator("stream_mode")
    @classmethod
    def _known_modes(cls, value: str | list[str]) -> str | list[str]:
        modes = [value] if isinstance(value, str) else value
        unknown = [m for m in modes if m not in STREAM_MODES]
        if "events" in unknown:
            raise ValueError(
                "events is not supported (it needs LangChain's callback events); use messages-tuple for "
                "tokens, updates or values for state"
            )
        if unknown:
            raise ValueError(f"has {', '.join(unknown)}; the modes are {', '.join(STREAM_MODES)}")
        return value

    @field_validator("multitask_strategy")
    @classmethod
    def _strategies(cls, value: str) -> str:
        if value == "rollback":
            raise ValueError(
                "rollback is not supported: a run's steps are saved as they happen; use interrupt "
                "(the running run is cancelled, its node redone later) or reject"
            )
        return value

    @field_validator("context")
    @classmethod
    def _context(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(value or {}) - CONTEXT_FIELDS)
        if unknown:
            raise ValueError(
                f"has {', '.join(unknown)}; the travel writer's context takes "
                f"{', '.join(sorted(CONTEXT_FIELDS))}"
            )
        return value

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(value or {}) - CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"has {', '.join(unknown)}; config takes {', '.join(sorted(CONFIG_FIELDS))}")
        configurable = (value or {}).get("configurable") or {}
        if not isinstance(configurable, dict):
            raise ValueError("configurable must be an object")
        reserved = sorted(set(configurable) & RESERVED_CONFIGURABLE)
        if reserved:
            raise ValueError(
                f"configurable sets {', '.join(reserved)}, which the server sets from the path "
                "(use checkpoint_id for a checkpoint)"
            )
        return value

    def stream_modes(self) -> list[str]:
        return [self.stream_mode] if isinstance(self.stream_mode, str) else list(self.stream_mode)


class ThreadSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: Json | None = Field(
        default=None, description="Threads whose metadata has these keys and values."
    )
    ids: list[ThreadId] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1000)
    sort_by: Literal["updated_at"] = Field(default="updated_at", description="Newest activity first.")
    sort_order: Literal["desc"] = "desc"
    select: list[str] | None = Field(default=None, description="The fields of each thread to answer.")


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: Metadata = Field(description="Merged into the thread's metadata.")


class CheckpointRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: str | None = None
    checkpoint_ns: Literal[""] = ""
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, Any] | None = None


class StateAt(BaseModel):
    """POST /threads/{thread_id}/state/checkpoint."""

    model_config = ConfigDict(extra="forbid")
    checkpoint: CheckpointRef
    subgraphs: bool = False


class HistoryQuery(BaseModel):
    """POST /threads/{thread_id}/history."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10, ge=1, le=100)
    before: CheckpointRef | str | None = None
    metadata: Json | None = None
    checkpoint: CheckpointRef | None = None


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    graph_id: str | None = None
    name: str | None = None
    metadata: Json | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


# ------------------------------------------------------------------ answers


class Assistant(BaseModel):
    assistant_id: str
    graph_id: str
    name: str
    description: str | None
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    version: int
    created_at: str
    updated_at: str


class GraphRun(BaseModel):
    """LangGraph's Run shape (and ours: last_seq, error)."""

    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"]
    metadata: dict[str, Any]
    multitask_strategy: str
    kwargs: dict[str, Any]
    last_seq: int
    error: str | None


class CancelledGraphRun(GraphRun):
    cancel_requested: bool
