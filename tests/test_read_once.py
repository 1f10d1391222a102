"""Within a run (which holds the thread's lease) the saver reads the latest checkpoint from
DynamoDB once and keeps what it writes; what it answers is what DynamoDB would answer."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from wayfarer.checkpointer import reading_once
from wayfarer.graph.state import new_piece
from wayfarer.services import build_services
from wayfarer.settings import Settings


class Requests:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: Any) -> None:
        self.count += 1


def same(a: Any, b: Any) -> None:
    assert a is not None and b is not None
    assert a.config == b.config and a.parent_config == b.parent_config
    assert a.checkpoint == b.checkpoint and a.metadata == b.metadata
    assert sorted(map(repr, a.pending_writes)) == sorted(map(repr, b.pending_writes))


async def test_a_run_reads_the_latest_checkpoint_once_and_keeps_what_it_writes(settings: Settings) -> None:
    services = build_services(settings)
    graph, saver = services.runs.graph, services.runs.checkpointer
    requests = Requests()
    saver.client.meta.events.register("before-send", requests)
    config: RunnableConfig = {"configurable": {"thread_id": "read-once"}}
    await graph.ainvoke(new_piece("Write about visiting Paris"), config, interrupt_after=["planner"])
    stored = await saver.aget_tuple(config)

    with reading_once():
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
    fresh = await saver.aget_tuple(config)  # outside a run: from DynamoDB
    same(kept, fresh)
    same(by_id, fresh)
    assert fresh is not None and fresh.checkpoint["channel_values"]["queries"]

    outside = requests.count
    await saver.aget_tuple(config)
    assert requests.count > outside  # no scope, no keeping
