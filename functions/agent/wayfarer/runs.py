"""Run orchestration: threads, runs and the events they produce.

The HTTP layer reaches the graph and persistence only through ``RunService``. A run executes
in its own task, one node per graph call (``interrupt_after`` every node), so between nodes
it can pause for the human, stop before an invocation deadline, or stop because the client
left, always on a saved checkpoint."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from aws_lambda_powertools import Logger
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot, StreamMode

from wayfarer.errors import Conflict, InvalidRequest, NotFound
from wayfarer.events import TERMINAL_EVENTS, RunEvents
from wayfarer.graph.builder import DEFAULT_MAX_REVISIONS, NODES
from wayfarer.graph.state import EDITABLE_FIELDS
from wayfarer.persistence import ThreadExists, ThreadRecord, ThreadRecords
from wayfarer.thread_state import snapshot_json, values_json

logger = Logger(service="wayfarer", child=True)

THREAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the one rule; the API validates with it too
# Derived from the lease and the latest checkpoint, never stored.
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
STREAM_MODES: list[StreamMode] = ["updates", "custom", "tasks", "checkpoints"]


@dataclass(frozen=True)
class RunRequest:
    thread_id: str | None = None
    message: str | None = None
    use_hitl: bool = True
    max_revisions: int | None = None
    # Epoch seconds by which the run must have stopped (Lambda's invocation deadline).
    deadline: float | None = None


class RunLeases:
    """Which thread has a run going, in this process. Best effort: a durable lease in
    DynamoDB replaces it when runs of one thread can land on different instances."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def acquire(self, thread_id: str, run_id: str) -> str | None:
        """Take the thread for ``run_id``; answer the current holder when it is taken."""
        holder = self._holders.setdefault(thread_id, run_id)
        return None if holder == run_id else holder

    def release(self, thread_id: str, run_id: str) -> None:
        if self._holders.get(thread_id) == run_id:
            del self._holders[thread_id]

    def busy(self, thread_id: str) -> bool:
        return thread_id in self._holders


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its terminal event and that event's fields."""

    event: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)  # hashed by identity: runs are kept in a set while they go
class Run:
    thread_id: str
    run_id: str
    request: RunRequest
    resumed: bool
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    stop_requested: bool = False
    task: asyncio.Task[None] | None = None

    def request_stop(self) -> None:
        """Stop at the next node boundary (the client left); the current node finishes."""
        self.stop_requested = True

    async def events(self, idle_tick: float | None = None) -> AsyncIterator[dict[str, Any] | None]:
        """The run's events until the terminal one; ``None`` after ``idle_tick`` quiet seconds."""
        while True:
            try:
                event = await asyncio.wait_for(self.queue.get(), timeout=idle_tick)
            except TimeoutError:
                yield None
                continue
            yield event
            if event["event"] in TERMINAL_EVENTS:
                return


