"""The event log's items on dynalite: a batch of a KB or more is stored compressed (DynamoDB
bills a write unit per KB), a small one as it is, and a reader gets every event back in order."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import random_text
from wayfarer.devstack import dynalite
from wayfarer.event_log import DynamoDBEventLog, RunRecord
from wayfarer.persistence import dynamodb_client, ensure_local_resources
from wayfarer.settings import Settings
from wayfarer.table_keys import EVENTS_SK_PREFIX


def token(seq: int, text: str) -> dict[str, object]:
    return {"seq": seq, "event": "token", "run_id": "run-1", "node": "generate", "text": text}


async def test_batches_of_a_kb_or_more_are_stored_compressed_and_read_back_in_order(tmp_path: Path) -> None:
    with dynalite(tmp_path / "dyn") as endpoint:
        settings = Settings(dynamodb_endpoint_url=endpoint, table_name="log")
        ensure_local_resources(settings)
        client = dynamodb_client(settings)
        log = DynamoDBEventLog(client, settings.table_name, ttl_seconds=3600)
        record = RunRecord("t", "run-1", "running", "2026-11-24T00:00:00+00:00", "2026-11-24T00:00:00+00:00")

        small = [token(1, "Paris")]
        tokens = [token(seq, f"word{seq} ") for seq in range(2, 202)]
        huge = [token(202, random_text(400_000))]  # over a batch's limit on its own
        for batch in (small, tokens, huge):
            await log.append(record.after(batch, record.updated_at), batch)

        items = client.scan(TableName=settings.table_name)["Items"]
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
