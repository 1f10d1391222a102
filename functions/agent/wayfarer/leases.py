"""The durable run lease: on the thread's record item in DynamoDB, so every instance sees who
runs it.

A holder (a run, or an edit or delete) takes the thread with a conditional write that succeeds
only when nobody holds it or the holder's lease expired. A run renews the lease while it goes,
conditioned on still holding it, and gives it back with a conditional update. A process that
dies (kill -9, a Lambda timeout that skips ``finally``) blocks the thread for at most one lease
period.

The same item keeps the thread's last run and how it ended (``last_run_id``, ``last_status``,
``last_error``), so the thread's status (busy, a failed or vanished run) is one read. That is
why a release clears the holder instead of deleting the item. A run's take also marks the
thread's activity (the record's ``updated_at``, which orders its owner's list): one write where
a record update of its own took another. The record's other fields are ``ThreadRecords``'; an
item with only lease fields is no record (a run refused on a thread that does not exist).

A run that cannot renew in time must stop writing: ``LeaseFence`` (a context variable the
checkpointer consults before every write) turns false when the holder's own clock says the
lease may have expired, before anyone else can take it."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from wayfarer.aws_errors import is_conditional_failure
from wayfarer.batches import batch_get
from wayfarer.table_keys import thread_key

HolderKind = Literal["run", "edit", "delete"]
# A run stops starting writes a sixth of its lease before the lease could lapse on the store's
# side (5 s of 30). A write that passed the fence lands or fails within the DynamoDB client's
# connect + read timeout (persistence.BOTO_CONFIG: 2 + 3 s), so inside that margin; clocks
# of instances may differ by less than what is left. Renewals come every third of the lease,
# so two may fail before the fence closes.
FENCE_SAFETY_FRACTION = 1 / 6
# The lease's writes (take, renew, give back, a cancel's flag) have threads of their own: a
# renewal must not wait for a thread behind reads that a slow store holds (runs' checks for a
# cancel, the saver's work in the default pool). As many as runs a process drives at once by
# default (Settings.max_runs), each with at most one renewal in flight.
WRITE_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="lease")
# What a lease read needs of the thread's item (not the record's title and metadata).
LEASE_FIELDS = "holder, expires_at, cancel_run_id, last_run_id, last_status, last_error"


@dataclass(frozen=True)
class LastRun:
    """The thread's most recent run and how it ended ("running" while it holds the lease)."""

    run_id: str | None = None
    status: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RecordFields:
    """What a run's take also sets on the thread's item, only where absent: the thread's
    record, for a run that creates its thread (``persistence.ThreadRecords.new_record``)."""

    sets: tuple[str, ...]
    names: dict[str, str]
    values: dict[str, Any]


@dataclass(frozen=True)
class Lease:
    thread_id: str
    holder: str
    expires_at: float  # epoch seconds
    # What a run's acquire replaced, to restore when the run is refused before it begins.
    previous: LastRun = LastRun()
    previous_activity: str | None = None
    had_record: bool = False  # the item held the thread's record (not only a lease) before
    made_record: bool = False  # the take created the thread's record (``RecordFields``)


@dataclass(frozen=True)
class LeaseState:
    """What the thread's lease item says: the live holder, and the last run's outcome."""

    holder: str | None = None  # only while the lease is live
    holder_kind: HolderKind | None = None
    expires_at: float | None = None
    last: LastRun = LastRun()

    @property
    def last_run_id(self) -> str | None:
        return self.last.run_id

    @property
    def last_status(self) -> str | None:
        return self.last.status

    @property
    def last_error(self) -> str | None:
        return self.last.error

    @property
    def busy(self) -> bool:
        return self.holder is not None

    @property
    def running_run_id(self) -> str | None:
        return self.holder if self.holder_kind == "run" else None

    @property
    def last_run_vanished(self) -> bool:
        """The last run never gave the lease back (its instance died) and the lease expired."""
        return self.last_status == "running" and self.running_run_id != self.last_run_id


class LeaseTaken(Exception):
    def __init__(self, state: LeaseState) -> None:
        super().__init__(f"held by {state.holder}")
        self.state = state

    @property
    def retry_after(self) -> int:
        """Whole seconds until the lease would lapse if its holder stopped renewing it."""
        expires_at = self.state.expires_at or time.time()
        return max(1, int(expires_at - time.time() + 0.999))


class LeaseLost(Exception):
    """The holder no longer holds the lease (it expired and was taken, or was never renewed)."""


