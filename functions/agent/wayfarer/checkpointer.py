"""The LangGraph checkpointer: ``DynamoDBSaver``'s serializer, S3 offload and async twins, with an
item layout of our own (``checkpoint_items``, keys in ``table_keys``).

langgraph-checkpoint-aws stores a checkpoint in three places (its item, its payload in a
``CHUNK_`` item, its writes in a ``WRITES_`` partition, each write's value in another chunk),
so reading the latest checkpoint takes a Query, a GetItem and a Query, and a step writes
two items per value. Here payloads are inline (S3 when too large for an item) and a
checkpoint's writes sit next to it in the thread's partition: one strongly consistent Query
reads the latest checkpoint with its writes, and a value is one item. Payloads from 1 KB are
gzipped when that saves a tenth (the parent's serializer, ``persistence.make_checkpointer``).
Threads saved in the earlier layout are still read, continued and deleted. Writes are sent as
BatchWriteItem requests (25 items each). Every write first checks the running run's lease fence
(``wayfarer.leases``): a run that lost its lease writes no further checkpoint. It must keep
passing the LangGraph conformance suite (tests/test_checkpointer_conformance.py).

Within a run (``run_scope``), which holds the thread's lease so no one else writes the thread:
- the thread's latest checkpoint is read once, and what this saver writes it also keeps as the
  latest (or that there is none yet). A HITL request reads the checkpoint to prepare the run,
  and the graph then starts from the same one; a run of several nodes starts each from the one
  it just wrote.
- a task's channel writes wait for the next checkpoint this saver writes (the one that ends
  their step) and go to DynamoDB in its BatchWriteItem, so a step costs one write request, not
  two. LangGraph saves a step's writes and its checkpoint from two threads at once: the
  checkpoint waits (up to a second) for writes still being prepared. Writes that no checkpoint
  follows (an interrupt, an error) are sent when the run ends. A process that dies mid-step
  loses the writes of that step's finished tasks, which LangGraph then runs again on resume;
  with one task per step (this graph) that is the step it was on.
- once the run's event log has a writer (``RunScope.sender``), a checkpoint goes in the log's
  request: the step and the events that show it (its node's end) are stored together. A run
  whose graph call ends after its first node (``RunScope.defer``: a HITL request) holds its
  checkpoints too, and the log's last write, with the run's end, carries them: one request.
  Until a node's results are stored (``RunScope.node_unsaved``) the run shows no event that
  follows its end.
Outside a run (the state routes, the conformance suite) every read goes to DynamoDB and every
write is sent at once, as the parent does.

One difference: the parent writes regular (non-error) channel writes with "only if absent";
BatchWriteItem has no conditions, so a repeated write of the same task, index and checkpoint
replaces the first. LangGraph writes a task's outputs once per checkpoint (a task whose
writes are saved is not run again on resume), so both give the same state.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Executor
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

from wayfarer.batches import batch_write, deletes, one_per_key, puts
from wayfarer.checkpoint_items import (
    LAYOUT,
    Payload,
    belongs_to,
    checkpoint_item,
    is_node_write,
    is_ours,
    is_write,
    of_a_node,
    stored_payload,
    write_item,
    write_order,
)
from wayfarer.leases import check_fence
from wayfarer.table_keys import (
    WRITE_MARK,
    checkpoint_pk,
    checkpoint_s3_key,
    checkpoint_sk,
    checkpoints_sk_prefix,
    write_s3_key,
)

# Items read per request for the latest checkpoint: newest first, its writes and then it. A
# paused thread's latest checkpoint has none or one or two (an interrupt's); each item past it
# is an older checkpoint read (and billed) for nothing, and more writes take another page.
LATEST_PAGE = 3
LAST_CHAR = "\U0010ffff"  # sorts after any character a key holds: the end of a key range
LIST_PAGE = 50
# How long a checkpoint waits for its step's channel writes still being prepared beside it.
WRITES_WAIT_SECONDS = 1.0


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
    # Channel writes being prepared (serialized, compressed) to be held: a checkpoint waits for
    # them, so its step's writes go in its request instead of one of their own at the run's end.
    # ``nodes_preparing`` of them are a node's results (not the run's input).
    preparing: int = 0
    nodes_preparing: int = 0
    prepared: threading.Condition = field(init=False)
    # Sends what is held, with the run's events, in one request; returns once it is stored and
    # raises if it is not. Set by the run once its event log's writer exists (called from the
    # saver's thread); until then the saver sends itself.
    sender: Callable[[], None] | None = None
    # Checkpoints are held too, for the run's end, whose log write carries them: for a run whose
    # graph call ends after its first node.
    defer: bool = False

    def __post_init__(self) -> None:
        self.prepared = threading.Condition(self.lock)

    @property
    def unsaved(self) -> bool:
        """Whether anything the run wrote is not stored yet: being prepared, or held."""
        with self.lock:
            return self.preparing > 0 or bool(self.held)

    @property
    def node_unsaved(self) -> bool:
        """Whether a node's results are not stored yet: being prepared, or held."""
        with self.lock:
            return self.nodes_preparing > 0 or any(map(is_node_write, self.held))

    def start_preparing(self, node: bool = False) -> None:
        with self.lock:
            self.preparing += 1
            self.nodes_preparing += node

    def done_preparing(self, node: bool = False) -> None:
        with self.lock:
            self.preparing -= 1
            self.nodes_preparing -= node
            self.prepared.notify_all()

    @contextmanager
    def preparing_writes(self, node: bool = False) -> Iterator[None]:
        self.start_preparing(node)
        try:
            yield
        finally:
            self.done_preparing(node)

    def wait_for_writes(self, timeout: float = WRITES_WAIT_SECONDS) -> None:
        """Until no channel write is being prepared (at most ``timeout``: a write that takes
        longer goes at the run's end, as it would have without the wait)."""
        with self.lock:
            self.prepared.wait_for(lambda: self.preparing == 0, timeout)

    def hold(self, items: Sequence[dict[str, Any]], holder: BatchingDynamoDBSaver) -> None:
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


