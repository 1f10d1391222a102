"""A checkpoint and its pending writes as DynamoDB items of our layout (keys in ``table_keys``),
built and read without I/O.

A payload (the serialized checkpoint, or a write's value) is inline in its item unless it is
too large for one; then it is in the offload bucket and the item names its key. ``layout``
tells these items from those langgraph-checkpoint-aws wrote before (payload in a ``CHUNK_``
item, writes in ``WRITES_`` partitions), which the saver still reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.constants import START
from langgraph_checkpoint_aws.checkpoint.dynamodb.serialization import CompressionType

from wayfarer.table_keys import checkpoint_pk, checkpoint_sk, write_sk

Item = dict[str, Any]
LAYOUT = "layout"
LAYOUT_VERSION = "2"


@dataclass(frozen=True)
class Payload:
    """A serialized value as stored: ``data`` inline, or the S3 key that holds it."""

    type: str
    compression: CompressionType | None
    data: bytes | None = None
    s3_key: str | None = None

    def attributes(self) -> Item:
        item: Item = {"type": {"S": self.type}}
        if self.s3_key is not None:
            item["s3_key"] = {"S": self.s3_key}
        else:
            item["payload"] = {"B": self.data}
        if self.compression:
            item["compression"] = {"S": self.compression.value}
        return item


def stored_payload(item: Item) -> Payload:
    compression = item.get("compression", {}).get("S")
    return Payload(
        type=item["type"]["S"],
        compression=CompressionType(compression) if compression else None,
        data=item["payload"]["B"] if "payload" in item else None,
        s3_key=item["s3_key"]["S"] if "s3_key" in item else None,
    )


def _stamped(item: Item, payload: Payload, ttl: Item | None) -> Item:
    item = {**item, LAYOUT: {"N": LAYOUT_VERSION}, **payload.attributes()}
    if ttl is not None:
        item["ttl"] = ttl
    return item


def checkpoint_item(
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str,
    parent_checkpoint_id: str | None,
    payload: Payload,
    ttl: Item | None,
) -> Item:
    item: Item = {
        "PK": {"S": checkpoint_pk(thread_id)},
        "SK": {"S": checkpoint_sk(checkpoint_ns, checkpoint_id)},
        "id": {"S": checkpoint_id},
        "ns": {"S": checkpoint_ns},
    }
    if parent_checkpoint_id:
        item["parent_checkpoint_id"] = {"S": parent_checkpoint_id}
    return _stamped(item, payload, ttl)


def write_item(
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str,
    task_id: str,
    task_path: str,
    idx: int,
    channel: str,
    payload: Payload,
    ttl: Item | None,
) -> Item:
    item: Item = {
        "PK": {"S": checkpoint_pk(thread_id)},
        "SK": {"S": write_sk(checkpoint_ns, checkpoint_id, task_id, idx)},
        "checkpoint_id": {"S": checkpoint_id},
        "task_id": {"S": task_id},
        "idx": {"N": str(idx)},
        "channel": {"S": channel},
    }
    if task_path:
        item["task_path"] = {"S": task_path}
    return _stamped(item, payload, ttl)


def is_write(item: Item) -> bool:
    return "channel" in item


# The task id LangGraph gives writes of no task (a state update, a resume); langgraph keeps its
# own constant private.
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"


def of_a_node(task_id: str, task_path: str) -> bool:
    """Whether a task's writes are a node's results, not the run's input (the input task's,
    or those LangGraph writes for no task: a state update, a resume)."""
    return task_id != NULL_TASK_ID and not task_path.endswith(START)


def is_node_write(item: Item) -> bool:
    return is_write(item) and of_a_node(item["task_id"]["S"], item.get("task_path", {}).get("S", ""))


def is_ours(item: Item) -> bool:
    """Written in this layout (not langgraph-checkpoint-aws's, from before it)."""
    return LAYOUT in item


def write_order(item: Item) -> tuple[str, int]:
    """A checkpoint's writes in task order, each task's in the order it wrote them."""
    return item["task_id"]["S"], int(item["idx"]["N"])


def belongs_to(write: Item, checkpoint: Item) -> bool:
    return bool(write["SK"]["S"].startswith(checkpoint["SK"]["S"] + "#"))