class RunLeases(Protocol):
    lease_seconds: float

    async def acquire(
        self, thread_id: str, holder: str, kind: HolderKind, record: RecordFields | None = None
    ) -> Lease:
        """Take the thread, creating its ``record`` if it has none; raise ``LeaseTaken`` when
        another holder has it."""
        ...

    async def renew(self, lease: Lease) -> tuple[Lease, bool]:
        """Extend the lease; answer it and whether a cancel was asked. ``LeaseLost`` if gone."""
        ...

    async def check(self, lease: Lease) -> bool:
        """Read-only: is a cancel asked? ``LeaseLost`` if the lease is no longer held."""
        ...

    async def release(self, lease: Lease, last: LastRun | None = None) -> None:
        """Give the thread back; ``last``: record it as the thread's last run (None: keep)."""
        ...

    async def withdraw(self, lease: Lease) -> None:
        """Give back a run's lease before its run began (it was refused): the thread's last run
        and its activity time are again what they were."""
        ...

    async def read(self, thread_id: str) -> LeaseState: ...

    async def read_many(self, thread_ids: list[str]) -> list[LeaseState]:
        """The leases of ``thread_ids``, in their order, in as few requests as DynamoDB allows."""
        ...

    def state_of(self, item: dict[str, Any] | None) -> LeaseState:
        """What the thread's item, read whole (a record read), says of its lease."""
        ...

    async def delete(self, lease: Lease) -> None:
        """Remove the lease item with the thread, only while ``lease`` still holds it
        (``LeaseLost`` otherwise)."""
        ...

    async def request_cancel(self, thread_id: str, run_id: str) -> bool:
        """Flag the run to stop; False when that run does not hold the thread."""
        ...


def _kind(holder: str) -> HolderKind:
    prefix = holder.split("-", 1)[0]
    return prefix if prefix in ("edit", "delete") else "run"  # type: ignore[return-value]


