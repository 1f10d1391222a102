"""``DynamoDBSaver`` with batched writes.

As shipped, the saver sends one PutItem per item: a node step that writes five channels costs
ten PutItems (a metadata item and a payload chunk each) plus two for the checkpoint. This
subclass builds the very same items and sends them as BatchWriteItem requests (25 items each),
so a step costs two write requests. Reads, deletes, S3 offload and the key formats are the
parent's. Every write first checks the running run's lease fence (``wayfarer.leases``): a run
that lost its lease writes no further checkpoint. It must keep passing the LangGraph
conformance suite (tests/test_checkpointer_conformance.py).

Within a run (``run_scope``), which holds the thread's lease so no one else writes the thread:
- the thread's latest checkpoint is read once, and what this saver writes it also keeps as the
  latest (or that there is none yet). A HITL request reads the checkpoint to prepare the run,
  and the graph then starts from the same one; a run of several nodes starts each from the one
  it just wrote.
- a task's channel writes wait for the next checkpoint this saver writes (the one that ends
  their step, or the one after when LangGraph saves the writes while that checkpoint is on its
  way: it saves both from two threads at once) and go to DynamoDB in its BatchWriteItem, so a
  step costs one write request, not two. Writes that no checkpoint follows (an interrupt, an
  error) are sent when the run ends (``write_held``). A process that dies mid-step loses the
  writes of that step's finished tasks, which LangGraph then runs again on resume; with one
  task per step (this graph) that is the step it was on.
Outside a run (the state routes, the conformance suite) every read goes to DynamoDB and every
write is sent at once, as the parent does.

One difference: the parent writes regular (non-error) channel writes with "only if absent";
BatchWriteItem has no conditions, so a repeated write of the same task, index and checkpoint
replaces the first. LangGraph writes a task's outputs once per checkpoint (a task whose
writes are saved is not run again on resume), so both give the same state.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.runnables import RunnableConfig, run_in_executor
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


@dataclass
class RunScope:
    """What a lease holder's run keeps between its saver calls."""

    # (thread key, namespace) -> its latest checkpoint, or None: the thread has none yet.
    latest: dict[tuple[str, str], Latest | None] = field(default_factory=dict)
    # Channel writes waiting for their step's checkpoint, and the saver that holds them. LangGraph
    # saves a step's writes and the next checkpoint from two executor threads at once: every
    # change to ``held`` goes through the methods below, under the lock.
    held: list[dict[str, Any]] = field(default_factory=list)
    holder: BatchingDynamoDBSaver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, items: list[dict[str, Any]], holder: BatchingDynamoDBSaver) -> None:
        with self.lock:
            self.held += items
            self.holder = holder

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            held, self.held = self.held, []
            return held

    def give_back(self, items: list[dict[str, Any]]) -> None:
        """Items taken but not written: held again, ahead of any held since."""
        with self.lock:
            self.held = items + self.held

    def drop_thread(self, thread_id: str) -> None:
        with self.lock:
            self.held = [item for item in self.held if not _of_thread(item, thread_id)]


_scope: ContextVar[RunScope | None] = ContextVar("run_scope", default=None)


@contextmanager
def run_scope() -> Iterator[RunScope]:
    """Within the block, and in the tasks started in it (which share the scope): read each
    thread's latest checkpoint once, and hold channel writes until their step's checkpoint.
    Only for a lease holder; whoever drives the run calls ``write_held`` when it ends."""
    scope = RunScope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


async def write_held() -> None:
    """Send the writes this run still holds (those no checkpoint followed: an interrupt, an
    error). Fenced like every write; a no-op outside a run or with nothing held."""
    scope = _scope.get()
    if scope is not None and scope.held and scope.holder is not None:
        await run_in_executor(None, scope.holder.send_held, scope)


def _of_thread(item: dict[str, Any], thread_id: str) -> bool:
    key: str = item["PK"]["S"]
    return key.startswith((f"WRITES_{thread_id}#", f"CHUNK_{thread_id}#"))


class BatchingDynamoDBSaver(DynamoDBSaver):  # type: ignore[misc]  # the parent ships no types
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        scope = _scope.get()
        known = scope.latest if scope is not None else None
        conf = config["configurable"]
        key = (conf["thread_id"], conf.get("checkpoint_ns", ""))
        wanted = get_checkpoint_id(config)
        if known is not None and key in known:
            latest = known[key]
            if latest is None:
                if wanted is None:
                    return None  # a new thread: nothing to read until this run writes
            elif wanted is None or wanted == latest.checkpoint_id:
                return latest.as_tuple()
        found: CheckpointTuple | None = super().get_tuple(config)
        if known is not None and wanted is None:
            if found is None:
                known[key] = None
                return None
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
        scope = _scope.get()
        if scope is not None:
            for key in [k for k in scope.latest if k[0] == thread_id]:
                del scope.latest[key]
            scope.drop_thread(thread_id)
        super().delete_thread(thread_id)

    def send_held(self, scope: RunScope) -> None:
        held = scope.take()
        try:
            self._batch_put(held)
        except BaseException:
            scope.give_back(held)  # still held: a later call may send them
            raise

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
        scope = _scope.get()
        if scope is None:
            self._batch_put(payloads + bases)
            return
        scope.hold(payloads + bases, self)  # sent with the step's checkpoint, or when the run ends
        latest = scope.latest.get((conf["thread_id"], conf.get("checkpoint_ns", "")))
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
        # The step's held channel writes go first, in the same request when they fit.
        scope = _scope.get()
        held = scope.take() if scope is not None else []
        try:
            self._batch_put([*held, *self._payload_items(chunk_key, s3_key, payload, ref_loc), base_item])
        except BaseException:
            if scope is not None:  # the step's result is kept for the run's end (write_held)
                scope.give_back(held)
            raise
        saved: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint_id,
            }
        }
        if scope is not None:
            parent: RunnableConfig | None = None
            if parent_checkpoint_id:
                parent = {"configurable": {**saved["configurable"], "checkpoint_id": parent_checkpoint_id}}
            meta = cast(CheckpointMetadata, copy.deepcopy(stored_metadata))
            saved_tuple = CheckpointTuple(saved, copy.deepcopy(checkpoint), meta, parent, [])
            scope.latest[(thread_id, checkpoint_ns)] = Latest(saved_tuple)
        return saved