def current_scope() -> RunScope | None:
    """The run scope this context is in, if any."""
    return _scope.get()


@contextmanager
def run_scope() -> Iterator[RunScope]:
    """Within the block, and in the tasks started in it (which share the scope): read each
    thread's latest checkpoint once, and hold channel writes until their step's checkpoint.
    Only for a lease holder. What is still held when the run ends goes with its log's last
    write (``wayfarer.run_steps``), or, for a run without one, ``write_held``."""
    scope = RunScope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


async def take_held(scope: RunScope, executor: Executor | None = None) -> list[dict[str, Any]]:
    """What ``scope`` holds, once the writes still being prepared are held too (a write not
    held yet: its node ended as the run was stopped); the wait in a thread of ``executor``."""
    if scope.preparing:
        await asyncio.get_running_loop().run_in_executor(executor, scope.wait_for_writes)
    return scope.take()


async def write_held() -> None:
    """Send what this run still holds (writes no checkpoint followed: an interrupt, an error;
    held checkpoints), once the writes still being prepared are held too. Fenced like every
    write; a no-op outside a run or with nothing held. (A run whose log has a writer lets the
    log's last write carry them instead.)"""
    scope = _scope.get()
    if scope is None:
        return
    if scope.preparing:
        await run_in_executor(None, scope.wait_for_writes)
    if scope.held and scope.holder is not None:
        await run_in_executor(None, scope.holder.send_held, scope)


