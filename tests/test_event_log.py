"""The event log's items on dynalite: a batch of a KB or more is stored compressed (DynamoDB
bills a write unit per KB), a small one as it is, and a reader gets every event back in order;
the run's record is written when it is new and when it ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import random_text
from wayfarer.devstack import dynalite
from wayfarer.event_log import DynamoDBEventLog, EventLogWriter, RunRecord
from wayfarer.persistence import dynamodb_client, ensure_local_resources, now_iso
from wayfarer.settings import Settings
from wayfarer.table_keys import EVENTS_SK_PREFIX


@pytest.fixture
def table(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A DynamoDB client on a fresh dynalite, and the app's table on it."""
    with dynalite(tmp_path / "dyn") as endpoint:
        settings = Settings(dynamodb_endpoint_url=endpoint, table_name="log")
        ensure_local_resources(settings)
        yield dynamodb_client(settings), settings.table_name


def token(seq: int, text: str) -> dict[str, object]:
    return {"seq": seq, "event": "token", "run_id": "run-1", "node": "generate", "text": text}


async def test_batches_of_a_kb_or_more_are_stored_compressed_and_read_back_in_order(
    table: tuple[Any, str],
) -> None:
    client, name = table
    log = DynamoDBEventLog(client, name, ttl_seconds=3600)
    record = RunRecord("t", "run-1", "running", "2026-11-24T00:00:00+00:00", "2026-11-24T00:00:00+00:00")

    small = [token(1, "Paris")]
    tokens = [token(seq, f"word{seq} ") for seq in range(2, 202)]
    huge = [token(202, random_text(400_000))]  # over a batch's limit on its own
    for batch in (small, tokens, huge):
        await log.append(record.after(batch, record.updated_at), batch)

    items = client.scan(TableName=name)["Items"]
    batches = sorted(
        (item for item in items if item["SK"]["S"].startswith(EVENTS_SK_PREFIX)),
        key=lambda item: item["SK"]["S"],
    )
    assert [sorted(k for k in item if k.startswith("events")) for item in batches] == [
        ["events"],
        ["events_z"],
        ["events_z"],
    ]
    tokens_json = len(json.dumps(tokens, separators=(",", ":")))
    assert len(batches[1]["events_z"]["B"]) < tokens_json / 4
    assert await log.read("t", "run-1", 0) == small + tokens + huge
    assert await log.read("t", "run-1", 150) == tokens[149:] + huge


async def test_a_runs_record_is_written_with_its_first_and_last_batch_and_read_with_its_last_seq(
    table: tuple[Any, str],
) -> None:
    """Batches of tokens between do not rewrite the record (a write unit each): while the run
    goes, its last seq comes from its newest batch."""
    client, name = table
    written: list[str] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            written.extend(r["PutRequest"]["Item"]["SK"]["S"].split("#")[0] for r in requests)

    client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", note)
    log = DynamoDBEventLog(client, name, ttl_seconds=3600)
    started = now_iso()
    writer = EventLogWriter(log, RunRecord("t", "run-1", "running", started, started), now_iso, 0.01)
    for seq in (1, 2, 3):
        writer.add(token(seq, f"word{seq}"))
        await asyncio.sleep(0.2)  # each its own batch
    assert written == ["EVT", "RUN", "EVT", "EVT"]
    running = await log.get_run("t", "run-1")
    assert running is not None and (running.status, running.last_seq) == ("running", 3)
    assert [run.last_seq for run in await log.list_runs("t", 10)] == [3]

    writer.add({"seq": 4, "event": "complete", "run_id": "run-1"})
    assert await writer.close()
    assert written[4:] == ["EVT", "RUN"]
    ended = await log.get_run("t", "run-1")
    assert ended is not None and (ended.status, ended.last_seq) == ("complete", 4)
    assert [e["seq"] for e in await log.read("t", "run-1", 0)] == [1, 2, 3, 4]


async def test_of_two_joiners_ending_a_vanished_run_one_does(table: tuple[Any, str]) -> None:
    """The second read "running" before the first ended the run, and the first's end event
    after: it would end the run again, one seq further. Its claim on the record fails."""
    log = DynamoDBEventLog(*table, ttl_seconds=3600)
    started = now_iso()
    running = RunRecord("t", "run-1", "running", started, started)
    first = [token(1, "Paris"), token(2, "in"), token(3, "spring")]
    await log.append(running.after(first, started), first)

    def end(seq: int) -> tuple[RunRecord, dict[str, Any]]:
        event = {"seq": seq, "event": "error", "error": "went away", "run_id": "run-1"}
        return RunRecord("t", "run-1", "error", started, now_iso(), seq, "went away"), event

    assert await log.end_once(*end(4))
    assert not await log.end_once(*end(5))
    assert [e["event"] for e in await log.read("t", "run-1", 0)] == ["token"] * 3 + ["error"]
    ended = await log.get_run("t", "run-1")
    assert ended is not None and (ended.status, ended.last_seq) == ("error", 4)
