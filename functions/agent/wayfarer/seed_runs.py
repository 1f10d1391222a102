"""The seed contract's runs: a message starts a piece or steers a paused one, the graph goes one
node per call (``interrupt_after`` every node), so between nodes it can pause for the human or
stop before an invocation deadline, and the stream speaks the seed's events (docs/api.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import StreamMode

from wayfarer.errors import InvalidRequest
from wayfarer.event_log import RunKind
from wayfarer.events import RunEvents
from wayfarer.graph.builder import NODES
from wayfarer.graph.state import new_piece
from wayfarer.leases import Lease, RecordFields
from wayfarer.table_keys import LOCAL_OWNER, ThreadRef

if TYPE_CHECKING:
    from wayfarer.runs import Emit, Outcome, Run, RunService

logger = Logger(service="wayfarer", child=True)

STREAM_MODES: list[StreamMode] = ["updates", "messages", "tasks", "checkpoints"]


def same_text(a: str | None, b: str | None) -> bool:
    """Equal but for case and spacing: the task resent as typed again."""
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


@dataclass(frozen=True)
class RunRequest:
    thread_id: str | None = None
    owner: str = LOCAL_OWNER
    message: str | None = None
    use_hitl: bool = True
    max_revisions: int | None = None
    # Epoch seconds by which the run must have stopped (Lambda's invocation deadline).
    deadline: float | None = None


class SeedDriver:
    """One seed run: how it starts, drives the graph and says how it ended."""

    kind: RunKind = "seed"
    # Its client holds the stream (or joins it by id, which finds it by the lease it holds):
    # the start waits for the log's timer (250 ms), so a HITL request shorter than that writes
    # its log once, with its end.
    listed_at_start = False

    def __init__(self, service: RunService, request: RunRequest, message: str) -> None:
        self.service = service
        self.request = request
        self.message = message
        self.resumed = False
        self.one_node_per_run = request.use_hitl  # a HITL request runs one node and pauses

    def record_info(self) -> dict[str, Any] | None:
        return None

    def record_at_take(self, ref: ThreadRef) -> RecordFields | None:
        """A message may start a new thread: the take creates its record, titled by it."""
        return self.service.threads.new_record(ref, self.message) if self.message else None

    async def prepare(self, ref: ThreadRef, lease: Lease) -> Any:
        """The graph input: None to resume a paused or failed thread, else a new piece, which
        names the thread's title (a new thread's take created its record with it). (Taking the
        lease already marked the thread's activity.)"""
        graph, threads = self.service.graph, self.service.threads
        config = self.service.config(ref)
        snapshot = await graph.aget_state(config)
        message, max_revisions = self.message, self.request.max_revisions
        # Tasks without ``next``: a step whose node finished but whose checkpoint was never
        # written (the run failed right after it). Resuming commits the saved result.
        if snapshot.next or snapshot.tasks:
            update: dict[str, Any] = {}
            # Resending the task itself (the seed's curl, repeated) continues; it does not steer.
            if message and not same_text(message, snapshot.values.get("task")):
                update = {"feedback": message, "messages": [HumanMessage(message)]}
            if max_revisions is not None and max_revisions != snapshot.values.get("max_revisions"):
                update["max_revisions"] = max_revisions
            if update:
                await graph.aupdate_state(config, update)
            self.resumed = True
            return None
        if not message:
            state = "finished" if snapshot.values else "new"
            raise InvalidRequest(
                f"Thread {ref.thread_id!r} is {state}: send a non-empty message with what to write about."
            )
        if not lease.made_record:  # (the seed runs on ids it never created: the take did)
            await threads.start_piece(ref, message)
        return new_piece(message, max_revisions)

    def first_event(self, events: RunEvents) -> dict[str, Any]:
        return events.make(
            "metadata",
            model=self.service.model_name,
            research=self.service.research_name,
            resumed=self.resumed,
            use_hitl=self.request.use_hitl,
        )

    def terminal(self, outcome: Outcome, events: RunEvents) -> dict[str, Any]:
        return events.make(outcome.event, **outcome.fields)

    def _deadline_near(self) -> bool:
        deadline = self.request.deadline
        return deadline is not None and deadline - time.time() < self.service.deadline_margin_seconds

    async def drive(
        self, run: Run, graph_input: Any, emit: Emit, events: RunEvents, running: dict[str, float]
    ) -> Outcome:
        """Run node after node until the graph ends or the run must pause."""
        from wayfarer.runs import Outcome

        graph, request = self.service.graph, self.request
        config: RunnableConfig = {**self.service.config(run.ref), "metadata": {"run_id": run.run_id}}
        while True:
            # A new piece starts its first node when the deadline is near, but not once it passed.
            past = request.deadline is not None and request.deadline <= time.time()
            if self._deadline_near() and (graph_input is None or past):
                if graph_input is not None:  # save the new piece's input, run no node
                    async for _ in graph.astream(
                        graph_input, config, interrupt_before=list(NODES), durability="sync"
                    ):
                        pass
                return await self.service.pause(run.ref, "deadline")
            interrupted = False
            next_nodes: list[str] = []
            async for part in graph.astream(
                graph_input,
                config,
                stream_mode=STREAM_MODES,
                interrupt_after=list(NODES),
                durability="sync",
            ):
                mode, chunk = cast(tuple[StreamMode, dict[str, Any]], part)
                if mode == "messages":
                    # A model's chunks are tokens; whole messages (a node's output) are not.
                    message, metadata = cast(tuple[BaseMessage, dict[str, Any]], chunk)
                    if isinstance(message, AIMessageChunk) and message.text:
                        emit(events.make("token", node=metadata["langgraph_node"], delta=message.text))
                elif mode == "checkpoints":
                    next_nodes = list(chunk["next"])
                elif mode == "tasks" and "result" not in chunk:
                    running[chunk["name"]] = time.perf_counter()
                    emit(events.make("node_start", node=chunk["name"]))
                elif mode == "updates":
                    replayed = bool(chunk.get("__metadata__", {}).get("cached"))
                    for node, update in chunk.items():
                        if node == "__interrupt__":
                            interrupted = True
                            continue
                        if node == "__metadata__":
                            continue
                        elapsed = time.perf_counter() - running.pop(node, time.perf_counter())
                        logger.info(
                            "node finished",
                            extra={"node": node, "duration_ms": round(elapsed * 1000), "replayed": replayed},
                        )
                        emit(events.node(node, update, replayed=replayed))
            graph_input = None
            if not interrupted or not next_nodes:  # a pause after the last node is the end
                return Outcome("complete")
            if request.use_hitl or run.stop_requested:
                reason = "hitl" if request.use_hitl else "stopped"
                return Outcome("interrupt", {"next": next_nodes, "reason": reason})
