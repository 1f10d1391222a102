"""``DynamoDBSaver`` with batched writes.

As shipped, the saver sends one PutItem per item: a node step that writes five channels costs
ten PutItems (a metadata item and a payload chunk each) plus two for the checkpoint. This
subclass builds the very same items and sends them as BatchWriteItem requests (25 items each),
so a step costs two write requests. Reads, deletes, S3 offload and the key formats are the
parent's. Every write first checks the running run's lease fence (``wayfarer.leases``): a run
that lost its lease writes no further checkpoint. It must keep passing the LangGraph
conformance suite (tests/test_checkpointer_conformance.py).

Within a run, the thread's latest checkpoint is read once (``reading_once``): the run holds
the thread's lease, so no one else writes it, and what this saver writes it also keeps as the
latest. A HITL request reads the checkpoint to prepare the run, and the graph then starts from
the same one; a run of several nodes starts each from the one it just wrote. Outside a run
(the state routes, the conformance suite) every read goes to DynamoDB.

One difference: the parent writes regular (non-error) channel writes with "only if absent";
BatchWriteItem has no conditions, so a repeated write of the same task, index and checkpoint
replaces the first. LangGraph writes a task's outputs once per checkpoint (a task whose
writes are saved is not run again on resume), so both give the same state.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)
from langgraph_checkpoint_aws import DynamoDBSaver
from langgraph_checkpoint_aws.checkpoint.dynamodb.unified_repository import (
    _checkpoint_pk,
    _checkpoint_ref_pk,
    _checkpoint_s3_key,
    _checkpoint_sk,
)

from wayfarer.batch_write import batch_write, puts
from wayfarer.leases import check_fence


@dataclass
class Latest:
    """A thread's latest checkpoint as this run knows it, and the writes made since."""

    saved: CheckpointTuple
    writes: dict[tuple[str, int], tuple[str, str, Any]] = field(default_factory=dict)

    @property
    def checkpoint_id(self) -> str:
        checkpoint_id: str = self.saved.config["configurable"]["checkpoint_id"]
        return checkpoint_id

    def as_tuple(self) -> CheckpointTuple:
        """A copy the graph may change without changing what is kept."""
        pending = [self.writes[key] for key in sorted(self.writes)]
        return copy.deepcopy(self.saved._replace(pending_writes=pending))


# (thread key, namespace) -> Latest, while a run reads once; None outside a run.
_latest: ContextVar[dict[tuple[str, str], Latest] | None] = ContextVar("latest_checkpoint", default=None)


@contextmanager
def reading_once() -> Iterator[None]:
    """Within the block (and in tasks it starts), the latest checkpoint of a thread is read
    from DynamoDB once and then kept as this saver writes it. Only for a lease holder."""
    token = _latest.set({})
    try:
        yield
    finally:
        _latest.reset(token)


class BatchingDynamoDBSaver(DynamoDBSaver):  # type: ignore[misc]  # the parent ships no types
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        known = _latest.get()
        conf = config["configurable"]
        key = (conf["thread_id"], conf.get("checkpoint_ns", ""))
        wanted = get_checkpoint_id(config)
        if known is not None and key in known:
            latest = known[key]
            if wanted is None or wanted == latest.checkpoint_id:
                return latest.as_tuple()
        found: CheckpointTuple | None = super().get_tuple(config)
        if known is not None and found is not None and wanted is None:
            latest = known[key] = Latest(copy.deepcopy(found._replace(pending_writes=[])))
            per_task: dict[str, int] = {}
            for task_id, channel, value in found.pending_writes or []:
                index = per_task[task_id] = per_task.get(task_id, -1) + 1
                latest.writes[(task_id, WRITES_IDX_MAP.get(channel, index))] = (
                    task_id,
                    channel,
                    copy.deepcopy(value),
                )
        return found

    def delete_thread(self, thread_id: str) -> None:
        known = _latest.get()
        if known is not None:
            for key in [k for k in known if k[0] == thread_id]:
                del known[key]
        super().delete_thread(thread_id)

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
        known = _latest.get()
        latest = known.get((conf["thread_id"], conf.get("checkpoint_ns", ""))) if known is not None else None
        if latest is not None and latest.checkpoint_id == conf["checkpoint_id"]:
            for index, (channel, value) in enumerate(writes):
                slot = (task_id, WRITES_IDX_MAP.get(channel, index))
                latest.writes[slot] = (task_id, channel, copy.deepcopy(value))

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
        saved: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint_id,
            }
        }
        known = _latest.get()
        if known is not None:
            parent: RunnableConfig | None = None
            if parent_checkpoint_id:
                parent = {"configurable": {**saved["configurable"], "checkpoint_id": parent_checkpoint_id}}
            meta = cast(CheckpointMetadata, copy.deepcopy(stored_metadata))
            saved_tuple = CheckpointTuple(saved, copy.deepcopy(checkpoint), meta, parent, [])
            known[(thread_id, checkpoint_ns)] = Latest(saved_tuple)
        return saved