class DynamoDBRunLeases:
    def __init__(self, client: Any, table_name: str, lease_seconds: float, ttl_seconds: int) -> None:
        self._client = client
        self._table = table_name
        self.lease_seconds = lease_seconds
        self._ttl_seconds = ttl_seconds

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        call = functools.partial(getattr(self._client, operation), TableName=self._table, **kwargs)
        executor = WRITE_THREADS if operation == "update_item" else None  # None: the default pool
        context = contextvars.copy_context()  # as asyncio.to_thread does
        answer: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(
            executor, functools.partial(context.run, call)
        )
        return answer

    def _state(self, item: dict[str, Any] | None, now: float) -> LeaseState:
        if not item:
            return LeaseState()

        def text(name: str) -> str | None:
            return item[name]["S"] if name in item else None

        holder = text("holder")
        expires_at = float(item["expires_at"]["N"]) if "expires_at" in item else None
        live = holder is not None and expires_at is not None and expires_at > now
        return LeaseState(
            holder=holder if live else None,
            holder_kind=_kind(holder) if live and holder else None,
            expires_at=expires_at if live else None,
            last=LastRun(text("last_run_id"), text("last_status"), text("last_error")),
        )

    async def acquire(
        self, thread_id: str, holder: str, kind: HolderKind, record: RecordFields | None = None
    ) -> Lease:
        now = time.time()
        expires_at = now + self.lease_seconds
        sets = ["holder = :holder", "expires_at = :expires", "#ttl = :ttl"]
        removes = ["cancel_run_id"]
        values: dict[str, Any] = {
            ":holder": {"S": holder},
            ":expires": {"N": repr(expires_at)},
            ":now": {"N": repr(now)},
            ":ttl": {"N": str(int(now) + self._ttl_seconds)},
        }
        if kind == "run":
            sets += ["last_run_id = :holder", "last_status = :running", "updated_at = :activity"]
            removes.append("last_error")
            values[":running"] = {"S": "running"}
            values[":activity"] = {"S": datetime.fromtimestamp(now, UTC).isoformat()}
        names = {"#ttl": "ttl"}
        if record is not None:
            sets += record.sets
            names |= record.names
            values |= record.values
        try:
            answer = await self._call(
                "update_item",
                Key=thread_key(thread_id),
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression="attribute_not_exists(holder) OR expires_at < :now",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            state = await self.read(thread_id)
            if not state.busy:  # it lapsed between our write and our read: try once more
                return await self.acquire(thread_id, holder, kind, record)
            raise LeaseTaken(state) from exc
        old = answer.get("Attributes") or {}
        had_record = "created_at" in old
        previous_activity = old["updated_at"]["S"] if had_record and "updated_at" in old else None
        made_record = record is not None and not had_record
        last = self._state(old, now).last
        return Lease(thread_id, holder, expires_at, last, previous_activity, had_record, made_record)

    async def renew(self, lease: Lease) -> tuple[Lease, bool]:
        expires_at = time.time() + self.lease_seconds
        try:
            answer = await self._call(
                "update_item",
                Key=thread_key(lease.thread_id),
                UpdateExpression="SET expires_at = :expires",
                # A lease that lapsed is lost, even if nobody took it yet: once it lapsed,
                # readers saw the thread free (and may have ended the run's log).
                ConditionExpression="holder = :holder AND expires_at > :now",
                ExpressionAttributeValues={
                    ":holder": {"S": lease.holder},
                    ":expires": {"N": repr(expires_at)},
                    ":now": {"N": repr(time.time())},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise LeaseLost(lease.holder) from exc
            raise
        cancel = answer.get("Attributes", {}).get("cancel_run_id", {}).get("S") == lease.holder
        return Lease(lease.thread_id, lease.holder, expires_at), cancel

    async def check(self, lease: Lease) -> bool:
        # Expired as of the asking: the read came later, and a renewal may have landed since.
        asked = time.time()
        answer = await self._read_item(lease.thread_id)
        item = answer.get("Item") or {}
        expires_at = float(item.get("expires_at", {}).get("N", "0"))
        if item.get("holder", {}).get("S") != lease.holder or expires_at <= asked:
            raise LeaseLost(lease.holder)
        return bool(item.get("cancel_run_id", {}).get("S") == lease.holder)

    async def release(self, lease: Lease, last: LastRun | None = None) -> None:
        await self._give_back(lease, last)

    async def withdraw(self, lease: Lease) -> None:
        if not lease.had_record:
            # The take made the item (and the record with it, if it was asked to): remove it,
            # unless the refused run's driver created the thread's record on it meanwhile
            # (then its time is right, and it is given back).
            condition = "holder = :holder"
            if not lease.made_record:
                condition += " AND attribute_not_exists(created_at)"
            try:
                await self._call(
                    "delete_item",
                    Key=thread_key(lease.thread_id),
                    ConditionExpression=condition,
                    ExpressionAttributeValues={":holder": {"S": lease.holder}},
                )
                return
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
        activity = {"updated_at": lease.previous_activity} if lease.previous_activity else None
        await self._give_back(lease, lease.previous, activity)

    async def _give_back(
        self, lease: Lease, last: LastRun | None, restore: Mapping[str, str | None] | None = None
    ) -> None:
        sets: list[str] = []
        values: dict[str, Any] = {":holder": {"S": lease.holder}}
        removes = ["holder", "expires_at", "cancel_run_id"]
        fields: dict[str, str | None] = dict(restore or {})
        if last is not None:
            fields |= {"last_run_id": last.run_id, "last_status": last.status, "last_error": last.error}
        for name, value in fields.items():
            if value:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": value}
            else:
                removes.append(name)
        expression = (f"SET {', '.join(sets)} " if sets else "") + f"REMOVE {', '.join(removes)}"
        try:
            await self._call(
                "update_item",
                Key=thread_key(lease.thread_id),
                UpdateExpression=expression,
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):  # lost it already: nothing to give back
                raise

    async def delete(self, lease: Lease) -> None:
        try:
            await self._call(
                "delete_item",
                Key=thread_key(lease.thread_id),
                ConditionExpression="holder = :holder AND expires_at > :now",
                ExpressionAttributeValues={":holder": {"S": lease.holder}, ":now": {"N": repr(time.time())}},
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise LeaseLost(lease.holder) from exc
            raise

    async def read(self, thread_id: str) -> LeaseState:
        answer = await self._read_item(thread_id)
        return self.state_of(answer.get("Item"))

    async def read_many(self, thread_ids: list[str]) -> list[LeaseState]:
        keys = {thread_id: thread_key(thread_id) for thread_id in thread_ids}  # a thread once
        items = await asyncio.to_thread(
            batch_get,
            self._client,
            self._table,
            list(keys.values()),
            f"PK, SK, {LEASE_FIELDS}",
            what="leases",
        )
        now = time.time()
        by_pk = {item["PK"]["S"]: item for item in items}
        return [self._state(by_pk.get(keys[thread_id]["PK"]["S"]), now) for thread_id in thread_ids]

    def state_of(self, item: dict[str, Any] | None) -> LeaseState:
        return self._state(item, time.time())

    async def _read_item(self, thread_id: str) -> dict[str, Any]:
        return await self._call(
            "get_item",
            Key=thread_key(thread_id),
            ConsistentRead=True,
            ProjectionExpression=LEASE_FIELDS,
        )

    async def request_cancel(self, thread_id: str, run_id: str) -> bool:
        try:
            await self._call(
                "update_item",
                Key=thread_key(thread_id),
                UpdateExpression="SET cancel_run_id = :run",
                ConditionExpression="holder = :run AND expires_at > :now",
                ExpressionAttributeValues={":run": {"S": run_id}, ":now": {"N": repr(time.time())}},
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True


class LeaseFence:
    """Whether the current run may still write. Set per run task; the checkpointer checks it."""

    def __init__(self, lease: Lease, lease_seconds: float) -> None:
        self.holder = lease.holder
        self.safety = lease_seconds * FENCE_SAFETY_FRACTION
        self.valid_until = lease.expires_at - self.safety
        self.lost = False

    def extend(self, lease: Lease) -> None:
        self.valid_until = lease.expires_at - self.safety

    def check(self) -> None:
        if self.lost or time.time() >= self.valid_until:
            self.lost = True
            raise LeaseLost(self.holder)


current_fence: contextvars.ContextVar[LeaseFence | None] = contextvars.ContextVar(
    "wayfarer_lease_fence", default=None
)


def check_fence() -> None:
    """Raise ``LeaseLost`` when the run writing in this context no longer holds its lease."""
    fence = current_fence.get()
    if fence is not None:
        fence.check()
