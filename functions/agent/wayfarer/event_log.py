"""The per-run event log in DynamoDB, so a run can be joined from any instance.

A run appends its events in small batches (one item per batch, keyed by the batch's last seq,
in one BatchWriteItem). The run's record goes with its first batch and its last (the only
times its status changes), not with each batch of tokens between: while a run goes, its
record's ``last_seq`` is read from its newest batch's key instead. A reader asks for the
events after the last seq it saw and gets whole batches back with one Query."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from wayfarer import json_text
from wayfarer.aws_errors import is_conditional_failure
from wayfarer.batches import batch_write, puts
from wayfarer.events import TERMINAL_EVENTS
from wayfarer.table_keys import RUN_SK_PREFIX, events_after, events_key, run_key, seq_of, thread_pk

logger = Logger(service="wayfarer", child=True)

RunStatus = Literal["running", "interrupted", "complete", "error", "cancelled"]
# Which contract a run speaks: the seed's events, or LangGraph Server's stream modes.
RunKind = Literal["seed", "langgraph"]
# Sent at once: the run's end, and for a run that must be listed from its start (a LangGraph
# run: clients list and get it right after creating it) its first event, which writes its
# record. The rest waits for the timer (at most ``interval``), so a HITL request's start, node
# and pause go to DynamoDB in one write; the live stream is not delayed. Until its record is
# written, a run is found through the lease it holds (``RunService._find_run``).
START_EVENT = "metadata"
# A batch item stays well under DynamoDB's 400 KB; bigger batches are split (a single event
# bigger than this stays alone, compressed).
MAX_BATCH_BYTES = 300_000
# A batch's JSON from this size on is stored compressed: DynamoDB bills a write unit per KB, and
# the events (tokens with the same few keys) shrink to a fraction.
COMPRESS_FROM_BYTES = 1024
# The writers' requests have threads of their own: a run's saver thread waits for its log's
# write (``EventLogWriter.write_now``), which must not wait for a thread of the pool that the
# savers fill.
WRITE_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="event-log")


def final_status(event: Mapping[str, Any]) -> RunStatus:
    """The run status a terminal event leaves behind."""
    if event["event"] == "end":  # a LangGraph run's end, which its stream does not send
        status: RunStatus = event["status"]
        return status
    if event["event"] == "complete":
        return "complete"
    if event["event"] == "error":
        return "error"
    return "cancelled" if event.get("reason") == "cancelled" else "interrupted"


@dataclass(frozen=True)
class RunRecord:
    thread_key: str  # the thread's storage key (scoped to its owner)
    run_id: str
    status: RunStatus
    created_at: str
    updated_at: str
    last_seq: int = 0
    error: str | None = None
    kind: RunKind = "seed"
    # A LangGraph run's fields: assistant_id, metadata, multitask_strategy, kwargs.
    info: dict[str, Any] | None = None

    def as_json(self, thread_id: str) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": thread_id,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_seq": self.last_seq,
            "error": self.error,
        }

    def after(self, events: list[dict[str, Any]], now: str) -> RunRecord:
        """This record once ``events`` are appended."""
        last = events[-1]
        status: RunStatus = final_status(last) if last["event"] in TERMINAL_EVENTS else "running"
        error = last.get("error") if last["event"] == "error" else None
        return replace(self, status=status, updated_at=now, last_seq=last["seq"], error=error)


class EventLog(Protocol):
    async def append(
        self,
        record: RunRecord,
        events: list[dict[str, Any]],
        with_record: bool = True,
        riders: Sequence[dict[str, Any]] = (),
        before_request: Callable[[], None] | None = None,
    ) -> None:
        """Store ``riders`` (items of the run's steps, ahead of the events that show them),
        ``events`` (in seq order) and, ``with_record`` and with events, ``record`` (the run as
        they leave it); ``before_request`` runs before each request and retry."""
        ...

    async def end_once(self, record: RunRecord, event: dict[str, Any]) -> bool:
        """End a run that went away with ``event``, its last: only if its record still says it
        runs (or it has none), so of two joiners racing one ends it; say if this one did."""
        ...

    async def read(self, thread_id: str, run_id: str, after: int) -> list[dict[str, Any]]:
        """The run's events with seq > ``after``, in order."""
        ...

    async def get_run(self, thread_id: str, run_id: str) -> RunRecord | None:
        """The run's record; a running one with the seq of its last stored event."""
        ...

    async def list_runs(self, thread_id: str, limit: int) -> list[RunRecord]:
        """The thread's newest runs first, as ``get_run`` has them."""
        ...


def contiguous(events: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    """The events that follow ``after`` without a gap, each once: an item still being written
    (a multi-item batch) must not let a reader skip past the events it holds."""
    by_seq = {e["seq"]: e for e in events if e["seq"] > after}
    run: list[dict[str, Any]] = []
    while after + 1 in by_seq:
        after += 1
        run.append(by_seq[after])
    return run


def _encode_events(encoded: list[bytes]) -> dict[str, Any]:
    """A batch's item attribute from its events' JSON (``json_text.dumps`` of each)."""
    text = b"[" + b",".join(encoded) + b"]"
    if len(text) >= COMPRESS_FROM_BYTES:
        packed = zlib.compress(text, 6)
        if len(packed) < len(text) or len(text) > MAX_BATCH_BYTES:
            return {"events_z": {"B": packed}}
    return {"events": {"S": text.decode()}}


def _decode_events(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "events_z" in item:
        events: list[dict[str, Any]] = json_text.loads(zlib.decompress(item["events_z"]["B"]))
        return events
    events = json_text.loads(item["events"]["S"])
    return events


@dataclass
class Batch:
    """Events that go in one item, and the JSON of each (written once, sized by it)."""

    events: list[dict[str, Any]]
    encoded: list[bytes]


def _batches(events: list[dict[str, Any]]) -> list[Batch]:
    """Split into batches whose JSON stays under MAX_BATCH_BYTES (a lone big event stays alone)."""
    batches: list[Batch] = []
    size = 0
    for event in events:
        encoded = json_text.dumps(event)
        if not batches or size + len(encoded) > MAX_BATCH_BYTES:
            batches.append(Batch([], []))
            size = 0
        batches[-1].events.append(event)
        batches[-1].encoded.append(encoded)
        size += len(encoded)
    return batches


class DynamoDBEventLog:
    def __init__(self, client: Any, table_name: str, ttl_seconds: int) -> None:
        self._client = client
        self._table = table_name
        self._ttl_seconds = ttl_seconds

    def _ttl(self) -> dict[str, str]:
        return {"N": str(int(time.time()) + self._ttl_seconds)}

    def _record_item(self, record: RunRecord) -> dict[str, Any]:
        item: dict[str, Any] = {
            **run_key(record.thread_key, record.run_id),
            "run_id": {"S": record.run_id},
            "status": {"S": record.status},
            "created_at": {"S": record.created_at},
            "updated_at": {"S": record.updated_at},
            "last_seq": {"N": str(record.last_seq)},
            "ttl": self._ttl(),
        }
        if record.error:
            item["error"] = {"S": record.error}
        if record.kind != "seed":
            item["kind"] = {"S": record.kind}
        if record.info:
            item["info"] = {"S": json.dumps(record.info, separators=(",", ":"), default=str)}
        return item

    def _events_item(self, record: RunRecord, batch: Batch) -> dict[str, Any]:
        return {
            **events_key(record.thread_key, record.run_id, batch.events[-1]["seq"]),
            "first_seq": {"N": str(batch.events[0]["seq"])},
            **_encode_events(batch.encoded),
            "ttl": self._ttl(),
        }

    async def append(
        self,
        record: RunRecord,
        events: list[dict[str, Any]],
        with_record: bool = True,
        riders: Sequence[dict[str, Any]] = (),
        before_request: Callable[[], None] | None = None,
    ) -> None:
        """The riders, the event items, then the record. Normally all in one request; more than
        25 items go over several requests, in that order, so a reader meets a step before the
        events that show it, and event items in order (and skips nothing: it reads only a
        contiguous run of seqs)."""
        items = [*riders, *(self._events_item(record, batch) for batch in _batches(events))]
        if events and with_record:
            items.append(self._record_item(record))
        write = functools.partial(
            batch_write,
            self._client,
            self._table,
            puts(items),
            before_request=before_request,
            what="event-log items",
        )
        await asyncio.get_running_loop().run_in_executor(WRITE_THREADS, write)

    async def end_once(self, record: RunRecord, event: dict[str, Any]) -> bool:
        """The record first, as the claim: a running run's last seq is read from its newest
        batch, so a joiner that read "running" just before another one ended the run would
        put a second end after the first. Until the event is stored, a reader sees the ended
        record ahead of the log and waits for it (or, if the event never comes, tells the end
        from the record: ``RunService._join_check``)."""
        try:
            await asyncio.to_thread(
                self._client.put_item,
                TableName=self._table,
                Item=self._record_item(record),
                ConditionExpression="attribute_not_exists(PK) OR #status = :running",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":running": {"S": "running"}},
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        await asyncio.to_thread(
            self._client.put_item, TableName=self._table, Item=self._events_item(record, _batches([event])[0])
        )
        return True

    def _batches_after(self, thread_id: str, run_id: str, after: int) -> dict[str, Any]:
        """A strongly consistent Query for the run's batches that hold events after ``after``."""
        low, high = events_after(run_id, after)
        return {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": run_key(thread_id, run_id)["PK"],
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ConsistentRead": True,
        }

    async def read(self, thread_id: str, run_id: str, after: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = await asyncio.to_thread(
                self._client.query,
                **self._batches_after(thread_id, run_id, after),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for item in page.get("Items", []):
                events += _decode_events(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return contiguous(events, after)

    async def get_run(self, thread_id: str, run_id: str) -> RunRecord | None:
        answer = await asyncio.to_thread(
            self._client.get_item, TableName=self._table, Key=run_key(thread_id, run_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return await self._as_stored(_run_record(thread_id, item)) if item else None

    async def _as_stored(self, record: RunRecord) -> RunRecord:
        """A running run's record is written with its first batch only: its last seq is that
        of its newest batch (the batch's key), one keys-only Query."""
        if record.status != "running":
            return record
        answer = await asyncio.to_thread(
            self._client.query,
            **self._batches_after(record.thread_key, record.run_id, record.last_seq),
            ProjectionExpression="SK",
            ScanIndexForward=False,
            Limit=1,
        )
        newest = answer.get("Items", [])
        return replace(record, last_seq=seq_of(newest[0]["SK"]["S"])) if newest else record

    async def list_runs(self, thread_id: str, limit: int) -> list[RunRecord]:
        """The thread's newest runs first (run ids are UUIDv7: ordered by creation)."""
        records: list[RunRecord] = []
        start: dict[str, Any] | None = None
        while len(records) < limit:
            page = await asyncio.to_thread(
                self._client.query,
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :run)",
                ExpressionAttributeValues={
                    ":pk": {"S": thread_pk(thread_id)},
                    ":run": {"S": RUN_SK_PREFIX},
                },
                ScanIndexForward=False,
                ConsistentRead=True,
                Limit=limit - len(records),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            records += await asyncio.gather(
                *(self._as_stored(_run_record(thread_id, i)) for i in page.get("Items", []))
            )
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return records


def _run_record(thread_key: str, item: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        thread_key=thread_key,
        run_id=item["run_id"]["S"],
        status=item["status"]["S"],
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        last_seq=int(item["last_seq"]["N"]),
        error=item["error"]["S"] if "error" in item else None,
        kind=item["kind"]["S"] if "kind" in item else "seed",
        info=json.loads(item["info"]["S"]) if "info" in item else None,
    )


@dataclass(frozen=True)
class Flushed:
    """How a flush went: the error of a write that failed, and whether riders are left."""

    error: Exception | None = None
    riders_left: bool = False
    riders_dropped: bool = False  # they may no longer be written (``RidersLost``)


class RidersLost(Exception):
    """The riders may no longer be written (their run lost its hold on the thread)."""


class Riders(Protocol):
    """Items the log's next write carries (a run's steps: checkpoints and their writes)."""

    def check(self) -> None:
        """Before each request that carries riders, and each retry of it: raise
        ``RidersLost`` once they may no longer be written."""
        ...

    async def take(self) -> list[dict[str, Any]]:
        """What is due now; ``RidersLost`` if that may no longer be written."""
        ...

    def lost_from(self) -> int | None:
        """Once riders were lost: the seq from which events must not be logged (those that
        show a step never stored), if any."""
        ...

    def give_back(self, items: list[dict[str, Any]]) -> None:
        """Items taken but not stored: due again, ahead of any due since."""
        ...


class EventLogWriter:
    """Buffers one run's events and appends them in batches: at once for the run's end (and
    its start, if ``urgent_start``) and when ``write_now`` asks; within ``interval`` seconds for
    the rest. Each write carries what ``riders`` has due. A batch, once formed, is appended
    whole or retried whole, in order, never regrouped: a joiner never meets an event twice, and
    never one after a gap. ``written`` is called after each write that stored something."""

    def __init__(
        self,
        log: EventLog,
        record: RunRecord,
        now: Any,
        interval: float = 0.25,
        urgent_start: bool = True,
        riders: Riders | None = None,
        written: Callable[[], None] | None = None,
    ) -> None:
        self._log = log
        self._riders = riders
        self._written = written
        self._writing = asyncio.Lock()  # one write at a time, in order
        self._urgent_events = TERMINAL_EVENTS | ({START_EVENT} if urgent_start else set())
        self.record = record
        self._now = now
        self._interval = interval
        self._buffer: list[dict[str, Any]] = []
        self._unsent: list[list[dict[str, Any]]] = []  # formed batches, oldest first
        self._recorded = False  # the run's record is stored (with the first batch)
        self._pending = asyncio.Event()
        self._urgent = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._flush_loop())

    def add(self, event: dict[str, Any]) -> None:
        self._buffer.append(event)
        self._pending.set()
        if event["event"] in self._urgent_events:
            self._urgent.set()

    async def write_now(self) -> None:
        """Store what is due now: the riders, with the events so far. Raise if the riders could
        not be stored (they are due again); events that could not be stay first in line."""
        flushed = await self._flush()
        if flushed.riders_dropped:
            raise RidersLost
        if flushed.riders_left:
            assert flushed.error is not None
            raise flushed.error

    async def _flush(self) -> Flushed:
        """Append every formed batch in order, the riders with the first. When that write fails,
        the riders go alone (an event the log refuses must not cost the run its step); the
        batch stays first in line, and riders that were not stored are due again."""
        async with self._writing:
            if self._buffer:
                self._unsent.append(self._buffer)
                self._buffer = []
            dropped = False
            try:
                riders = await self._riders.take() if self._riders is not None else []
            except RidersLost:
                riders, dropped = [], self._cut()
            while self._unsent or riders:
                batch = self._unsent[0] if self._unsent else []
                record = self.record.after(batch, self._now()) if batch else self.record
                # The record when it is new or its status changes (the end); not for tokens.
                with_record = not self._recorded or record.status != self.record.status
                check = self._riders.check if riders and self._riders is not None else None
                try:
                    await self._log.append(record, batch, with_record, riders, check)
                except RidersLost:
                    riders, dropped = [], self._cut()
                    continue
                except (ClientError, BotoCoreError, RuntimeError) as exc:
                    logger.exception("event log append failed; the batch is retried as it is")
                    if riders and batch:
                        riders, lost = await self._store_alone(riders)
                        dropped = dropped or lost
                    if riders and self._riders is not None:
                        self._riders.give_back(riders)
                    return Flushed(exc, bool(riders), dropped)
                riders = []
                if batch:
                    self._unsent.pop(0)
                    self.record = record
                    self._recorded = True
                if self._written is not None:
                    self._written()
            return Flushed(riders_dropped=dropped)

    async def _store_alone(self, riders: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        """Store ``riders`` without events: (what is left unstored, whether they were lost)."""
        try:
            await self._log.append(
                self.record, [], False, riders, self._riders.check if self._riders else None
            )
        except RidersLost:
            return [], self._cut()
        except (ClientError, BotoCoreError, RuntimeError):
            logger.exception("the run's step could not be stored either")
            return riders, False
        if self._written is not None:
            self._written()
        return [], False

    def _cut(self) -> bool:
        """The riders were lost: the events that show what they held are not logged."""
        logger.warning("the run may no longer write its steps: they are dropped")
        seq = self._riders.lost_from() if self._riders is not None else None
        if seq is not None:
            self.discard_from(seq)
        return True

    def discard_from(self, seq: int) -> None:
        """Forget the events not yet logged from ``seq`` on (never shown either)."""
        self._buffer = [e for e in self._buffer if e["seq"] < seq]
        kept = [[e for e in batch if e["seq"] < seq] for batch in self._unsent]
        self._unsent = [batch for batch in kept if batch]

    async def _flush_loop(self) -> None:
        while not self._closed:
            await self._pending.wait()
            if not self._urgent.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), self._interval)
            self._pending.clear()
            self._urgent.clear()
            await self._flush()

    async def close(self, attempts: int = 3) -> bool:
        """Stop the timer and append whatever is left (the terminal event), trying a few
        times; say whether the log now holds every event."""
        self._closed = True
        self._pending.set()
        self._urgent.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(0.2 * 2**attempt)
            if (await self._flush()).error is None:
                return True
        return False
