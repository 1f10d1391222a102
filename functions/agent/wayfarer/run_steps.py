"""A run's steps and the events that show them, stored together and shown once stored.

The saver holds a running run's step results (its checkpoints and their channel writes) in the
run's scope (``checkpointer.RunScope``). They ride with the run's event-log writes (a
``Riders`` of ``EventLogWriter``): a step and the node's end that shows it go to DynamoDB in
one request. LangGraph streams a node's end before it saves the step, so an event that follows
a step's end waits here until the step is stored: what a client saw live is saved, and a
resume never runs again a node the client saw end."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from aws_lambda_powertools import Logger

from wayfarer.batches import one_per_key
from wayfarer.checkpointer import RunScope, take_held
from wayfarer.event_log import WRITE_THREADS, EventLogWriter, RidersLost
from wayfarer.leases import LeaseFence, LeaseLost

logger = Logger(service="wayfarer", child=True)

# How long the saver waits for the log's write of a step: far past any write's own retries (the
# lease fence stops them first); a safety net for a loop that stopped.
SEND_TIMEOUT_SECONDS = 120.0
# How long the run's end waits for a node's writes still being prepared (a slow S3 offload),
# so that its last write carries them.
SETTLE_SECONDS = 10.0


class RunSteps:
    """One run's steps: the riders of its log writer, and the gate of its live stream."""

    def __init__(
        self, scope: RunScope | None, fence: LeaseFence, queue: asyncio.Queue[dict[str, Any]]
    ) -> None:
        self._scope = scope
        self._fence = fence
        self._queue = queue
        self._waiting: list[dict[str, Any]] = []  # events after a step's end not yet stored
        # The run lost its lease with a step unstored: what waits for it is never shown.
        self.lost = False
        self._sealed = False  # the run has ended: no step may be stored any more

    @property
    def unsaved(self) -> bool:
        """Whether something the run wrote is not stored yet."""
        return self._scope is not None and self._scope.unsaved

    def attach(self, writer: EventLogWriter, hold_to_end: bool) -> None:
        """From now on the saver stores each checkpoint through ``writer`` (it waits, in its
        thread, for the write), or with ``hold_to_end`` leaves it for the run's end, whose
        write carries it: for a run whose graph call ends after its first node."""
        if self._scope is None:
            return
        loop = asyncio.get_running_loop()

        def send() -> None:
            if self._sealed:  # a saver thread that outlived its run (cancelled mid-save)
                raise LeaseLost(self._fence.holder)
            sent = asyncio.run_coroutine_threadsafe(writer.write_now(), loop)
            try:
                sent.result(SEND_TIMEOUT_SECONDS)
            except RidersLost as exc:
                raise LeaseLost(self._fence.holder) from exc
            except TimeoutError as exc:
                sent.cancel()
                raise RuntimeError("the run's step was not stored in time") from exc

        self._scope.sender = send
        self._scope.defer = hold_to_end

    # ---------------------------------------------------------------- the log writer's riders

    async def take(self) -> list[dict[str, Any]]:
        """The step results held now, one item per key (``batches.one_per_key``).
        ``RidersLost`` once the run may no longer write them (they are dropped: the node runs
        again on resume)."""
        if self._scope is None:
            return []
        items = await take_held(self._scope, WRITE_THREADS)
        try:
            self._fence.check()
        except LeaseLost as exc:
            if not items:
                return []
            self.lost = True
            raise RidersLost from exc
        return one_per_key(items)

    def lost_from(self) -> int | None:
        return self._waiting[0]["seq"] if self.lost and self._waiting else None

    async def settle(self) -> None:
        """Wait (a while) for a node's writes still being prepared, so that the run's last
        write carries them."""
        if self._scope is not None and self._scope.preparing:
            wait = functools.partial(self._scope.wait_for_writes, SETTLE_SECONDS)
            await asyncio.get_running_loop().run_in_executor(WRITE_THREADS, wait)

    def seal(self) -> None:
        """The run has ended: a saver thread still at work (its run cancelled mid-save) stores
        nothing more, before the thread is given back."""
        self._sealed = True
        self._fence.lost = True

    def give_back(self, items: list[dict[str, Any]]) -> None:
        if self._scope is not None:
            self._scope.give_back(items)

    def check(self) -> None:
        try:
            self._fence.check()
        except LeaseLost as exc:
            self.lost = True
            raise RidersLost from exc

    # ---------------------------------------------------------------- the live stream

    @property
    def node_unsaved(self) -> bool:
        """Whether a node's results are not stored yet (the run's input may be: a client that
        saw it and lost it sends it again)."""
        return self._scope is not None and self._scope.node_unsaved

    def show(self, event: dict[str, Any]) -> None:
        """To the live stream now, or once the node whose end it follows is stored."""
        if self._waiting or self.node_unsaved:
            self._waiting.append(event)
        else:
            self._queue.put_nowait(event)

    def written(self) -> None:
        """After a log write: show what waited for a node now stored."""
        if not self.node_unsaved and not self.lost:
            self.show_waiting()

    def show_waiting(self) -> None:
        for event in self._waiting:
            self._queue.put_nowait(event)
        self._waiting.clear()

    def drop_waiting(self) -> int | None:
        """The events of a step that could not be stored: never shown. The first one's seq."""
        first = self._waiting[0]["seq"] if self._waiting else None
        self._waiting.clear()
        return first
