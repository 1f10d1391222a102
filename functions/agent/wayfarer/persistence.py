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

from wayfarer.checkpointer import BatchingDynamoDBSaver
from wayfarer.settings import Settings
from wayfarer.table_keys import LEASE_SK, thread_key, thread_pk

# Short timeouts and standard retries: a run should fail fast and say so, not hang.
BOTO_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"})


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
    )


def ensure_local_resources(settings: Settings) -> None:
    """Create the table (and offload bucket) on a local endpoint; in AWS the template does."""
    if not settings.is_local_endpoint:
        return
    client = dynamodb_client(settings)
    try:
        client.create_table(
            TableName=settings.table_name,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    # dynalite creates tables asynchronously: the first write must wait for ACTIVE.
    client.get_waiter("table_exists").wait(
        TableName=settings.table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    if settings.offload_bucket:
        s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url)
        try:
            s3.create_bucket(Bucket=settings.offload_bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class ThreadRecord:
    """What a thread is besides its checkpoints. Its status is derived, not stored."""

    thread_id: str
    created_at: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"thread_id": self.thread_id, "created_at": self.created_at, "metadata": self.metadata}


class ThreadExists(Exception):
    pass


class ThreadRecords:
    """One small item per thread, written once: when it was made and its metadata."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._client = client or dynamodb_client(settings)
        self._table = settings.table_name
        self._ttl_seconds = settings.ttl_seconds

    def _item(self, record: ThreadRecord) -> dict[str, Any]:
        item: dict[str, Any] = {
            **thread_key(record.thread_id),
            "thread_id": {"S": record.thread_id},
            "created_at": {"S": record.created_at},
            "metadata": {"S": json.dumps(record.metadata)},
            "ttl": {"N": str(int(time.time()) + self._ttl_seconds)},
        }
        return item

    async def create(self, thread_id: str, metadata: dict[str, Any] | None = None) -> ThreadRecord:
        record = ThreadRecord(thread_id, now_iso(), metadata=metadata or {})
        try:
            await asyncio.to_thread(
                self._client.put_item,
                TableName=self._table,
                Item=self._item(record),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ThreadExists(thread_id) from exc
            raise
        return record

    async def get(self, thread_id: str) -> ThreadRecord | None:
        answer = await asyncio.to_thread(
            self._client.get_item, TableName=self._table, Key=thread_key(thread_id), ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return None
        return ThreadRecord(
            thread_id=item["thread_id"]["S"],
            created_at=item["created_at"]["S"],
            metadata=json.loads(item["metadata"]["S"]),
        )

    async def delete(self, thread_id: str) -> None:
        """Everything in the thread's partition: record, runs, event log; the lease item last,
        so no run can take the thread while its items are going."""
        keys: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = await asyncio.to_thread(
                self._client.query,
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": thread_pk(thread_id)}},
                ProjectionExpression="PK, SK",
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            keys += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        keys.sort(key=lambda key: key["SK"]["S"] == LEASE_SK)
        for begin in range(0, len(keys), 25):
            requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": k}} for k in keys[begin : begin + 25]]
            while requests:
                answer = await asyncio.to_thread(
                    self._client.batch_write_item, RequestItems={self._table: requests}
                )
                requests = answer.get("UnprocessedItems", {}).get(self._table, [])
                if requests:
                    await asyncio.sleep(0.1)
