"""Every DynamoDB key format of Wayfarer's own items, in one place.

A thread's checkpoints and their pending writes live in one partition, ``CHECKPOINT_<id>``
(``wayfarer.checkpoint_items`` says how), so one Query returns the latest checkpoint with its
writes:

| SK | item |
|---|---|
| ``<ns>#<checkpoint id>`` | a checkpoint: metadata, payload inline or in S3 |
| ``<ns>#<checkpoint id>#W#<task id>#<idx>`` | a task's pending write to that checkpoint |

Threads written before that layout also have langgraph-checkpoint-aws's ``WRITES_`` and
``CHUNK_`` partitions, still read and deleted. Everything else about a thread lives in one
partition, ``THREAD_<id>``, so a thread is deleted with one query:

| SK | item |
|---|---|
| ``THREAD`` | the thread record (created_at, metadata) and its run lease (holder, expiry, cancel) |
| ``RUN#<run_id>`` | a run: status, last seq, timestamps |
| ``EVT#<run_id>#<last seq>`` | a batch of that run's events, keyed by its last seq |

The lease is on the record's item so that a run's start takes the lease and marks the thread's
activity in one write; it also keeps the last run's outcome. (Before, the lease had an item of
its own, ``LEASE``, deleted with the thread.)
"""

from __future__ import annotations

from dataclasses import dataclass

THREAD_PK_PREFIX = "THREAD_"
THREAD_SK = "THREAD"
RUN_SK_PREFIX = "RUN#"
EVENTS_SK_PREFIX = "EVT#"
SEQ_DIGITS = 10  # zero-padded, so string order is seq order

Key = dict[str, dict[str, str]]


def thread_pk(thread_id: str) -> str:
    return f"{THREAD_PK_PREFIX}{thread_id}"


def item_key(thread_id: str, sk: str) -> Key:
    return {"PK": {"S": thread_pk(thread_id)}, "SK": {"S": sk}}


def thread_key(thread_id: str) -> Key:
    return item_key(thread_id, THREAD_SK)


def run_sk(run_id: str) -> str:
    return f"{RUN_SK_PREFIX}{run_id}"


def run_key(thread_id: str, run_id: str) -> Key:
    return item_key(thread_id, run_sk(run_id))


def events_sk(run_id: str, last_seq: int) -> str:
    return f"{EVENTS_SK_PREFIX}{run_id}#{last_seq:0{SEQ_DIGITS}d}"


def events_key(thread_id: str, run_id: str, last_seq: int) -> Key:
    return item_key(thread_id, events_sk(run_id, last_seq))


def seq_of(events_sk: str) -> int:
    """The last seq of the batch an events SK names."""
    return int(events_sk.rsplit("#", 1)[1])


def events_after(run_id: str, after: int) -> tuple[str, str]:
    """The SK range of the batches that hold events with seq > ``after``."""
    return events_sk(run_id, after + 1), events_sk(run_id, 10**SEQ_DIGITS - 1)


CHECKPOINT_PK_PREFIX = "CHECKPOINT_"
WRITE_MARK = "#W#"


def checkpoint_pk(thread_id: str) -> str:
    return f"{CHECKPOINT_PK_PREFIX}{thread_id}"


def checkpoints_sk_prefix(checkpoint_ns: str) -> str:
    """What every SK of the namespace's checkpoints and writes begins with."""
    return f"{checkpoint_ns}#"


def checkpoint_sk(checkpoint_ns: str, checkpoint_id: str) -> str:
    return f"{checkpoints_sk_prefix(checkpoint_ns)}{checkpoint_id}"


def write_sk(checkpoint_ns: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    """Right after its checkpoint's SK, so newest first a checkpoint's writes come just before it."""
    return f"{checkpoint_sk(checkpoint_ns, checkpoint_id)}{WRITE_MARK}{task_id}#{idx}"


def checkpoint_s3_key(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> str:
    """Where a checkpoint too large for its item is kept in the offload bucket."""
    return f"{thread_id}/checkpoints/{checkpoint_ns}/{checkpoint_id}"


def write_s3_key(thread_id: str, checkpoint_ns: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    return f"{checkpoint_s3_key(thread_id, checkpoint_ns, checkpoint_id)}/writes/{task_id}/{idx}"


OWNER_INDEX = "owner-updated"  # GSI on thread records: HASH owner, RANGE updated_at
LOCAL_OWNER = "local"  # every thread's owner when auth is off
OWNER_SEPARATOR = "~"  # never in a thread id, so a scoped id cannot be forged


@dataclass(frozen=True)
class ThreadRef:
    """A thread as its owner names it. ``key`` is the id it is stored under: scoped to its
    owner, so two users may each have a thread called ``test123`` without meeting. With auth
    off (the local owner) the key is the id itself."""

    owner: str
    thread_id: str

    @property
    def key(self) -> str:
        if self.owner == LOCAL_OWNER:
            return self.thread_id
        return f"{self.owner}{OWNER_SEPARATOR}{self.thread_id}"
