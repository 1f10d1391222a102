"""LangGraph Server's runs: the request fields LangGraph's clients send (input, command,
stream_mode, interrupts, config, context, checkpoint), the graph driven with them, and its
stream parts stored as events in LangGraph's stream modes (docs/api.md, "LangGraph API").

The travel writer's pauses are static interrupts: unless the request names its own
``interrupt_before``/``interrupt_after``, a run with ``use_hitl`` (the assistant's default) stops
after every node, and the stream says so as ``__interrupt__`` in ``updates`` and in a last
``values``. ``input: null`` or ``command: {resume: …}`` goes on; a resume that is text (or
``{"feedback": text}``) is the human's steer for the next node, as is ``feedback`` set through
``command.update`` or the state API."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, StreamMode

from wayfarer.errors import InvalidRequest, NotFound
from wayfarer.event_log import RunKind, RunRecord, RunStatus
from wayfarer.events import RunEvents, error_data
from wayfarer.graph.builder import NODES
from wayfarer.graph.state import STEERING_FIELD, WriterState, new_piece
from wayfarer.jsonable import jsonable
from wayfarer.leases import Lease, RecordFields
from wayfarer.persistence import ThreadExists
from wayfarer.table_keys import ThreadRef
from wayfarer.thread_state import pause_interrupts, snapshot_interrupts

if TYPE_CHECKING:
    from wayfarer.langgraph_schemas import RunCreate
    from wayfarer.runs import Emit, Outcome, Run, RunService

logger = Logger(service="wayfarer", child=True)

ASSISTANT_ID = "travel_writer"  # the one assistant, and its graph's id
# The stream modes a client may ask for, each with the graph's own mode that feeds it.
STREAM_MODES: dict[str, StreamMode] = {
    "values": "values",
    "updates": "updates",
    "messages-tuple": "messages",
    "messages": "messages",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
}
# What the run needs for itself whatever the client asked: nodes starting, ending and pausing.
OWN_MODES: tuple[StreamMode, ...] = ("updates", "tasks", "checkpoints")
CONTEXT_FIELDS = frozenset({"use_hitl", "max_revisions"})
STATE_FIELDS = frozenset(WriterState.__annotations__)
# Where a LangGraph run's status differs from ours: a pause for the human is a run that
# succeeded (as LangGraph Server reports a run that stopped at a breakpoint); a cancel is
# LangGraph's "interrupted".
GRAPH_RUN_STATUS: dict[RunStatus, str] = {
    "running": "running",
    "interrupted": "success",
    "complete": "success",
    "error": "error",
    "cancelled": "interrupted",
}


def public_thread_ids(value: Any, ref: ThreadRef) -> Any:
    """Stream parts name the thread by its storage key; the client knows it by its id."""
    if ref.key == ref.thread_id:
        return value
    if isinstance(value, dict):
        return {
            k: (ref.thread_id if k == "thread_id" and v == ref.key else public_thread_ids(v, ref))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [public_thread_ids(v, ref) for v in value]
    return value


def check_assistant_id(assistant_id: str) -> None:
    if assistant_id != ASSISTANT_ID:
        raise NotFound(f"Assistant {assistant_id!r} does not exist; the assistant is {ASSISTANT_ID!r}.")


def graph_run_json(record: RunRecord, thread_id: str) -> dict[str, Any]:
    """A run in LangGraph's Run shape (and ours: last_seq, error)."""
    info = record.info or {}
    return {
        "run_id": record.run_id,
        "thread_id": thread_id,
        "assistant_id": info.get("assistant_id", ASSISTANT_ID),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "status": GRAPH_RUN_STATUS[record.status],
        "metadata": info.get("metadata", {}),
        "multitask_strategy": info.get("multitask_strategy", "reject"),
        "kwargs": info.get("kwargs", {}),
        "last_seq": record.last_seq,
        "error": record.error,
    }


def steer(resume: Any) -> str | None:
    """A resume value that is the human's steer: text, or ``{"feedback": text}``."""
    if isinstance(resume, dict) and set(resume) == {STEERING_FIELD}:
        resume = resume[STEERING_FIELD]
    return resume.strip() or None if isinstance(resume, str) else None


class MessageStream:
    """LangGraph Server's ``messages`` mode from the graph's message chunks: the metadata of
    each new message once, the message so far after every chunk, and the whole message."""

    def __init__(self) -> None:
        self.partial: dict[str, AIMessageChunk] = {}
        self.seen: set[str] = set()

    def parts(self, message: BaseMessage, metadata: dict[str, Any]) -> list[tuple[str, Any]]:
        message_id = message.id or ""
        parts: list[tuple[str, Any]] = []
        if message_id not in self.seen:
            self.seen.add(message_id)
            parts.append(("messages/metadata", {message_id: {"metadata": metadata}}))
        if isinstance(message, AIMessageChunk):
            so_far = self.partial.get(message_id)
            so_far = message if so_far is None else so_far + message
            self.partial[message_id] = so_far
            parts.append(("messages/partial", [so_far.model_dump()]))
        else:
            self.partial.pop(message_id, None)
            parts.append(("messages/complete", [message.model_dump()]))
        return parts


