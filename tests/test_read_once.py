"""Within a run (which holds the thread's lease) the saver reads the latest checkpoint from
DynamoDB once and keeps what it writes; what it answers is what DynamoDB would answer."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from langchain_core.runnables import RunnableConfig

from tests.faults import FaultInjector
from wayfarer.checkpointer import run_scope, write_held
from wayfarer.graph.state import new_piece
from wayfarer.services import build_services
from wayfarer.settings import Settings


class Requests:
    def __init__(self) -> None:
        self.count = 0
        self.operations: list[str] = []

    def __call__(self, request: Any, **_: Any) -> None:
        self.count += 1
        target = request.headers.get("X-Amz-Target", b"")
        self.operations.append((target.decode() if isinstance(target, bytes) else target).split(".")[-1])

    def since(self, start: int) -> list[str]:
        return self.operations[start:]


async def planned_thread(settings: Settings, thread_id: str) -> tuple[Any, Any, Requests, RunnableConfig]:
    """The app's graph and saver (its requests counted), and a thread paused after planning."""
    services = build_services(settings)
    graph, saver = services.runs.graph, services.runs.checkpointer
    requests = Requests()
    saver.client.meta.events.register("before-send", requests)
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    await graph.ainvoke(new_piece("Write about visiting Paris"), config, interrupt_after=["planner"])
    return graph, saver, requests, config


def same(a: Any, b: Any) -> None:
    assert a is not None and b is not None
    assert a.config == b.config and a.parent_config == b.parent_config
    assert a.checkpoint == b.checkpoint and a.metadata == b.metadata
    assert sorted(map(repr, a.pending_writes)) == sorted(map(repr, b.pending_writes))


async def test_a_run_reads_the_latest_checkpoint_once_and_keeps_what_it_writes(settings: Settings) -> None:
    graph, saver, requests, config = await planned_thread(settings, "read-once")
    stored = await saver.aget_tuple(config)

    with run_scope():
        before = requests.count
        first = await saver.aget_tuple(config)
        read = requests.count - before
        again = await saver.aget_tuple(config)
        assert read > 0 and requests.count - before == read  # the second read sent nothing
        same(first, stored)
        same(again, stored)
        await graph.ainvoke(None, config, interrupt_after=["travel_plan"])  # a step in the run
        before = requests.count
        kept = await saver.aget_tuple(config)
        by_id = await saver.aget_tuple(kept.config if kept else config)
        assert requests.count == before  # the checkpoint it wrote, as it wrote it
        await write_held()
    fresh = await saver.aget_tuple(config)  # outside a run: from DynamoDB
    same(kept, fresh)
    same(by_id, fresh)
    assert fresh is not None and fresh.checkpoint["channel_values"]["queries"]

    outside = requests.count
    await saver.aget_tuple(config)
    assert requests.count > outside  # no scope, no keeping


async def test_a_step_in_a_run_is_one_write_request(settings: Settings) -> None:
    graph, saver, requests, config = await planned_thread(settings, "one-write")

    outside = requests.count
    await graph.ainvoke(None, config, interrupt_after=["travel_plan"])
    assert requests.since(outside).count("BatchWriteItem") == 2  # the writes, then the checkpoint

    with run_scope():
        start = requests.count
        await graph.ainvoke(None, config, interrupt_after=["generate"])
        await write_held()
        sent = requests.since(start)
    # The node's writes went with the checkpoint that ends its step; nothing was left held.
    assert sent.count("BatchWriteItem") == 1, sent
    stored = await saver.aget_tuple(config)
    assert stored is not None and stored.checkpoint["channel_values"].get("draft")


def slow_to_serialize(saver: Any, slow: str) -> threading.Event:
    """The saver's serializer takes half a second over ``slow``; the event is set as it starts."""
    serialize = saver.serializer.serialize
    started = threading.Event()

    def slowly(value: Any) -> Any:
        if value == slow:
            started.set()
            time.sleep(0.5)
        return serialize(value)

    saver.serializer.serialize = slowly
    return started


