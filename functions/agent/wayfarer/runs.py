"""Run orchestration: threads, runs and the events they produce.

The HTTP layer reaches the graph and persistence only through ``RunService``. Any request may
land on a different instance, so nothing about a run lives only in this process: the lease
(who runs a thread, and a cancel asked of it) and the run's events are in DynamoDB
(``leases``, ``event_log``). A run executes in its own task, one node per graph call
(``interrupt_after`` every node), so between nodes it can pause for the human or stop before an
invocation deadline, always on a saved checkpoint; a cancel or a lost lease stops it mid-node,
discarding only the node it was in."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

from wayfarer.aws_errors import public_error
from wayfarer.checkpointer import current_scope, run_scope
from wayfarer.errors import Conflict, InvalidRequest, NotFound
from wayfarer.event_log import EventLog, EventLogWriter, RunKind, RunRecord, RunStatus, final_status
from wayfarer.events import TERMINAL_EVENTS, RunEvents
from wayfarer.graph.builder import NODES
from wayfarer.graph.state import EDITABLE_FIELDS, STEERING_FIELD
from wayfarer.graph_runs import graph_run_json
from wayfarer.leases import (
    HolderKind,
    LastRun,
    Lease,
    LeaseFence,
    LeaseLost,
    LeaseState,
    LeaseTaken,
    RecordFields,
    RunLeases,
    current_fence,
)
from wayfarer.persistence import ThreadExists, ThreadRecord, ThreadRecords, now_iso, record_of
from wayfarer.run_steps import RunSteps
from wayfarer.seed_runs import RunRequest, SeedDriver
from wayfarer.table_keys import ThreadRef
from wayfarer.thread_state import snapshot_json, values_json

logger = Logger(service="wayfarer", child=True)

THREAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the one rule; the API validates with it too
RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Derived from the lease and the latest checkpoint, never stored.
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
StopReason = Literal["cancelled", "lost"]
VANISHED = (
    "The run stopped without finishing: the instance running it went away (a crash or a "
    "timeout). Nothing saved is lost; send again to resume from the last step."
)
DELETED = "The thread was deleted while this stream followed its run."
UNSAVED = (
    "The run's last step could not be saved (the database did not answer). Send again to redo "
    "it from the last saved step."
)
LOST = (
    "The run lost its hold on the thread (its lease could not be renewed in time) and stopped "
    "without saving further. Send again to resume from the last saved step."
)


def new_run_id() -> str:
    """A UUIDv7: random, and ordered by creation time (runs list newest first by id)."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its terminal event and that event's fields."""

    event: str
    fields: dict[str, Any] = field(default_factory=dict)


class RunDriver(Protocol):
    """What one kind of run (the seed's, LangGraph's) decides; the service does the rest:
    the lease, the fence, the event log, cancel and join."""

    kind: RunKind
    # The run's record is written with its first event, at once (else with the log's next
    # write): for runs that clients list right after starting them.
    listed_at_start: bool
    # Each graph call of the run ends after its first node (a HITL request): its steps wait for
    # the run's end, whose one write stores them with the run's events.
    one_node_per_run: bool

    def record_info(self) -> dict[str, Any] | None:
        """What the run's record keeps besides its status (LangGraph's run fields)."""
        ...

    def record_at_take(self, ref: ThreadRef) -> RecordFields | None:
        """The thread's record for the lease's take to create if the thread has none."""
        ...

    async def prepare(self, ref: ThreadRef, lease: Lease) -> Any:
        """The graph input, with the thread held (``lease`` says what its take found: whether
        the thread has a record); raise to refuse the run before it starts."""
        ...

    def first_event(self, events: RunEvents) -> dict[str, Any]: ...

    async def drive(
        self, run: Run, graph_input: Any, emit: Emit, events: RunEvents, running: dict[str, float]
    ) -> Outcome:
        """Run the graph; ``running`` holds the nodes in progress (named in an error)."""
        ...

    def terminal(self, outcome: Outcome, events: RunEvents) -> dict[str, Any]: ...


@dataclass(eq=False)  # hashed by identity
class Run:
    ref: ThreadRef
    run_id: str
    driver: RunDriver
    lease: Lease
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    stop_requested: bool = False  # stop at the next node boundary (shutdown)
    stop_reason: StopReason | None = None  # stop now, mid-node
    task: asyncio.Task[None] | None = None
    drive: asyncio.Task[Outcome] | None = None

    @property
    def thread_id(self) -> str:
        return self.ref.thread_id

    def request_stop(self) -> None:
        """Stop at the next node boundary; the current node finishes."""
        self.stop_requested = True

    def stop_now(self, reason: StopReason) -> None:
        """Stop mid-node: the node in progress is discarded; its last checkpoint stays."""
        if self.stop_reason is None:
            self.stop_reason = reason
            if self.drive is not None:
                self.drive.cancel()

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


