"""How the saver lays out a thread's checkpoints: one partition, payloads inline, a checkpoint's
writes next to it, so one Query answers the latest checkpoint with its pending writes. Threads
saved in langgraph-checkpoint-aws's layout (before ours) are still read and deleted."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph_checkpoint_aws import DynamoDBSaver

from tests.conftest import random_text
from tests.test_read_once import Requests, planned_thread
from wayfarer.checkpointer import run_scope, write_held
from wayfarer.devstack import dynalite
from wayfarer.persistence import BOTO_CONFIG, dynamodb_client, ensure_local_resources, make_checkpointer
from wayfarer.settings import Settings


async def test_the_latest_checkpoint_with_its_writes_is_one_query(settings: Settings) -> None:
    _, saver, requests, config = await planned_thread(settings, "one-query")
    stored = await saver.aget_tuple(config)
    assert stored is not None
    await saver.aput_writes(stored.config, [("feedback", "More on museums"), ("max_revisions", 2)], "task-1")

    start = requests.count
    latest = await saver.aget_tuple(config)
    assert requests.since(start) == ["Query"]
    assert latest is not None and latest.config == stored.config
    assert latest.pending_writes == [
        ("task-1", "feedback", "More on museums"),
        ("task-1", "max_revisions", 2),
    ]

    start = requests.count
    by_id = await saver.aget_tuple(stored.config)
    assert requests.since(start) == ["Query"]
    assert by_id is not None and by_id.pending_writes == latest.pending_writes


async def test_older_checkpoints_are_listed_each_with_its_own_writes(settings: Settings) -> None:
    graph, saver, _, config = await planned_thread(settings, "history")
    with run_scope():  # as a run writes: a step's writes held for its checkpoint's batch
        await graph.ainvoke(None, config, interrupt_after=["travel_plan"])
        await write_held()
    history = [saved async for saved in saver.alist(config)]
    assert len(history) >= 4
    ids = [saved.config["configurable"]["checkpoint_id"] for saved in history]
    assert ids == sorted(ids, reverse=True)  # newest first
    for newer, older in pairwise(history):
        assert newer.parent_config == older.config
    # Each older checkpoint holds the writes of the one task that ran from it (one per step
    # in this graph), and they are what the next checkpoint was made of.
    for newer, older in pairwise(history):
        assert len({task_id for task_id, _, _ in older.pending_writes}) == 1, older.pending_writes
        for _, channel, value in older.pending_writes:
            if channel in newer.checkpoint["channel_values"] and channel != "messages":
                assert newer.checkpoint["channel_values"][channel] == value
    assert not history[0].pending_writes  # the latest: paused after travel_plan
    before = [saved async for saved in saver.alist(config, before=history[0].config, limit=1)]
    assert [saved.config for saved in before] == [history[1].config]


def table_items(settings: Settings, thread_id: str) -> list[dict[str, Any]]:
    client = dynamodb_client(settings)
    items = client.scan(TableName=settings.table_name)["Items"]
    return [item for item in items if thread_id in item["PK"]["S"]]


def earlier_layout_saver(settings: Settings) -> DynamoDBSaver:
    """langgraph-checkpoint-aws's own saver on the app's table: items as threads saved before
    our layout have them."""
    ensure_local_resources(settings)
    return DynamoDBSaver(
        table_name=settings.table_name,
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        boto_config=BOTO_CONFIG,
    )


async def test_a_thread_saved_in_the_earlier_layout_is_read_continued_and_deleted(settings: Settings) -> None:
    earlier = earlier_layout_saver(settings)
    config: RunnableConfig = {"configurable": {"thread_id": "from-before", "checkpoint_ns": ""}}
    old = empty_checkpoint()
    old["channel_values"] = {"task": "Write about visiting Lyon"}
    saved_old = earlier.put(config, old, {"source": "input", "step": -1}, {})
    earlier.put_writes(saved_old, [("feedback", "Add the food")], "task-1")

    saver = make_checkpointer(settings)
    read = await saver.aget_tuple(config)
    assert read is not None and read.config == saved_old
    assert read.checkpoint["channel_values"] == {"task": "Write about visiting Lyon"}
    assert read.pending_writes == [("task-1", "feedback", "Add the food")]
    await saver.aput_writes(saved_old, [("max_revisions", 2)], "task-2")  # written in our layout
    read = await saver.aget_tuple(config)
    assert read is not None
    assert read.pending_writes == [("task-1", "feedback", "Add the food"), ("task-2", "max_revisions", 2)]

    new = empty_checkpoint()
    new["channel_values"] = {"task": "Write about visiting Lyon", "plan": "Markets, bouchons"}
    saved_new = await saver.aput(saved_old, new, {"source": "loop", "step": 0}, {})
    latest = await saver.aget_tuple(config)
    assert latest is not None and latest.config == saved_new and latest.parent_config == saved_old
    assert [saved.config async for saved in saver.alist(config)] == [saved_new, saved_old]

    assert {item["PK"]["S"].split("_", 1)[0] for item in table_items(settings, "from-before")} == {
        "CHECKPOINT",
        "WRITES",
        "CHUNK",
    }
    await saver.adelete_thread("from-before")
    assert table_items(settings, "from-before") == []
    assert await saver.aget_tuple(config) is None


async def test_a_checkpoint_too_large_for_an_item_is_offloaded_and_deleted_with_its_thread(
    settings: Settings,
) -> None:
    saver = make_checkpointer(settings)
    ensure_local_resources(settings)
    requests = Requests()
    saver.client.meta.events.register("before-send", requests)
    config: RunnableConfig = {"configurable": {"thread_id": "large", "checkpoint_ns": ""}}
    big = empty_checkpoint()
    big["channel_values"] = {"research": [f"note {n}: " + random_text(500) for n in range(1200)]}  # 0.6 MB
    saved = await saver.aput(config, big, {"source": "input", "step": -1}, {})
    draft = random_text(600_000)  # ~450 KB compressed
    await saver.aput_writes(saved, [("draft", draft)], "task-1")

    start = requests.count
    read = await saver.aget_tuple(config)
    assert requests.since(start) == ["Query"]  # the payloads come from S3, not DynamoDB
    assert read is not None and read.checkpoint["channel_values"] == big["channel_values"]
    assert read.pending_writes == [("task-1", "draft", draft)]

    s3 = saver.storage.s3_client
    assert s3.list_objects_v2(Bucket=settings.offload_bucket).get("KeyCount") == 2
    await saver.adelete_thread("large")
    assert table_items(settings, "large") == []
    assert s3.list_objects_v2(Bucket=settings.offload_bucket).get("KeyCount") == 0


async def test_a_large_state_that_compresses_under_the_limit_stays_in_dynamodb(settings: Settings) -> None:
    """Payloads are stored gzipped (DynamoDB bills a write unit per KB): half a megabyte of
    prose is a few KB in its item, needs no S3 object, and reads back as it was."""
    saver = make_checkpointer(settings)
    ensure_local_resources(settings)
    config: RunnableConfig = {"configurable": {"thread_id": "prose", "checkpoint_ns": ""}}
    prose = empty_checkpoint()
    prose["channel_values"] = {"research": [f"note {n}: Paris in long form. " * 20 for n in range(1200)]}
    saved = await saver.aput(config, prose, {"source": "input", "step": -1}, {})
    draft = "The Seine at dusk, again and again. " * 15_000  # 540 KB
    await saver.aput_writes(saved, [("draft", draft)], "task-1")

    items = table_items(settings, "prose")
    assert [item["compression"]["S"] for item in items] == ["gzip", "gzip"]
    assert all(len(item["payload"]["B"]) < 50_000 for item in items)
    assert saver.storage.s3_client.list_objects_v2(Bucket=settings.offload_bucket).get("KeyCount") == 0
    read = await saver.aget_tuple(config)
    assert read is not None and read.checkpoint["channel_values"] == prose["channel_values"]
    assert read.pending_writes == [("task-1", "draft", draft)]


async def test_a_write_repeated_at_one_index_is_stored_once_the_last_one_kept(tmp_path: Path) -> None:
    """A task resumed through two interrupts writes RESUME twice at one index. DynamoDB (and
    dynalite; moto does not check) refuses a batch that names a key twice: the saver keeps the last."""
    with dynalite(tmp_path / "dyn") as endpoint:
        settings = Settings(dynamodb_endpoint_url=endpoint, table_name="resumed-twice")
        ensure_local_resources(settings)
        saver = make_checkpointer(settings)
        config: RunnableConfig = {"configurable": {"thread_id": "resumed-twice", "checkpoint_ns": ""}}
        saved = await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})
        await saver.aput_writes(saved, [("__resume__", "first"), ("__resume__", "second")], "task-1")
        read = await saver.aget_tuple(config)
        assert read is not None and read.pending_writes == [("task-1", "__resume__", "second")]


async def test_a_special_write_to_an_earlier_layout_checkpoint_replaces_the_old_one(
    settings: Settings,
) -> None:
    earlier = earlier_layout_saver(settings)
    config: RunnableConfig = {"configurable": {"thread_id": "paused-before", "checkpoint_ns": ""}}
    saved = earlier.put(config, empty_checkpoint(), {"source": "loop", "step": 1}, {})
    earlier.put_writes(saved, [("__interrupt__", "asked before the deploy")], "task-1")
    saver = make_checkpointer(settings)
    await saver.aput_writes(saved, [("__interrupt__", "asked again")], "task-1")
    read = await saver.aget_tuple(config)
    assert read is not None and read.pending_writes == [("task-1", "__interrupt__", "asked again")]
