"""``DynamoDBSaver`` with batched writes.

As shipped, the saver sends one PutItem per item: a node step that writes five channels costs
ten PutItems (a metadata item and a payload chunk each) plus two for the checkpoint. This
subclass builds the very same items and sends them as BatchWriteItem requests (25 items each),
so a step costs two write requests. Reads, deletes, S3 offload and the key formats are the
parent's. Every write first checks the running run's lease fence (``wayfarer.leases``): a run
that lost its lease writes no further checkpoint. It must keep passing the LangGraph
conformance suite (tests/test_checkpointer_conformance.py).

One difference: the parent writes regular (non-error) channel writes with "only if absent";
BatchWriteItem has no conditions, so a repeated write of the same task, index and checkpoint
replaces the first. LangGraph writes a task's outputs once per checkpoint (a task whose
writes are saved is not run again on resume), so both give the same state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph_checkpoint_aws import DynamoDBSaver
from langgraph_checkpoint_aws.checkpoint.dynamodb.unified_repository import (
    _checkpoint_pk,
    _checkpoint_ref_pk,
    _checkpoint_s3_key,
    _checkpoint_sk,
)

from wayfarer.batch_write import batch_write, puts
from wayfarer.leases import check_fence


class BatchingDynamoDBSaver(DynamoDBSaver):  # type: ignore[misc]  # the parent ships no types
    def _ttl(self) -> dict[str, str] | None:
        ttl_seconds = self.repo.ttl_seconds
        return {"N": str(int(time.time() + ttl_seconds))} if ttl_seconds else None

    def _payload_items(self, chunk_key: str, s3_key: str, data: bytes, ref_loc: str) -> list[dict[str, Any]]:
        """The payload as a chunk item for the batch, or stored in S3 now when it is large."""
        if ref_loc == "S3":
            check_fence()
            self.storage.store_data(chunk_key, s3_key, data, allow_overwrite=True)
            return []
        item: dict[str, Any] = {"PK": {"S": chunk_key}, "SK": {"S": "CHUNK"}, "payload": {"B": data}}
        if ttl := self._ttl():
            item["ttl"] = ttl
        return [item]

    def _batch_put(self, items: list[dict[str, Any]]) -> None:
        # The fence before every request: a retry must not outlive the lease.
        batch_write(
            self.client, self.table_name, puts(items), before_request=check_fence, what="checkpoint items"
        )

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if not writes:
            return
        check_fence()  # a run that lost its lease writes nothing more
        conf = config["configurable"]
        payloads: list[dict[str, Any]] = []
        bases: list[dict[str, Any]] = []
        for base_item, ref in self.repo._build_write_items(
            conf["thread_id"],
            conf.get("checkpoint_ns", ""),
            conf["checkpoint_id"],
            writes,
            task_id,
            task_path,
        ):
            bases.append(base_item)
            payloads += self._payload_items(
                ref["chunk_key"], ref["s3_key"], ref["value_data"], base_item["ref_loc"]["S"]
            )
        # Payloads first: when a step spans several batches, no metadata item is sent in an
        # earlier request than its payload.
        self._batch_put(payloads + bases)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        check_fence()
        conf = config["configurable"]
        thread_id = conf.get("thread_id")
        if thread_id is None:
            raise ValueError("Thread_id must be configured")
        checkpoint_ns = conf.get("checkpoint_ns", "")
        parent_checkpoint_id = conf.get("checkpoint_id")
        stored_metadata = dict(metadata)
        if isinstance(config.get("metadata"), dict):
            stored_metadata.update(config["metadata"])

        checkpoint_id = checkpoint["id"]
        payload_type, payload, compression = self.serializer.serialize(
            {"checkpoint": checkpoint, "metadata": stored_metadata}
        )
        chunk_key = _checkpoint_ref_pk(thread_id, checkpoint_ns, checkpoint_id)
        s3_key = _checkpoint_s3_key(thread_id, checkpoint_ns, checkpoint_id)
        ref_loc = "S3" if self.storage.should_offload_to_s3(payload) else "DYNAMODB"
        base_item: dict[str, Any] = {
            "PK": {"S": _checkpoint_pk(thread_id)},
            "SK": {"S": _checkpoint_sk(checkpoint_ns, checkpoint_id)},
            "id": {"S": checkpoint_id},
            "ns": {"S": checkpoint_ns},
            "type": {"S": payload_type},
            "ref_loc": {"S": ref_loc},
            "ref_key": {"S": s3_key if ref_loc == "S3" else chunk_key},
        }
        if parent_checkpoint_id:
            base_item["parent_checkpoint_id"] = {"S": parent_checkpoint_id}
        if compression:
            base_item["compression"] = {"S": compression.value}
        if ttl := self._ttl():
            base_item["ttl"] = ttl
        # Not atomic, like the parent's two PutItems; one writer per thread makes that safe.
        self._batch_put([*self._payload_items(chunk_key, s3_key, payload, ref_loc), base_item])
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint_id,
            }
        }