class RunService:
    def __init__(
        self,
        *,
        graph: CompiledStateGraph[Any],
        checkpointer: BaseCheckpointSaver[Any],
        threads: ThreadRecords,
        model_name: str,
        research_name: str,
        max_message_chars: int = 8000,
        deadline_margin_seconds: float = 60.0,
        leases: RunLeases | None = None,
    ) -> None:
        self.graph = graph
        self.checkpointer = checkpointer
        self.threads = threads
        self.model_name = model_name
        self.research_name = research_name
        self.max_message_chars = max_message_chars
        self.deadline_margin_seconds = deadline_margin_seconds
        self.leases = leases or RunLeases()
        self._runs: set[Run] = set()

    # ------------------------------------------------------------------ threads

    @staticmethod
    def config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}

    async def _record(self, thread_id: str) -> ThreadRecord:
        record = await self.threads.get(thread_id)
        if record is not None:
            return record
        # A record can expire (TTL) while newer checkpoints live on: rebuild it from them.
        if (await self.graph.aget_state(self.config(thread_id))).values:
            with suppress(ThreadExists):
                return await self.threads.create(thread_id)
            return await self._record(thread_id)
        raise NotFound(f"Thread {thread_id!r} does not exist. Create it with POST /threads or start a run.")

    def thread_status(
        self, thread_id: str, snapshot: StateSnapshot | None
    ) -> tuple[ThreadStatus, str | None]:
        """Derived, never stored: the lease says busy, the checkpoint says the rest."""
        if self.leases.busy(thread_id):
            return "busy", None
        if snapshot is None or not snapshot.next:
            return "idle", None
        errors = [str(task.error) for task in snapshot.tasks if task.error]
        return ("error", errors[0]) if errors else ("interrupted", None)

    def _thread_json(self, record: ThreadRecord, snapshot: StateSnapshot | None) -> dict[str, Any]:
        status, error = self.thread_status(record.thread_id, snapshot)
        updated_at = snapshot.created_at if snapshot and snapshot.created_at else record.created_at
        return {**record.as_json(), "updated_at": updated_at, "status": status, "error": error}

    async def create_thread(self, thread_id: str | None, metadata: dict[str, Any] | None) -> dict[str, Any]:
        thread_id = thread_id or str(uuid.uuid4())
        try:
            record = await self.threads.create(thread_id, metadata)
        except ThreadExists as exc:
            raise Conflict(f"Thread {thread_id!r} already exists; use it, or choose another id.") from exc
        return self._thread_json(record, None)

    async def get_thread(self, thread_id: str) -> dict[str, Any]:
        record = await self._record(thread_id)
        return self._thread_json(record, await self.graph.aget_state(self.config(thread_id)))

    async def get_state(self, thread_id: str) -> dict[str, Any]:
        await self._record(thread_id)
        return snapshot_json(await self.graph.aget_state(self.config(thread_id)))

    async def update_state(self, thread_id: str, values: dict[str, Any]) -> dict[str, Any]:
        await self._record(thread_id)
        unknown = sorted(set(values) - EDITABLE_FIELDS)
        if unknown:
            raise InvalidRequest(
                f"Cannot edit {', '.join(unknown)}; only {', '.join(sorted(EDITABLE_FIELDS))} can be edited."
            )
        async with self._holding(thread_id, "is running; edit it when it pauses"):
            snapshot = await self.graph.aget_state(self.config(thread_id))
            if not snapshot.next:
                raise Conflict(
                    f"Thread {thread_id!r} is not paused; edits are accepted only while it is paused."
                )
            await self.graph.aupdate_state(self.config(thread_id), values)
            return snapshot_json(await self.graph.aget_state(self.config(thread_id)))

    async def history(self, thread_id: str, limit: int) -> list[dict[str, Any]]:
        await self._record(thread_id)
        return [
            snapshot_json(s) async for s in self.graph.aget_state_history(self.config(thread_id), limit=limit)
        ]

    async def delete_thread(self, thread_id: str) -> None:
        await self._record(thread_id)
        async with self._holding(thread_id, "is running; delete it when the run has stopped"):
            await self.checkpointer.adelete_thread(thread_id)
            await self.threads.delete(thread_id)

    @asynccontextmanager
    async def _holding(self, thread_id: str, refusal: str) -> AsyncIterator[None]:
        """Hold the thread's lease for an edit or a delete, so no run starts halfway."""
        holder_id = f"edit-{uuid.uuid4()}"
        if self.leases.acquire(thread_id, holder_id):
            raise Conflict(f"Thread {thread_id!r} {refusal}.")
        try:
            yield
        finally:
            self.leases.release(thread_id, holder_id)

    # ------------------------------------------------------------------ runs

    async def start_run(self, request: RunRequest) -> Run:
        """Validate, take the thread and start the run. Every refusal happens here, before
        any byte of a stream is sent."""
        message = (request.message or "").strip()
        if len(message) > self.max_message_chars:
            raise InvalidRequest(
                f"message is {len(message)} characters; the limit is {self.max_message_chars}. Shorten it."
            )
        thread_id = request.thread_id or str(uuid.uuid4())
        if not THREAD_ID.match(thread_id):
            raise InvalidRequest("thread_id must be 1-64 letters, digits, '_' or '-'.")
        run_id = str(uuid.uuid4())
        holder = self.leases.acquire(thread_id, run_id)
        if holder:
            raise Conflict(
                f"Thread {thread_id!r} already has a run in progress ({holder}); wait for it to pause."
            )
        try:
            graph_input, resumed = await self._prepare(thread_id, message, request.max_revisions)
        except BaseException:
            self.leases.release(thread_id, run_id)
            raise
        run = Run(thread_id, run_id, request, resumed)
        run.task = asyncio.create_task(self._execute(run, graph_input))
        self._runs.add(run)
        run.task.add_done_callback(lambda _: self._runs.discard(run))
        return run

    async def _prepare(self, thread_id: str, message: str, max_revisions: int | None) -> tuple[Any, bool]:
        """The graph input: None to resume a paused or failed thread, else a new piece."""
        config = self.config(thread_id)
        snapshot = await self.graph.aget_state(config)
        if snapshot.next:
            update: dict[str, Any] = {}
            # Resending the task itself (the seed's curl, repeated) continues; it does not steer.
            if message and message != snapshot.values.get("task"):
                update = {"feedback": message, "messages": [HumanMessage(message)]}
            if max_revisions is not None and max_revisions != snapshot.values.get("max_revisions"):
                update["max_revisions"] = max_revisions
            if update:
                await self.graph.aupdate_state(config, update)
            return None, True
        if not message:
            state = "finished" if snapshot.values else "new"
            raise InvalidRequest(
                f"Thread {thread_id!r} is {state}: send a non-empty message with what to write about."
            )
        if not snapshot.values:  # the seed runs on ids it never created: create the thread
            with suppress(ThreadExists):
                await self.threads.create(thread_id)
        return {
            "task": message,
            "plan": None,
            "draft": None,
            "critique": None,
            "queries": [],
            "content": [],
            "revision_number": 0,
            "max_revisions": max_revisions or DEFAULT_MAX_REVISIONS,
            "feedback": None,
            "messages": [HumanMessage(message)],
        }, False

    def _deadline_near(self, request: RunRequest) -> bool:
        return request.deadline is not None and request.deadline - time.time() < self.deadline_margin_seconds

    async def _execute(self, run: Run, graph_input: Any) -> None:
        events = RunEvents(run.thread_id, run.run_id)
        request = run.request
        run.queue.put_nowait(
            events.make(
                "metadata",
                model=self.model_name,
                research=self.research_name,
                resumed=run.resumed,
                use_hitl=request.use_hitl,
            )
        )
        running: dict[str, float] = {}
        outcome: Outcome | None = None
        try:
            with logger.append_context_keys(thread_id=run.thread_id, run_id=run.run_id):
                logger.info("run started", extra={"resumed": run.resumed, "use_hitl": request.use_hitl})
                try:
                    outcome = await self._drive(run, events, graph_input, running)
                except Exception as exc:
                    failed = ", ".join(running) or "the run"
                    error = (
                        f"{failed} failed: {exc}. Nothing is lost: send again to retry from the last step."
                    )
                    logger.exception("run failed", extra={"node": failed})
                    outcome = Outcome("error", {"error": error, "resumable": True})
                logger.info("run ended", extra={"outcome": outcome.event, **outcome.fields})
        finally:
            # Whatever happened (even cancellation): free the thread, then end the stream.
            # In that order, so a client that sends again at once never meets a 409.
            self.leases.release(run.thread_id, run.run_id)
            if outcome is None:
                outcome = Outcome(
                    "error", {"error": "The run was cancelled; send again to resume.", "resumable": True}
                )
            run.queue.put_nowait(events.make(outcome.event, **outcome.fields))

    async def _drive(
        self, run: Run, events: RunEvents, graph_input: Any, running: dict[str, float]
    ) -> Outcome:
        """Run node after node until the graph ends or the run must pause."""
        emit = run.queue.put_nowait
        request = run.request
        config: RunnableConfig = {**self.config(run.thread_id), "metadata": {"run_id": run.run_id}}
        while True:
            if graph_input is None and self._deadline_near(request):
                return await self._pause(run.thread_id, "deadline")
            interrupted = False
            next_nodes: list[str] = []
            async for part in self.graph.astream(
                graph_input,
                config,
                stream_mode=STREAM_MODES,
                interrupt_after=list(NODES),
                durability="sync",
            ):
                mode, chunk = cast(tuple[StreamMode, dict[str, Any]], part)
                if mode == "custom":
                    emit(events.make("token", node=chunk["node"], delta=chunk["delta"]))
                elif mode == "checkpoints":
                    next_nodes = list(chunk["next"])
                elif mode == "tasks" and "result" not in chunk:
                    running[chunk["name"]] = time.perf_counter()
                    emit(events.make("node_start", node=chunk["name"]))
                elif mode == "updates":
                    for node, update in chunk.items():
                        if node == "__interrupt__":
                            interrupted = True
                            continue
                        elapsed = time.perf_counter() - running.pop(node, time.perf_counter())
                        logger.info(
                            "node finished", extra={"node": node, "duration_ms": round(elapsed * 1000)}
                        )
                        emit(events.node(node, update))
            graph_input = None
            if not interrupted or not next_nodes:  # a pause after the last node is the end
                return Outcome("complete")
            if request.use_hitl or run.stop_requested:
                reason = "hitl" if request.use_hitl else "stopped"
                return Outcome("interrupt", {"next": next_nodes, "reason": reason})

    async def _pause(self, thread_id: str, reason: str) -> Outcome:
        snapshot = await self.graph.aget_state(self.config(thread_id))
        return Outcome("interrupt", {"next": list(snapshot.next), "reason": reason})

    async def invoke(self, request: RunRequest) -> dict[str, Any]:
        run = await self.start_run(request)
        last: dict[str, Any] = {}
        async for event in run.events():
            if event is not None:
                last = event
        snapshot = await self.graph.aget_state(self.config(run.thread_id))
        status = {"interrupt": "interrupted", "complete": "complete"}.get(last.get("event", ""), "error")
        answer: dict[str, Any] = {
            "thread_id": run.thread_id,
            "run_id": run.run_id,
            "status": status,
            "next": list(snapshot.next),
            "values": values_json(snapshot.values or {}),
        }
        if status == "error":
            answer["error"] = last.get("error")
        return answer

    async def drain(self, grace_seconds: float = 30.0) -> None:
        """At shutdown: ask every run to stop at its next node boundary and wait for that, up
        to ``grace_seconds``; a run still going then resumes from its last checkpoint."""
        tasks = [run.task for run in self._runs if run.task]
        for run in self._runs:
            run.request_stop()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)