def _of_thread(item: dict[str, Any], thread_id: str) -> bool:
    return bool(item["PK"]["S"] == checkpoint_pk(thread_id))


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
        found = self._read(*key, wanted)
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

    def _read(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None) -> CheckpointTuple | None:
        """One checkpoint (the latest when no id) with its writes: one Query, newest first,
        that stops at the first checkpoint item; its writes are the items just before it."""
        if checkpoint_id is None:
            condition, values = "begins_with(SK, :sk)", {":sk": {"S": checkpoints_sk_prefix(checkpoint_ns)}}
        else:  # the checkpoint's item and its writes' (an id that begins another id is not it)
            sk = checkpoint_sk(checkpoint_ns, checkpoint_id)
            condition = "SK BETWEEN :sk AND :writes_end"
            values = {":sk": {"S": sk}, ":writes_end": {"S": f"{sk}{WRITE_MARK}{LAST_CHAR}"}}
        items = self._query(thread_id, condition, values, LATEST_PAGE)
        return next(self._tuples(thread_id, items), None)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        thread_id = config.get("configurable", {}).get("thread_id") if config else None
        if config is None or thread_id is None:
            raise ValueError("Runnable config must contain thread_id")
        checkpoint_ns: str | None = config["configurable"].get("checkpoint_ns")
        before_id = get_checkpoint_id(before) if before else None
        condition, values = None, {}
        if checkpoint_ns is not None:
            low = checkpoints_sk_prefix(checkpoint_ns)
            high = checkpoint_sk(checkpoint_ns, before_id) if before_id else low + LAST_CHAR
            condition, values = "SK BETWEEN :low AND :high", {":low": {"S": low}, ":high": {"S": high}}
        found = 0
        for saved in self._tuples(thread_id, self._query(thread_id, condition, values, LIST_PAGE)):
            if before_id is not None and saved.config["configurable"]["checkpoint_id"] >= before_id:
                continue
            if filter and any(saved.metadata.get(k) != v for k, v in filter.items()):
                continue
            yield saved
            found += 1
            if limit is not None and found >= limit:
                return

    def _query(
        self,
        thread_id: str,
        sk_condition: str | None,
        values: dict[str, Any],
        page: int | None,
        fields: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """The thread's checkpoint items (only ``fields`` of each, if named), newest first, a
        page at a time as they are wanted. Strongly consistent: the checkpoint may have been
        written by another instance."""
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk" + (f" AND {sk_condition}" if sk_condition else ""),
            "ExpressionAttributeValues": {":pk": {"S": checkpoint_pk(thread_id)}, **values},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if page is not None:
            params["Limit"] = page
        if fields:
            params["ProjectionExpression"] = ", ".join(f"#f{n}" for n in range(len(fields)))
            params["ExpressionAttributeNames"] = {f"#f{n}": name for n, name in enumerate(fields)}
        while True:
            answer = self.client.query(**params)
            yield from answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _tuples(self, thread_id: str, items: Iterator[dict[str, Any]]) -> Iterator[CheckpointTuple]:
        """Checkpoint tuples from items read newest first. A checkpoint's writes come just
        before it; writes whose checkpoint was never saved are skipped, as is a checkpoint
        whose offloaded payload is gone."""
        writes: list[dict[str, Any]] = []
        for item in items:
            if is_write(item):
                writes.append(item)
                continue
            ours = [write for write in writes if belongs_to(write, item)]
            writes = []
            saved = self._tuple(thread_id, item, ours)
            if saved is not None:
                yield saved

    def _value(self, payload: Payload) -> tuple[bool, Any]:
        """(found, value): an offloaded payload may be gone."""
        data = payload.data
        if data is None and payload.s3_key is not None:
            data = self.storage.retrieve_data(payload.s3_key, "S3")
        if data is None:
            return False, None
        return True, self.serializer.deserialize(payload.type, data, payload.compression)

    def _tuple(
        self, thread_id: str, item: dict[str, Any], writes: Sequence[dict[str, Any]]
    ) -> CheckpointTuple | None:
        """The checkpoint of ``item`` with ``writes``, the write items stored beside it. One that
        langgraph-checkpoint-aws wrote keeps its payload and the writes made then apart."""
        pending: list[tuple[str, str, Any]] = []
        if is_ours(item):
            found, value = self._value(stored_payload(item))
        else:
            data = self.storage.retrieve_data(item["ref_key"]["S"], item["ref_loc"]["S"])
            found = data is not None
            if found:
                value = self.serializer.deserialize(item["type"]["S"], data, stored_payload(item).compression)
                pending += self.repo.get_pending_writes(thread_id, item["ns"]["S"], item["id"]["S"])
        if not found:
            return None
        ours: list[tuple[str, str, Any]] = []
        for write in sorted(writes, key=write_order):
            found, written = self._value(stored_payload(write))
            if found:
                ours.append((write["task_id"]["S"], write["channel"]["S"], written))
        # A special write (interrupt, resume, error) of a task replaces the one stored before.
        replaced = {(task_id, channel) for task_id, channel, _ in ours if channel in WRITES_IDX_MAP}
        pending = [write for write in pending if (write[0], write[1]) not in replaced] + ours
        return self._checkpoint_tuple(thread_id, item, value, pending)

    @staticmethod
    def _checkpoint_tuple(
        thread_id: str, item: dict[str, Any], value: dict[str, Any], pending: Sequence[tuple[str, str, Any]]
    ) -> CheckpointTuple:
        conf = {"thread_id": thread_id, "checkpoint_ns": item["ns"]["S"]}
        config: RunnableConfig = {"configurable": {**conf, "checkpoint_id": item["id"]["S"]}}
        parent: RunnableConfig | None = None
        if "parent_checkpoint_id" in item:
            parent = {"configurable": {**conf, "checkpoint_id": item["parent_checkpoint_id"]["S"]}}
        return CheckpointTuple(config, value["checkpoint"], value["metadata"], parent, [*pending])

    def delete_thread(self, thread_id: str) -> None:
        scope = _scope.get()
        if scope is not None:
            for key in [k for k in scope.latest if k[0] == thread_id]:
                del scope.latest[key]
            scope.drop_thread(thread_id)
        # Keys and references only: the payloads may be hundreds of KB each.
        items = list(self._query(thread_id, None, {}, None, ("PK", "SK", "ns", "id", "s3_key", LAYOUT)))
        legacy = [(item["ns"]["S"], item["id"]["S"]) for item in items if not is_ours(item)]
        if legacy:  # their writes and payloads live in partitions of their own
            self.repo.delete_thread_writes(thread_id, legacy)
            self.repo.delete_thread_checkpoints(thread_id, legacy)
        # The items before the S3 objects they name: a reader never meets an item whose payload
        # is gone (it would skip that checkpoint and take an older one for the latest).
        keys = [{"PK": item["PK"], "SK": item["SK"]} for item in items if is_ours(item)]
        batch_write(self.client, self.table_name, deletes(keys), what="checkpoint items")
        offloaded = [(item["s3_key"]["S"], "S3") for item in items if "s3_key" in item]
        if offloaded:
            self.storage.batch_delete_data(offloaded)

    def send_held(self, scope: RunScope) -> None:
        """What the run holds, in one batch, once the writes being prepared are held too. What
        fails to send is held again, for the run's end."""
        scope.wait_for_writes()
        held = scope.take()
        try:
            self._batch_put(held)
        except BaseException:
            scope.give_back(held)
            raise

    def _ttl(self) -> dict[str, str] | None:
        ttl_seconds = self.repo.ttl_seconds
        return {"N": str(int(time.time() + ttl_seconds))} if ttl_seconds else None

    def _payload(self, value: Any, s3_key: str) -> Payload:
        """``value`` serialized, inline; or stored in S3 now when it is too large for an item."""
        payload_type, data, compression = self.serializer.serialize(value)
        if self.storage.should_offload_to_s3(data):
            check_fence()
            self.storage.store_data(s3_key, s3_key, data, allow_overwrite=True)
            return Payload(payload_type, compression, s3_key=s3_key)
        return Payload(payload_type, compression, data=data)

    def _batch_put(self, items: Sequence[dict[str, Any]]) -> None:
        # The fence before every request: a retry must not outlive the lease.
        batch_write(
            self.client,
            self.table_name,
            puts(one_per_key(items)),
            before_request=check_fence,
            what="checkpoint items",
        )

    def _write_items(
        self, where: tuple[str, str, str], writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> Sequence[dict[str, Any]]:
        """The items of ``writes`` to checkpoint ``where`` (thread, namespace, checkpoint id)."""
        ttl = self._ttl()
        items: list[dict[str, Any]] = []
        for index, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, index)
            payload = self._payload(value, write_s3_key(*where, task_id, idx))
            items.append(write_item(*where, task_id, task_path, idx, channel, payload, ttl))
        return items

    def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> Coroutine[Any, Any, None]:
        """As the parent (``put_writes`` in an executor thread), but counted as being prepared
        from the moment it is asked, before its coroutine runs: LangGraph asks, then streams
        the task's output, so the run sees the step unsaved before it shows the node's end, and
        a checkpoint saved meanwhile waits for the write even if its own thread starts first."""
        scope = _scope.get()
        if scope is not None:
            scope.start_preparing(of_a_node(task_id, task_path))
        return self._aput_writes(scope, config, writes, task_id, task_path)

    async def _aput_writes(
        self,
        scope: RunScope | None,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> None:
        try:
            await run_in_executor(None, self.put_writes, config, writes, task_id, task_path)
        finally:
            if scope is not None:
                scope.done_preparing(of_a_node(task_id, task_path))

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
        where = (conf["thread_id"], conf.get("checkpoint_ns", ""), conf["checkpoint_id"])
        thread_id, checkpoint_ns, checkpoint_id = where
        scope = _scope.get()
        if scope is None:
            self._batch_put(self._write_items(where, writes, task_id, task_path))
            return
        with scope.preparing_writes(of_a_node(task_id, task_path)):
            # Held: sent with the step's checkpoint, or when the run ends.
            scope.hold(self._write_items(where, writes, task_id, task_path), self)
            latest = scope.latest.get((thread_id, checkpoint_ns))
            if latest is not None and latest.checkpoint_id == checkpoint_id:
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
        payload = self._payload(
            {"checkpoint": checkpoint, "metadata": stored_metadata},
            checkpoint_s3_key(thread_id, checkpoint_ns, checkpoint_id),
        )
        item = checkpoint_item(
            thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, payload, self._ttl()
        )
        scope = _scope.get()
        if scope is None:
            self._batch_put([item])
        else:
            scope.wait_for_writes()  # the step's channel writes go first, in the same request
            scope.hold([item], self)
            if scope.defer:
                pass  # the run's end carries it
            elif scope.sender is not None:
                scope.sender()
            else:
                self.send_held(scope)
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