class GraphDriver:
    """One LangGraph run of the travel writer."""

    kind: RunKind = "langgraph"
    listed_at_start = True  # LangGraph clients list and get a run right after creating it

    def __init__(self, service: RunService, body: RunCreate) -> None:
        self.service = service
        self.body = body
        self.modes = body.stream_modes()
        context = dict(body.context or {})
        configurable = (body.config or {}).get("configurable", {})
        use_hitl = context.get("use_hitl", configurable.get("use_hitl", True))
        if not isinstance(use_hitl, bool):
            raise InvalidRequest("use_hitl (in context or config.configurable) must be true or false.")
        self.use_hitl = use_hitl
        max_revisions = context.get("max_revisions", configurable.get("max_revisions"))
        if max_revisions is not None and not (isinstance(max_revisions, int) and 1 <= max_revisions <= 5):
            raise InvalidRequest("max_revisions (in context or config.configurable) must be 1 to 5.")
        self.max_revisions: int | None = max_revisions
        self.interrupt_after = body.interrupt_after
        if body.interrupt_before is None and body.interrupt_after is None and use_hitl:
            self.interrupt_after = list(NODES)
        # Paused after every node (how LangGraph's SDK drives a HITL journey): one node a run.
        after = self.interrupt_after
        self.one_node_per_run = after == "*" or set(NODES) <= set(after or ())

    def record_at_take(self, ref: ThreadRef) -> RecordFields | None:
        return None  # a LangGraph thread is created by POST /threads, or in prepare

    def record_info(self) -> dict[str, Any]:
        body = self.body
        return {
            "assistant_id": body.assistant_id,
            "metadata": body.metadata or {},
            "multitask_strategy": body.multitask_strategy,
            "kwargs": body.model_dump(
                include={"input", "command", "stream_mode", "interrupt_before", "interrupt_after", "context"},
                exclude_none=True,
            ),
        }

    def checkpoint_id(self) -> str | None:
        body = self.body
        if body.checkpoint_id:
            return body.checkpoint_id
        return (body.checkpoint or {}).get("checkpoint_id")

    def config(self, ref: ThreadRef, run_id: str) -> RunnableConfig:
        body = self.body
        user = dict(body.config or {})
        configurable = {**user.pop("configurable", {}), **self.service.config(ref)["configurable"]}
        if checkpoint_id := self.checkpoint_id():
            configurable["checkpoint_id"] = checkpoint_id
        config: RunnableConfig = {
            **cast(RunnableConfig, user),
            "configurable": configurable,
            "metadata": {**user.get("metadata", {}), **(body.metadata or {}), "run_id": run_id},
        }
        return config

    async def prepare(self, ref: ThreadRef, lease: Lease) -> Any:
        """The graph input: a Command, a new piece, or None to go on from where it stands."""
        service, body = self.service, self.body
        # What the lease's take found on the thread's item (a thread created after the take,
        # by a POST /threads racing this run, is not seen: the run is refused as for none).
        if not lease.had_record:
            if body.if_not_exists != "create":
                raise NotFound(
                    f"Thread {ref.thread_id!r} does not exist. Create it first, or send "
                    'if_not_exists: "create".'
                )
            with contextlib.suppress(ThreadExists):
                await service.threads.create(ref, {"graph_id": ASSISTANT_ID, "assistant_id": ASSISTANT_ID})
        if body.command is not None:
            return self._command()
        if body.input is not None:
            piece = self._new_piece(body.input)
            await service.threads.start_piece(ref, piece["task"])
            return piece
        snapshot = await service.graph.aget_state(service.config(ref))
        if not snapshot.values and not self.checkpoint_id():
            raise InvalidRequest(
                f"Thread {ref.thread_id!r} is new: send input with the task, "
                'e.g. {"task": "Write about visiting Paris"}.'
            )
        return None

    def _command(self) -> Command[Any]:
        command = self.body.command
        assert command is not None
        update = command.update
        if text := steer(command.resume):
            steering = {STEERING_FIELD: text, "messages": [HumanMessage(text)]}
            if isinstance(update, dict):
                update = {**steering, **update}
            elif update is None:
                update = steering
            else:
                raise InvalidRequest("command: send a text resume or an update list, not both.")
        return Command(resume=command.resume, update=update, goto=command.goto or ())

    def _new_piece(self, given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - STATE_FIELDS)
        if unknown:
            raise InvalidRequest(
                f"input has {', '.join(unknown)}, which the travel writer's state does not; "
                f"its fields are {', '.join(sorted(STATE_FIELDS))}."
            )
        task = given.get("task") or last_human_text(given.get("messages"))
        if not isinstance(task, str) or not task.strip():
            raise InvalidRequest(
                'input needs the task: {"task": "Write about visiting Paris"}, or a human message.'
            )
        max_revisions = given.get("max_revisions", self.max_revisions)
        piece: dict[str, Any] = {**new_piece(task.strip(), max_revisions), **given, "task": task.strip()}
        if "messages" not in given:
            piece["messages"] = [HumanMessage(task.strip())]
        return piece

    def first_event(self, events: RunEvents) -> dict[str, Any]:
        return events.make("metadata", data={"run_id": events.run_id, "attempt": 1})

    def terminal(self, outcome: Outcome, events: RunEvents) -> dict[str, Any]:
        if outcome.event == "error":
            message = outcome.fields.get("error", "The run failed.")
            return events.make("error", data={"error": "RunError", "message": message}, error=message)
        status: RunStatus = "complete"
        if outcome.event == "interrupt":
            status = "cancelled" if outcome.fields.get("reason") == "cancelled" else "interrupted"
        return events.make("end", status=status)

    async def drive(
        self, run: Run, graph_input: Any, emit: Emit, events: RunEvents, running: dict[str, float]
    ) -> Outcome:
        from wayfarer.runs import Outcome

        ref, body = run.ref, self.body
        wanted = set(self.modes)
        graph_modes = sorted({STREAM_MODES[m] for m in wanted} | set(OWN_MODES))
        messages = MessageStream()
        last_values: dict[str, Any] | None = None
        next_nodes: list[str] = []
        checkpoint_id: str | None = None
        interrupted = False

        def send(mode: str, data: Any, namespace: tuple[str, ...] = ()) -> None:
            name = "|".join((mode, *namespace))
            emit(events.make(name, data=public_thread_ids(jsonable(data), ref)))

        async for part in self.service.graph.astream(
            graph_input,
            self.config(ref, run.run_id),
            stream_mode=graph_modes,
            interrupt_before=body.interrupt_before,
            interrupt_after=self.interrupt_after,
            subgraphs=body.stream_subgraphs,
            durability="sync",
        ):
            namespace: tuple[str, ...] = ()
            if body.stream_subgraphs:
                namespace, mode, chunk = cast(tuple[tuple[str, ...], StreamMode, Any], part)
            else:
                mode, chunk = cast(tuple[StreamMode, Any], part)
            if not namespace:
                if mode == "tasks" and "result" not in chunk:
                    running[chunk["name"]] = time.perf_counter()
                elif mode == "updates":
                    interrupted = interrupted or "__interrupt__" in chunk
                    for node in chunk:
                        running.pop(node, None)
                elif mode == "checkpoints":
                    next_nodes = list(chunk["next"])
                    checkpoint_id = chunk["config"]["configurable"].get("checkpoint_id")
                elif mode == "values":
                    last_values = chunk
            if mode == "messages":
                message, metadata = cast(tuple[BaseMessage, dict[str, Any]], chunk)
                if "messages-tuple" in wanted:
                    send("messages", [message, metadata], namespace)
                if "messages" in wanted:
                    for name, data in messages.parts(message, metadata):
                        send(name, data, namespace)
                continue
            if mode == "updates" and "__interrupt__" in chunk and "updates" in wanted and next_nodes:
                send("updates", {"__interrupt__": pause_interrupts(next_nodes, checkpoint_id)}, namespace)
                continue
            if mode in wanted:
                send(mode, chunk, namespace)
        if not (interrupted and next_nodes):  # a pause after the last node is the end
            return Outcome("complete")
        if "values" in wanted and last_values is not None:
            send("values", {**last_values, "__interrupt__": pause_interrupts(next_nodes, checkpoint_id)})
        return Outcome("interrupt", {"next": next_nodes, "reason": "hitl"})


def last_human_text(messages: Any) -> str | None:
    """The text of the last human message in a messages input (dicts or LangChain messages)."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, HumanMessage):
            return message.text
        if isinstance(message, dict) and message.get("type", message.get("role")) in ("human", "user"):
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return None


async def final_values(
    service: RunService, ref: ThreadRef, terminal: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What runs/wait and runs/join answer: the thread's values as the run left them, with the
    pause as ``__interrupt__``, or the failure as ``__error__``."""
    snapshot = await service.graph.aget_state(service.config(ref))
    values: dict[str, Any] = public_thread_ids(jsonable(snapshot.values or {}), ref)
    if terminal is not None and terminal["event"] == "error":
        return {**values, "__error__": error_data(terminal)}
    if snapshot.next:
        values["__interrupt__"] = snapshot_interrupts(snapshot, ref.thread_id)
    return values