@dataclass(frozen=True)
class RunTimings:
    """How often a run talks to the lease and the event log, and a joiner to the log."""

    lease_poll_seconds: float = 1.0  # cancel flag and ownership check
    log_flush_seconds: float = 0.25
    join_poll_seconds: float = 0.25
    vanished_check_seconds: float = 2.0


# What a run refused on a busy thread is told to do instead.
RUN_BUSY_HINT = "wait for it to pause, or join it"


def lease_poll_interval(poll: float, answered_in: float, lease_seconds: float) -> float:
    """The wait before a run next looks for a cancel, after a check that was answered in
    ``answered_in`` seconds: ``poll``, longer when the store is slow (four times its last
    answer, at most a sixth of the lease), so that many runs do not keep a loaded store busier
    with checks than with their work. Renewals keep their own pace (RunService._renew_lease)."""
    return max(poll, min(4 * answered_in, lease_seconds / 6))


class RunService:
    def __init__(
        self,
        *,
        graph: CompiledStateGraph[Any],
        checkpointer: BaseCheckpointSaver[Any],
        threads: ThreadRecords,
        leases: RunLeases,
        log: EventLog,
        model_name: str,
        research_name: str,
        max_message_chars: int = 8000,
        max_metadata_bytes: int = 16384,
        deadline_margin_seconds: float = 60.0,
        timings: RunTimings | None = None,
        max_runs: int = 32,
    ) -> None:
        self.graph = graph
        self.checkpointer = checkpointer
        self.threads = threads
        self.leases = leases
        self.log = log
        self.model_name = model_name
        self.research_name = research_name
        self.max_message_chars = max_message_chars
        self.max_metadata_bytes = max_metadata_bytes
        self.deadline_margin_seconds = deadline_margin_seconds
        self.timings = timings or RunTimings()
        self._runs: dict[str, Run] = {}  # runs executing in this process, by run id
        # A run takes a slot before its thread and frees it once it ended (settings.max_runs).
        self._slots = asyncio.Semaphore(max_runs)

    # ------------------------------------------------------------------ threads

    @staticmethod
    def config(ref: ThreadRef) -> RunnableConfig:
        return {"configurable": {"thread_id": ref.key}}

    async def _state(self, ref: ThreadRef) -> StateSnapshot:
        return await self.graph.aget_state(self.config(ref))

    async def _record(self, ref: ThreadRef) -> ThreadRecord:
        return (await self._record_and_lease(ref))[0]

    async def _record_and_lease(self, ref: ThreadRef) -> tuple[ThreadRecord, LeaseState]:
        """The thread's record and its lease: one read, as they share an item."""
        item = await self.threads.get_item(ref)
        record = record_of(item)
        if record is not None:
            return record, self.leases.state_of(item)
        # A record can expire (TTL) while newer checkpoints live on: rebuild it from them.
        if (await self._state(ref)).values:
            with suppress(ThreadExists):
                return await self.threads.create(ref), self.leases.state_of(item)
            return await self._record_and_lease(ref)
        raise NotFound(
            f"Thread {ref.thread_id!r} does not exist. Create it with POST /threads or start a run."
        )

    @staticmethod
    def thread_status(
        lease: LeaseState, snapshot: StateSnapshot | None, paused: bool = False
    ) -> tuple[ThreadStatus, str | None]:
        """Derived, never stored: the lease says busy or how the last run ended, the
        checkpoint says the rest."""
        if lease.busy:
            return "busy", None
        if lease.last_run_vanished:
            return "error", VANISHED
        if lease.last_status == "error":
            return "error", lease.last_error
        if not (paused or (snapshot is not None and (snapshot.next or snapshot.tasks))):
            return "idle", None
        if lease.last_status in ("interrupted", "cancelled"):  # a cancel leaves a task error
            return "interrupted", None
        errors = [public_error(task.error) for task in (snapshot.tasks if snapshot else ()) if task.error]
        return ("error", errors[0]) if errors else ("interrupted", None)

    def _thread_json(
        self, record: ThreadRecord, lease: LeaseState, snapshot: StateSnapshot | None, paused: bool = False
    ) -> dict[str, Any]:
        """``paused``: without a snapshot (the list), whether the lease says the thread waits.
        ``updated_at``: the latest of the last run's start and the latest checkpoint."""
        status, error = self.thread_status(lease, snapshot, paused)
        thread = record.as_json()
        if snapshot is not None and snapshot.created_at and snapshot.created_at > record.updated_at:
            thread["updated_at"] = snapshot.created_at
        run_id = lease.running_run_id or lease.last_run_id
        return {**thread, "status": status, "error": error, "run_id": run_id}

    async def create_thread(
        self, owner: str, thread_id: str | None, metadata: dict[str, Any] | None, if_exists: str = "raise"
    ) -> dict[str, Any]:
        ref = ThreadRef(owner, thread_id or str(uuid.uuid4()))
        try:
            record = await self.threads.create(ref, metadata)
        except ThreadExists as exc:
            if if_exists == "do_nothing":
                return await self.get_thread(ref)
            raise Conflict(f"Thread {ref.thread_id!r} already exists; use it, or choose another id.") from exc
        return self._thread_json(record, LeaseState(), None)

    async def patch_thread(self, ref: ThreadRef, metadata: dict[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the thread's."""
        record = await self._record(ref)
        merged = {**record.metadata, **metadata}
        if len(json.dumps(merged).encode()) > self.max_metadata_bytes:
            raise InvalidRequest(
                f"The merged metadata would exceed {self.max_metadata_bytes} bytes; send less, or "
                "overwrite keys instead of adding them."
            )
        await self.threads.set_metadata(ref, merged)
        return await self.get_thread(ref)

    async def search_threads(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None,
        ids: list[str] | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        """The owner's threads, newest activity first, that match every filter given; reads
        the owner's threads a page at a time until ``offset + limit`` match."""
        found: list[dict[str, Any]] = []
        after: tuple[str, str] | None = None
        wanted = set(ids) if ids is not None else None
        while len(found) < offset + limit:
            page, last = await self.list_threads(owner, 100, after)
            for thread in page:
                if wanted is not None and thread["thread_id"] not in wanted:
                    continue
                if status is not None and thread["status"] != status:
                    continue
                if metadata and any(thread["metadata"].get(k) != v for k, v in metadata.items()):
                    continue
                found.append(thread)
            if last is None:
                break
            after = (last.updated_at, last.thread_id)
        return found[offset : offset + limit]

    async def get_thread(self, ref: ThreadRef) -> dict[str, Any]:
        (record, lease), snapshot = await asyncio.gather(self._record_and_lease(ref), self._state(ref))
        return self._thread_json(record, lease, snapshot)

    async def list_threads(
        self, owner: str, limit: int, after: tuple[str, str] | None
    ) -> tuple[list[dict[str, Any]], ThreadRecord | None]:
        """The owner's threads, newest activity first, after ``(updated_at, thread_id)``; and
        the last one when more may follow. Status from the threads' leases (read together, and
        strongly consistent, unlike the owner index): busy, failed, paused or idle as its last
        run left it."""
        records, next_cursor = await self.threads.list(owner, limit, after)
        leases = await self.leases.read_many([ThreadRef(owner, r.thread_id).key for r in records])
        threads = []
        for record, lease in zip(records, leases, strict=True):
            paused = lease.last_status in ("interrupted", "cancelled", "error", "running")
            threads.append(self._thread_json(record, lease, None, paused=paused))
        return threads, next_cursor

    def _at(self, ref: ThreadRef, checkpoint_id: str | None) -> RunnableConfig:
        config = self.config(ref)
        if checkpoint_id:
            config["configurable"]["checkpoint_id"] = checkpoint_id
        return config

    async def get_state(self, ref: ThreadRef, checkpoint_id: str | None = None) -> dict[str, Any]:
        await self._record(ref)
        snapshot = await self.graph.aget_state(self._at(ref, checkpoint_id))
        if checkpoint_id and snapshot.config is None:
            raise NotFound(f"Thread {ref.thread_id!r} has no checkpoint {checkpoint_id!r}.")
        return snapshot_json(snapshot, ref.thread_id)

    async def update_state(
        self,
        ref: ThreadRef,
        values: dict[str, Any],
        as_node: str | None = None,
        checkpoint_id: str | None = None,
    ) -> dict[str, Any]:
        """An edit while paused (plan, draft, critique) or a steer for the next node
        (feedback); from a given checkpoint, a fork of the thread at that point."""
        await self._record(ref)
        unknown = sorted(set(values) - EDITABLE_FIELDS - {STEERING_FIELD})
        if unknown:
            editable = ", ".join(sorted(EDITABLE_FIELDS))
            raise InvalidRequest(
                f"Cannot edit {', '.join(unknown)}; only {editable} can be edited, and {STEERING_FIELD} set."
            )
        if as_node is not None and as_node not in NODES:
            raise InvalidRequest(f"as_node {as_node!r} is no node; the nodes are {', '.join(NODES)}.")
        update = dict(values)
        if isinstance(update.get(STEERING_FIELD), str) and update[STEERING_FIELD].strip():
            update["messages"] = [HumanMessage(update[STEERING_FIELD])]
        async with self._holding(ref, "edit", "edit it when it pauses"):
            config = self._at(ref, checkpoint_id)
            snapshot = await self.graph.aget_state(config)
            if checkpoint_id and snapshot.config is None:
                raise NotFound(f"Thread {ref.thread_id!r} has no checkpoint {checkpoint_id!r}.")
            if not checkpoint_id and not (snapshot.next or snapshot.tasks):
                raise Conflict(
                    f"Thread {ref.thread_id!r} is not paused; edits are accepted only while it is paused."
                )
            await self.graph.aupdate_state(config, update, as_node=as_node)
            return snapshot_json(await self._state(ref), ref.thread_id)

    async def history(
        self,
        ref: ThreadRef,
        limit: int,
        before: str | None = None,
        metadata: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The thread's checkpoints, newest first: before a checkpoint, from one, or matching
        metadata."""
        await self._record(ref)
        before_config = self._at(ref, before) if before else None
        return [
            snapshot_json(s, ref.thread_id)
            async for s in self.graph.aget_state_history(
                self._at(ref, checkpoint_id), limit=limit, before=before_config, filter=metadata or None
            )
        ]

    async def delete_thread(self, ref: ThreadRef) -> None:
        await self._record(ref)
        async with self._holding(ref, "delete", "delete it when the run has stopped") as lease:
            await self.checkpointer.adelete_thread(ref.key)
            lease, _ = await self.leases.renew(lease)  # LeaseLost if it took too long: 409
            await self.threads.delete(ref)
            await self.leases.delete(lease)

    @staticmethod
    def _busy(thread_id: str, taken: LeaseTaken, what: str) -> Conflict:
        state = taken.state
        run_id = state.running_run_id
        being = {"edit": "edited", "delete": "deleted"}.get(state.holder_kind or "", "changed")
        doing = f"has a run in progress ({run_id})" if run_id else f"is being {being}"
        message = f"Thread {thread_id!r} already {doing}; {what}."
        if run_id:
            message += f" Follow it at /threads/{thread_id}/runs/{run_id}/stream."
        return Conflict(message, fields={"run_id": run_id}, headers={"Retry-After": str(taken.retry_after)})

    @asynccontextmanager
    async def _holding(self, ref: ThreadRef, kind: HolderKind, what: str) -> AsyncIterator[Lease]:
        """Hold the thread's lease for an edit or a delete, so no run starts halfway. A delete
        that outlived its lease is refused (409) before it removes anything a new run uses."""
        try:
            lease = await self.leases.acquire(ref.key, f"{kind}-{uuid.uuid4()}", kind)
        except LeaseTaken as taken:
            raise self._busy(ref.thread_id, taken, what) from taken
        try:
            yield lease
        except LeaseLost as exc:
            raise Conflict(
                f"Thread {ref.thread_id!r} was taken by a run while this {kind} went on; try again."
            ) from exc
        except BaseException:
            with suppress(ClientError, BotoCoreError):
                await self.leases.release(lease)
            raise
        if kind != "delete":  # a delete removed the lease item with the thread
            await self.leases.release(lease)

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
        return await self.launch(ThreadRef(request.owner, thread_id), SeedDriver(self, request, message))

    async def launch(self, ref: ThreadRef, driver: RunDriver) -> Run:
        """Wait for a slot, take the thread, let the driver prepare the input, and start the run
        in its task, which frees the slot when it ends."""
        run_id = new_run_id()
        if self._slots.locked():  # no slot free: refuse a busy thread now, not after the line
            state = await self.leases.read(ref.key)
            if state.busy:
                raise self._busy(ref.thread_id, LeaseTaken(state), RUN_BUSY_HINT)
        await self._slots.acquire()
        try:
            try:
                lease = await self.leases.acquire(ref.key, run_id, "run", driver.record_at_take(ref))
            except LeaseTaken as taken:
                raise self._busy(ref.thread_id, taken, RUN_BUSY_HINT) from taken
            with run_scope():  # the lease is held: read the checkpoint once, write once per step
                try:
                    graph_input = await driver.prepare(ref, lease)
                except BaseException:
                    # Refused before it began: the thread's last run is again the one before.
                    with suppress(ClientError, BotoCoreError):
                        await self.leases.withdraw(lease)
                    raise
                run = Run(ref, run_id, driver, lease)
                self._runs[run_id] = run
                run.task = asyncio.create_task(self._execute(run, graph_input))  # keeps the scope
        except BaseException:
            self._slots.release()
            raise
        run.task.add_done_callback(lambda _: self._ended(run_id))
        return run

    def _ended(self, run_id: str) -> None:
        self._runs.pop(run_id, None)
        self._slots.release()

    async def _execute(self, run: Run, graph_input: Any) -> None:
        # Context-local keys: each run task has its own copy, so concurrent runs never mix them.
        logger.thread_safe_append_keys(thread_id=run.thread_id, run_id=run.run_id)
        events = RunEvents(run.thread_id, run.run_id)
        started = now_iso()
        driver = run.driver
        fence = LeaseFence(run.lease, self.leases.lease_seconds)
        steps = RunSteps(current_scope(), fence, run.queue)
        writer = EventLogWriter(
            self.log,
            RunRecord(
                run.ref.key,
                run.run_id,
                "running",
                started,
                started,
                kind=driver.kind,
                info=driver.record_info(),
            ),
            now_iso,
            self.timings.log_flush_seconds,
            urgent_start=driver.listed_at_start,
            riders=steps,
            written=steps.written,
        )
        steps.attach(writer, hold_to_end=driver.one_node_per_run)

        def emit(event: dict[str, Any]) -> None:
            steps.show(event)
            writer.add(event)

        emit(driver.first_event(events))
        keeper = asyncio.create_task(self._keep_lease(run, fence))
        running: dict[str, float] = {}
        outcome: Outcome | None = None
        try:
            logger.info("run started", extra={"kind": driver.kind})
            run.drive = asyncio.create_task(
                self._drive_fenced(run, fence, emit, events, graph_input, running)
            )
            try:
                outcome = await run.drive
            except asyncio.CancelledError:
                if run.stop_reason is None:  # this task itself was cancelled, not the run
                    raise
                outcome = await self._stopped(run)
            except Exception as exc:
                if isinstance(exc, LeaseLost):
                    outcome = Outcome("error", {"error": LOST, "resumable": True})
                else:
                    failed = ", ".join(running) or "the run"
                    error = (
                        f"{failed} failed: {public_error(exc)}. "
                        "Nothing is lost: send again to retry from the last step."
                    )
                    outcome = Outcome("error", {"error": error, "resumable": True})
                logger.exception("run failed", extra={"node": ", ".join(running) or None})
            logger.info("run ended", extra={"outcome": outcome.event, "reason": outcome.fields.get("reason")})
        finally:
            if outcome is None:
                outcome = Outcome(
                    "error", {"error": "The run was cancelled; send again to resume.", "resumable": True}
                )
            await self._finish(run, writer, steps, keeper, outcome, events)

    async def _finish(
        self,
        run: Run,
        writer: EventLogWriter,
        steps: RunSteps,
        keeper: asyncio.Task[None],
        outcome: Outcome,
        events: RunEvents,
    ) -> None:
        """The terminal event goes to the log first, with the steps still held (an interrupt's
        writes; a HITL request's checkpoints), then the thread is freed, then the live stream
        ends: a joiner never sees a freed thread with an unfinished log, and a client that
        sends again at once never meets a 409. The lease is kept until the log is written."""
        terminal = run.driver.terminal(outcome, events)
        writer.add(terminal)
        try:
            await steps.settle()
            logged = await writer.close()
            if not logged:
                # Joiners read the outcome from the lease item instead (RunService._find_run).
                logger.error("the run's last events could not be logged")
            if steps.lost or (not logged and steps.unsaved):
                # A step it could not store (it lost its lease, or the store failed): the
                # client never sees that node end, and is told so with the next seq it expects.
                first = steps.drop_waiting()
                if first is not None or not logged:
                    events.rewind(first if first is not None else terminal["seq"])
                    writer.discard_from(events.seq + 1)
                    error = LOST if steps.lost else UNSAVED
                    terminal = run.driver.terminal(
                        Outcome("error", {"error": error, "resumable": True}), events
                    )
                    if logged:  # the log took the rest: it takes this end too
                        writer.add(terminal)
                        await writer.close()
            keeper.cancel()
            steps.seal()
            # Conditional on still holding it: safe even after the fence closed.
            await self.leases.release(
                run.lease, LastRun(run.run_id, final_status(terminal), terminal.get("error"))
            )
        except (ClientError, BotoCoreError):
            logger.exception("could not record the run's end; its lease lapses by itself")
        finally:
            keeper.cancel()  # again, for a failure before the release (both are idempotent)
            steps.seal()
            if steps.lost:  # a step it could no longer store: its end is never shown
                steps.drop_waiting()
            steps.show_waiting()
            run.queue.put_nowait(terminal)

    async def _stopped(self, run: Run) -> Outcome:
        if run.stop_reason == "lost":
            return Outcome("error", {"error": LOST, "resumable": True})
        return await self.pause(run.ref, "cancelled")

    async def _keep_lease(self, run: Run, fence: LeaseFence) -> None:
        """Hold the run's lease while it runs, and stop the run the moment the lease is lost or
        a cancel is asked: renewals on their own schedule, and between them checks for a cancel.
        Apart, so that a check never holds a renewal back: on a loaded store one check can take
        longer than the renewal's whole margin before the fence closes."""
        poll = min(self.timings.lease_poll_seconds, self.leases.lease_seconds / 3)
        keepers = {
            asyncio.create_task(self._renew_lease(run, fence, poll)),
            asyncio.create_task(self._watch_for_cancel(run, fence, poll)),
        }
        try:
            done, _ = await asyncio.wait(keepers, return_when=asyncio.FIRST_COMPLETED)
            for keeper in done:  # it stopped the run, or failed: then the hold is not kept
                if not keeper.cancelled() and keeper.exception() is not None:
                    logger.error("the lease keeper failed", exc_info=keeper.exception())
                    self._lose(run, fence)
        finally:
            for keeper in keepers:
                keeper.cancel()

    async def _renew_lease(self, run: Run, fence: LeaseFence, poll: float) -> None:
        """Renew once a third of the lease is gone; a failed renewal is tried again every
        ``poll`` until the fence closes."""
        lease = run.lease
        renew_within = self.leases.lease_seconds * 2 / 3
        while True:
            await asyncio.sleep(max(0.0, lease.expires_at - renew_within - time.time()))
            try:
                lease, cancel = await self.leases.renew(lease)
            except LeaseLost:
                self._lose(run, fence)
                return
            except (ClientError, BotoCoreError):
                logger.warning("lease renewal failed; retrying", exc_info=True)
                if time.time() >= fence.valid_until:
                    self._lose(run, fence)
                    return
                await asyncio.sleep(poll)
                continue
            fence.extend(lease)
            if cancel:
                logger.info("run cancelled")
                run.stop_now("cancelled")
                return

    async def _watch_for_cancel(self, run: Run, fence: LeaseFence, poll: float) -> None:
        """Look for a cancel (another instance sets it on the lease) every ``poll``, less often
        when the store is slow (``lease_poll_interval``)."""
        wait = poll
        while True:
            await asyncio.sleep(wait)
            asked = time.monotonic()
            try:
                cancel = await self.leases.check(run.lease)
            except LeaseLost:
                self._lose(run, fence)
                return
            except (ClientError, BotoCoreError):
                logger.warning("lease check failed; the renewals go on", exc_info=True)
                wait = poll
                continue
            if cancel:
                logger.info("run cancelled")
                run.stop_now("cancelled")
                return
            wait = lease_poll_interval(poll, time.monotonic() - asked, self.leases.lease_seconds)

    @staticmethod
    def _lose(run: Run, fence: LeaseFence) -> None:
        fence.lost = True
        logger.warning("run lost its lease")
        run.stop_now("lost")

    async def _drive_fenced(
        self,
        run: Run,
        fence: LeaseFence,
        emit: Emit,
        events: RunEvents,
        graph_input: Any,
        running: dict[str, float],
    ) -> Outcome:
        current_fence.set(fence)  # this task's context: the checkpointer checks it on every write
        # What the run wrote and no stored checkpoint followed (an interrupt's writes, a node's
        # error, a HITL request's step) goes with the log's last write, unless the lease is gone.
        return await run.driver.drive(run, graph_input, emit, events, running)

    async def pause(self, ref: ThreadRef, reason: str) -> Outcome:
        """A pause where the thread stands now (a cancel, a deadline)."""
        snapshot = await self._state(ref)
        return Outcome("interrupt", {"next": list(snapshot.next), "reason": reason})

    async def invoke(self, request: RunRequest) -> dict[str, Any]:
        run = await self.start_run(request)
        last: dict[str, Any] = {}
        async for event in run.events():
            if event is not None:
                last = event
        snapshot = await self._state(run.ref)
        status = final_status(last) if last else "error"
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

    # ------------------------------------------------------------------ runs, from any instance

    async def _find_run(self, ref: ThreadRef, run_id: str) -> tuple[RunRecord, LeaseState, bool]:
        """The run with the thread's lease, and whether its terminal event is in the log.

        A run that holds the lease but has not written its first events yet is running. A run
        whose record says running while the lease item says it ended (its last log write
        failed) takes its status from the lease. One recorded as running that no longer holds
        the lease, and ended nowhere, has vanished."""
        record, lease = await asyncio.gather(self.log.get_run(ref.key, run_id), self.leases.read(ref.key))
        if record is None and lease.running_run_id != run_id and lease.last_run_id == run_id:
            # It ended between the two reads (a run shorter than the log's timer writes its
            # record with its end), or its log could not be written: read again, else the lease.
            record = await self.log.get_run(ref.key, run_id)
        if record is None:
            if run_id not in (lease.running_run_id, lease.last_run_id):
                raise NotFound(f"Run {run_id!r} of thread {ref.thread_id!r} does not exist.")
            now = now_iso()
            record = RunRecord(ref.key, run_id, "running", now, now)
        logged = record.status != "running"
        ended_per_lease = lease.last_run_id == run_id and lease.last_status not in (None, "running")
        if not logged and lease.running_run_id != run_id and ended_per_lease:
            status = cast(RunStatus, lease.last_status)
            record = replace(record, status=status, error=lease.last_error)
        return record, lease, logged

    @staticmethod
    def _vanished(record: RunRecord, lease: LeaseState) -> bool:
        return record.status == "running" and lease.running_run_id != record.run_id

    def _run_json(self, ref: ThreadRef, record: RunRecord, lease: LeaseState) -> dict[str, Any]:
        """A run as its kind reports it: the seed's statuses, or LangGraph's Run."""
        if self._vanished(record, lease):
            record = replace(record, status="error", error=VANISHED)
        if record.kind == "langgraph":
            return graph_run_json(record, ref.thread_id)
        return record.as_json(ref.thread_id)

    async def get_run(self, ref: ThreadRef, run_id: str) -> dict[str, Any]:
        record, lease, _ = await self._find_run(ref, run_id)
        return self._run_json(ref, record, lease)

    async def list_runs(
        self, ref: ThreadRef, limit: int, offset: int, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The thread's runs, newest first, in LangGraph's Run shape."""
        _, lease = await self._record_and_lease(ref)
        records = await self.log.list_runs(ref.key, 1000 if status else offset + limit)
        if any(self._vanished(record, lease) for record in records):
            lease = await self.leases.read(ref.key)  # it may have started after the lease was read
        runs = []
        for record in records:
            if self._vanished(record, lease):
                record = replace(record, status="error", error=VANISHED)
            runs.append(graph_run_json(record, ref.thread_id))
        if status is not None:
            runs = [run for run in runs if run["status"] == status]
        return runs[offset : offset + limit]

    async def cancel_run(self, ref: ThreadRef, run_id: str, wait: bool = False) -> dict[str, Any]:
        """Ask the run to stop mid-node, wherever it runs: its instance sees the flag on the
        lease within a lease poll, longer while the store answers slowly (at once when it runs
        here). ``wait``: answer once it stopped."""
        record, lease, _ = await self._find_run(ref, run_id)
        if record.status != "running" or self._vanished(record, lease):
            ended = self._run_json(ref, record, lease)["status"]
            raise Conflict(f"Run {run_id!r} already ended ({ended}); there is nothing to cancel.")
        local = self._runs.get(run_id)
        if local is not None and local.ref == ref:
            local.stop_now("cancelled")
        elif not await self.leases.request_cancel(ref.key, run_id):
            raise Conflict(f"Run {run_id!r} ended before it could be cancelled.")
        if wait:
            await self.wait_for_end(ref, run_id)
        return {**await self.get_run(ref, run_id), "cancel_requested": True}

    async def wait_for_end(self, ref: ThreadRef, run_id: str) -> dict[str, Any] | None:
        """Follow the run to its end, wherever it runs; its terminal event (None if the thread
        went away first)."""
        last: dict[str, Any] | None = None
        async for event in self.join(ref, run_id, 0):
            if event is not None:
                last = event
        return last

    async def check_run(self, ref: ThreadRef, run_id: str) -> RunRecord:
        """Raise ``NotFound`` before a join's stream begins; the run's record. A run that holds
        the thread writes its record with its first write to the log, within the log's timer:
        wait a moment for it (the record says which contract the run speaks)."""
        record: RunRecord | None = None
        for attempt in range(20):
            stored = await self.log.get_run(ref.key, run_id)
            if stored is not None:
                return stored
            if attempt == 0:
                record, _, _ = await self._find_run(ref, run_id)  # NotFound unless it holds the thread
            await asyncio.sleep(0.05)
        assert record is not None
        return record

    async def join(
        self, ref: ThreadRef, run_id: str, after: int, idle_tick: float | None = None
    ) -> AsyncIterator[dict[str, Any] | None]:
        """The run's events after seq ``after`` from the log, then live until its terminal
        event, wherever the run executes; ``None`` after ``idle_tick`` quiet seconds. Every
        join ends with one terminal event unless the client already has it: one the log holds,
        or one made here from the run's record when the log cannot give it (the run's
        instance vanished, its last write failed, the thread was deleted)."""
        quiet_since = time.monotonic()
        checked = quiet_since - self.timings.vanished_check_seconds  # check on the first empty read
        stalled = 0
        while True:
            try:
                events = await self.log.read(ref.key, run_id, after)
            except (ClientError, BotoCoreError):
                logger.warning("event log read failed; retrying", exc_info=True)
                events = []
            for event in events:
                yield event
                after = event["seq"]
                quiet_since = time.monotonic()
                if event["event"] in TERMINAL_EVENTS:
                    return
            stalled = 0 if events else stalled
            now = time.monotonic()
            if now - checked >= self.timings.vanished_check_seconds:
                checked = now
                try:
                    ended, terminal = await self._join_check(ref, run_id, after, stalled)
                except NotFound:
                    ended, terminal = True, self._event(ref, run_id, after + 1, "error", error=DELETED)
                except (ClientError, BotoCoreError):
                    ended, terminal = False, None
                if terminal is not None:
                    yield terminal
                if ended:
                    return
                stalled += 1
            if idle_tick is not None and now - quiet_since >= idle_tick:
                quiet_since = now
                yield None
            await asyncio.sleep(self.timings.join_poll_seconds)

    async def _join_check(
        self, ref: ThreadRef, run_id: str, after: int, stalled: int
    ) -> tuple[bool, dict[str, Any] | None]:
        """For a join that found nothing new: whether it should end, and with what."""
        record, lease, logged = await self._find_run(ref, run_id)
        if self._vanished(record, lease):
            await self._end_if_vanished(ref, record)
            return False, None  # the next read gets the terminal event
        if record.status == "running":
            return False, None
        if logged and after >= record.last_seq and not (after > record.last_seq and record.error == VANISHED):
            # The client has the terminal event already: the log's terminal is its last event.
            # (Unless a joiner wrote it for a vanished run behind what the live stream had sent.)
            return True, None
        if logged and after < record.last_seq and stalled < 2:
            return False, None  # events still on their way (a batch being written)
        # The client has events the log lost (a live stream outran a vanished instance), or
        # the log never got the end: end with the run's outcome as its record says.
        return True, await self._terminal_from(ref, record, after + 1)

    def _event(self, ref: ThreadRef, run_id: str, seq: int, event: str, **fields: Any) -> dict[str, Any]:
        return {"event": event, **fields, "thread_id": ref.thread_id, "run_id": run_id, "seq": seq}

    async def _terminal_from(self, ref: ThreadRef, record: RunRecord, seq: int) -> dict[str, Any]:
        if record.status == "complete":
            return self._event(ref, record.run_id, seq, "complete")
        if record.status == "error":
            return self._event(
                ref, record.run_id, seq, "error", error=record.error or VANISHED, resumable=True
            )
        reason = "cancelled" if record.status == "cancelled" else "hitl"
        next_nodes = list((await self._state(ref)).next)
        return self._event(ref, record.run_id, seq, "interrupt", next=next_nodes, reason=reason)

    async def _end_if_vanished(self, ref: ThreadRef, record: RunRecord) -> None:
        seq = record.last_seq + 1
        event = self._event(ref, record.run_id, seq, "error", error=VANISHED, resumable=True)
        ended = RunRecord(ref.key, record.run_id, "error", record.created_at, now_iso(), seq, VANISHED)
        if await self.log.end_once(ended, event):
            logger.warning("run vanished; its log was ended by a joiner", extra={"run_id": record.run_id})

    async def drain(self, grace_seconds: float = 30.0) -> None:
        """At shutdown: ask every run to stop at its next node boundary and wait for that, up
        to ``grace_seconds``; a run still going then resumes from its last checkpoint."""
        runs = list(self._runs.values())
        for run in runs:
            run.request_stop()
        tasks = [run.task for run in runs if run.task]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)

    async def launch_with(self, ref: ThreadRef, driver: RunDriver, strategy: str, wait_seconds: float) -> Run:
        """LangGraph's multitask strategies for a busy thread: ``reject`` (409), ``interrupt``
        (cancel the running run, then start once it stopped), ``enqueue`` (start once the
        running run ends), each waiting at most ``wait_seconds``."""
        give_up = time.monotonic() + wait_seconds
        cancelled: set[str] = set()
        while True:
            try:
                return await self.launch(ref, driver)
            except Conflict as busy:
                if strategy == "reject" or time.monotonic() >= give_up:
                    raise
                run_id = busy.fields.get("run_id")
                if strategy == "interrupt" and run_id and run_id not in cancelled:
                    cancelled.add(run_id)
                    with suppress(Conflict, NotFound):
                        await self.cancel_run(ref, run_id)
            await asyncio.sleep(self.timings.join_poll_seconds)
