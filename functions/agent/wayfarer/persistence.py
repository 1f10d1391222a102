"""DynamoDB (and S3) persistence: the LangGraph checkpointer, the thread records and the
local bootstrap. Everything lives in one table with string keys PK/SK (``table_keys``)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from wayfarer.batches import batch_write, deletes, puts
from wayfarer.checkpointer import BatchingDynamoDBSaver
from wayfarer.errors import NotFound
from wayfarer.leases import RecordFields
from wayfarer.settings import Settings
from wayfarer.table_keys import LOCAL_OWNER, OWNER_INDEX, THREAD_SK, ThreadRef, thread_key, thread_pk

# Short timeouts and standard retries: a run should fail fast and say so, not hang. A request
# lands or fails within connect + read timeout of being sent (5 s), inside the lease fence's
# margin (leases.FENCE_SAFETY_FRACTION); DynamoDB answers in milliseconds.
TITLE_CHARS = 200  # a thread's title: the start of the task that began its piece
BOTO_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 4, "mode": "standard"})


def dynamodb_client(settings: Settings) -> Any:
    return boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        config=BOTO_CONFIG,
    )


def make_checkpointer(settings: Settings) -> BatchingDynamoDBSaver:
    offload: Any = None
    if settings.offload_bucket:
        offload = {"bucket_name": settings.offload_bucket, "endpoint_url": settings.s3_endpoint_url}
    return BatchingDynamoDBSaver(
        table_name=settings.table_name,
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        boto_config=BOTO_CONFIG,
        ttl_seconds=settings.ttl_seconds,
        s3_offload_config=offload,
        # gzip from 1 KB when it saves a tenth: DynamoDB bills a write unit per KB, and a
        # state's text (plan, notes, drafts) about halves; S3 takes what is still over 350 KB.
        enable_checkpoint_compression=True,
    )


OWNER_INDEX_SPEC: dict[str, Any] = {
    "IndexName": OWNER_INDEX,
    "KeySchema": [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}
ATTRIBUTES = [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "owner", "updated_at")]


def create_local_table(client: Any, table: str) -> None:
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=ATTRIBUTES,
        GlobalSecondaryIndexes=[OWNER_INDEX_SPEC],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_until_active(client, table)


def ensure_local_resources(settings: Settings) -> None:
    """Create the table (with the owner index) and the offload bucket on a local endpoint; in
    AWS the template does. A local table from before the index is rebuilt with it, its items
    kept (dynalite accepts an index added by UpdateTable but never builds it)."""
    if not settings.is_local_endpoint:
        return
    client = dynamodb_client(settings)
    try:
        create_local_table(client, settings.table_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        wait_until_active(client, settings.table_name)
    indexes = client.describe_table(TableName=settings.table_name)["Table"].get("GlobalSecondaryIndexes", [])
    if not any(index["IndexName"] == OWNER_INDEX for index in indexes):
        rebuild_with_owner_index(client, settings.table_name)
    if settings.offload_bucket:
        s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url)
        try:
            s3.create_bucket(Bucket=settings.offload_bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise


def rebuild_with_owner_index(client: Any, table: str) -> None:
    items = [
        item for page in client.get_paginator("scan").paginate(TableName=table) for item in page["Items"]
    ]
    client.delete_table(TableName=table)
    client.get_waiter("table_not_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    create_local_table(client, table)
    batch_write(client, table, puts(items), what="local items")
    print(f"Local table {table}: rebuilt with the {OWNER_INDEX} index, {len(items)} items kept.", flush=True)


def wait_until_active(client: Any, table: str) -> None:
    """dynalite creates tables and indexes asynchronously: the first write must wait."""
    for _ in range(200):
        described = client.describe_table(TableName=table)["Table"]
        indexes = described.get("GlobalSecondaryIndexes", [])
        if described["TableStatus"] == "ACTIVE" and all(i["IndexStatus"] == "ACTIVE" for i in indexes):
            return
        time.sleep(0.1)
    raise TimeoutError(f"table {table} did not become ACTIVE")


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class ThreadRecord:
    """What a thread is besides its checkpoints: who owns it, when it was made and last run,
    its title (the task) and metadata. Its status is derived, not stored."""

    thread_id: str  # as its owner names it
    owner: str
    created_at: str
    updated_at: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "title": self.title,
            "metadata": self.metadata,
        }


def record_of(item: dict[str, Any] | None) -> ThreadRecord | None:
    """The record the thread's item holds; None for no item, or one with only a lease (a run
    refused on a thread that does not exist)."""
    return _record(item) if item and "created_at" in item else None


class ThreadExists(Exception):
    pass


def _record(item: dict[str, Any]) -> ThreadRecord:
    return ThreadRecord(
        thread_id=item["thread_id"]["S"],
        owner=item.get("owner", {}).get("S", LOCAL_OWNER),
        created_at=item["created_at"]["S"],
        updated_at=item.get("updated_at", item["created_at"])["S"],
        title=item["title"]["S"] if "title" in item else None,
        metadata=json.loads(item["metadata"]["S"]) if "metadata" in item else {},
    )


class ThreadRecords:
    """One small item per thread, refreshed (updated_at, TTL) whenever a run starts on it, and
    listed per owner, newest activity first, through the owner index."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.client = self._client = client or dynamodb_client(settings)
        self._table = settings.table_name
        self._ttl_seconds = settings.ttl_seconds

    def _ttl(self) -> dict[str, str]:
        return {"N": str(int(time.time()) + self._ttl_seconds)}

    async def create(self, ref: ThreadRef, metadata: dict[str, Any] | None = None) -> ThreadRecord:
        """Only if the thread has no record yet. An update, not a put: the item may already
        hold the thread's lease (a run that is about to create its thread holds it)."""
        now = now_iso()
        record = ThreadRecord(ref.thread_id, ref.owner, now, now, metadata=metadata or {})
        try:
            await asyncio.to_thread(
                self._client.update_item,
                TableName=self._table,
                Key=thread_key(ref.key),
                UpdateExpression=(
                    "SET thread_id = :thread_id, #owner = :owner, created_at = :now, updated_at = :now, "
                    "metadata = :metadata, #ttl = :ttl"
                ),
                ConditionExpression="attribute_not_exists(created_at)",
                ExpressionAttributeNames={"#owner": "owner", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":thread_id": {"S": ref.thread_id},
                    ":owner": {"S": ref.owner},
                    ":now": {"S": now},
                    ":metadata": {"S": json.dumps(record.metadata)},
                    ":ttl": self._ttl(),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ThreadExists(ref.thread_id) from exc
            raise
        return record

    def new_record(self, ref: ThreadRef, title: str) -> RecordFields:
        """The record of a thread a run creates, for the run's lease take to set where absent
        (the take already marks the activity and the TTL): one request, not two."""
        return RecordFields(
            sets=(
                "thread_id = :thread_id",
                "#owner = :owner",
                "created_at = if_not_exists(created_at, :created)",
                "metadata = if_not_exists(metadata, :empty)",
                "title = if_not_exists(title, :title)",
            ),
            names={"#owner": "owner"},
            values={
                ":thread_id": {"S": ref.thread_id},
                ":owner": {"S": ref.owner},
                ":created": {"S": now_iso()},
                ":empty": {"S": "{}"},
                ":title": {"S": title[:TITLE_CHARS]},
            },
        )

    async def start_piece(self, ref: ThreadRef, title: str) -> None:
        """A new piece starts: the thread exists (the seed runs on ids it never created), its
        activity time and TTL move forward, and the piece names its title. (Every run's lease
        take marks the activity: ``DynamoDBRunLeases.acquire``; only a new piece writes here.)"""
        sets = [
            "thread_id = :thread_id",
            "#owner = :owner",
            "created_at = if_not_exists(created_at, :now)",
            "updated_at = :now",
            "metadata = if_not_exists(metadata, :empty)",
            "#ttl = :ttl",
            "title = :title",
        ]
        values: dict[str, Any] = {
            ":thread_id": {"S": ref.thread_id},
            ":owner": {"S": ref.owner},
            ":now": {"S": now_iso()},
            ":empty": {"S": "{}"},
            ":ttl": self._ttl(),
            ":title": {"S": title[:TITLE_CHARS]},
        }
        await asyncio.to_thread(
            self._client.update_item,
            TableName=self._table,
            Key=thread_key(ref.key),
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames={"#owner": "owner", "#ttl": "ttl"},
            ExpressionAttributeValues=values,
        )

    async def set_metadata(self, ref: ThreadRef, metadata: dict[str, Any]) -> None:
        try:
            await asyncio.to_thread(
                self._client.update_item,
                TableName=self._table,
                Key=thread_key(ref.key),
                UpdateExpression="SET metadata = :metadata",
                ConditionExpression="attribute_exists(created_at)",
                ExpressionAttributeValues={":metadata": {"S": json.dumps(metadata)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"Thread {ref.thread_id!r} does not exist.") from exc
            raise

    async def get_item(self, ref: ThreadRef) -> dict[str, Any] | None:
        """The thread's item whole: its record (``record_of``) and its lease
        (``RunLeases.state_of``) in one read."""
        answer = await asyncio.to_thread(
            self._client.get_item, TableName=self._table, Key=thread_key(ref.key), ConsistentRead=True
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    async def list(
        self, owner: str, limit: int, after: tuple[str, str] | None
    ) -> tuple[list[ThreadRecord], ThreadRecord | None]:
        """The owner's threads, newest activity first, after ``(updated_at, thread_id)``; and
        the page's last thread when more may follow. The start key is rebuilt here from the
        owner, so a caller can never page another owner's threads."""
        cursor: dict[str, Any] | None = None
        if after is not None:
            updated_at, thread_id = after
            cursor = {
                **thread_key(ThreadRef(owner, thread_id).key),
                "owner": {"S": owner},
                "updated_at": {"S": updated_at},
            }
        page = await asyncio.to_thread(
            self._client.query,
            TableName=self._table,
            IndexName=OWNER_INDEX,
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
            ScanIndexForward=False,
            Limit=limit,
            **({"ExclusiveStartKey": cursor} if cursor else {}),
        )
        records = [_record(item) for item in page.get("Items", [])]
        return records, records[-1] if records and page.get("LastEvaluatedKey") else None

    async def delete(self, ref: ThreadRef) -> None:
        """Everything in the thread's partition but the record's item (it holds the lease: the
        caller holds it and removes it last, conditionally): runs, event log."""
        keys: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = await asyncio.to_thread(
                self._client.query,
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": thread_pk(ref.key)}},
                ProjectionExpression="PK, SK",
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            keys += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        keys = [key for key in keys if key["SK"]["S"] != THREAD_SK]
        await asyncio.to_thread(batch_write, self._client, self._table, deletes(keys), what="thread items")