async def test_a_checkpoint_waits_for_its_steps_writes_still_being_prepared(settings: Settings) -> None:
    """LangGraph saves a step's writes and its checkpoint from two threads at once. A write
    slow to prepare (a large value being compressed) still goes in the checkpoint's request,
    not in one of its own at the run's end."""
    _, saver, requests, config = await planned_thread(settings, "slow-writes")
    stored = await saver.aget_tuple(config)
    assert stored is not None
    preparing = slow_to_serialize(saver, "A slow draft")
    following = {**stored.checkpoint, "id": "1f0c0000-0000-6000-8000-000000000001"}
    with run_scope():
        await saver.aget_tuple(config)
        start = requests.count
        writing = asyncio.create_task(saver.aput_writes(stored.config, [("draft", "A slow draft")], "task-1"))
        await asyncio.to_thread(preparing.wait, 10)  # the write is being prepared
        await saver.aput(stored.config, following, {"source": "loop", "step": 99}, {})
        await writing
        await write_held()
        assert requests.since(start) == ["BatchWriteItem"]  # the checkpoint with its step's write
    fresh = await saver.aget_tuple(stored.config)
    assert fresh is not None and ("task-1", "draft", "A slow draft") in fresh.pending_writes


async def test_the_runs_end_sends_writes_still_being_prepared(settings: Settings) -> None:
    """A write no checkpoint follows (the run stopped as its node ended) that is still being
    prepared when the run ends is sent then, not dropped because nothing was held yet."""
    _, saver, requests, config = await planned_thread(settings, "slow-last-write")
    stored = await saver.aget_tuple(config)
    assert stored is not None
    preparing = slow_to_serialize(saver, "A slow draft")
    with run_scope():
        await saver.aget_tuple(config)
        start = requests.count
        writing = asyncio.create_task(saver.aput_writes(stored.config, [("draft", "A slow draft")], "task-1"))
        await asyncio.to_thread(preparing.wait, 10)  # the write is being prepared, not held
        await write_held()
        assert requests.since(start) == ["BatchWriteItem"]
        await writing
    fresh = await saver.aget_tuple(stored.config)
    assert fresh is not None and ("task-1", "draft", "A slow draft") in fresh.pending_writes


async def test_writes_no_checkpoint_follows_wait_for_the_end_of_the_run(settings: Settings) -> None:
    _, saver, requests, config = await planned_thread(settings, "held")
    stored = await saver.aget_tuple(config)
    assert stored is not None

    with run_scope():
        await saver.aget_tuple(config)
        start = requests.count
        await saver.aput_writes(stored.config, [("feedback", "More on museums")], "task-1")
        assert requests.count == start  # held
        kept = await saver.aget_tuple(config)
        assert kept is not None and ("task-1", "feedback", "More on museums") in kept.pending_writes
        # A reader outside the run (an executor thread does not carry the run's context):
        elsewhere = await asyncio.get_running_loop().run_in_executor(None, saver.get_tuple, config)
        assert elsewhere is not None and not elsewhere.pending_writes  # not in DynamoDB yet
        start = requests.count
        await write_held()
        assert requests.since(start) == ["BatchWriteItem"]
        await write_held()  # nothing left: nothing sent
        assert requests.count == start + 1
    fresh = await saver.aget_tuple(config)
    assert fresh is not None and ("task-1", "feedback", "More on museums") in fresh.pending_writes


async def test_a_new_thread_is_looked_up_once_in_a_run(settings: Settings) -> None:
    services = build_services(settings)
    saver = services.runs.checkpointer
    requests = Requests()
    saver.client.meta.events.register("before-send", requests)
    config: RunnableConfig = {"configurable": {"thread_id": "brand-new"}}
    with run_scope():
        assert await saver.aget_tuple(config) is None
        assert await saver.aget_tuple(config) is None
        assert requests.count == 1


async def test_held_writes_that_fail_to_send_stay_held(settings: Settings) -> None:
    _, saver, _, config = await planned_thread(settings, "held-retry")
    stored = await saver.aget_tuple(config)
    assert stored is not None
    with run_scope():
        await saver.aput_writes(stored.config, [("feedback", "Shorter, please")], "task-1")
        FaultInjector(saver.client, "ValidationException", "Item size has exceeded the maximum", times=1)
        with pytest.raises(ClientError):
            await write_held()
        await write_held()  # the same writes, sent again
    fresh = await saver.aget_tuple(config)
    assert fresh is not None and ("task-1", "feedback", "Shorter, please") in fresh.pending_writes
