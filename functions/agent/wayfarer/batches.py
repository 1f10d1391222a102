"""BatchWriteItem until every request is written, BatchGetItem until every key is read. DynamoDB
answers a throttled batch with what it left (``UnprocessedItems``, ``UnprocessedKeys``); that is
sent again after a growing pause."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

BATCH_SIZE = 25  # BatchWriteItem's limit
GET_BATCH_SIZE = 100  # BatchGetItem's
MAX_ATTEMPTS = 8


def _pause(attempt: int) -> None:
    if attempt:
        time.sleep(min(0.05 * 2**attempt, 2.0))


def one_per_key(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per key, the last given: DynamoDB refuses a batch that names a key twice (a
    task resumed through two interrupts writes RESUME twice, both at one index)."""
    return list({(item["PK"]["S"], item["SK"]["S"]): item for item in items}.values())


def puts(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": item}} for item in items]


def deletes(keys: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"DeleteRequest": {"Key": key}} for key in keys]


def batch_write(
    client: Any,
    table: str,
    requests: list[dict[str, Any]],
    *,
    before_request: Callable[[], None] | None = None,
    what: str = "items",
) -> None:
    """Send ``requests`` in order, 25 at a time, each batch complete before the next.
    ``before_request`` runs before every request, retries included (the lease fence)."""
    for start in range(0, len(requests), BATCH_SIZE):
        pending = requests[start : start + BATCH_SIZE]
        for attempt in range(MAX_ATTEMPTS):
            _pause(attempt)
            if before_request is not None:
                before_request()
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
        else:
            raise RuntimeError(f"DynamoDB left {len(pending)} {what} unwritten after {MAX_ATTEMPTS} tries")


def batch_get(
    client: Any, table: str, keys: list[dict[str, Any]], projection: str, *, what: str = "items"
) -> list[dict[str, Any]]:
    """The items of ``keys`` that exist (``projection`` of each, which must name the key
    attributes to tell them apart), in no particular order; strongly consistent."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), GET_BATCH_SIZE):
        request: dict[str, Any] = {
            "Keys": keys[start : start + GET_BATCH_SIZE],
            "ProjectionExpression": projection,
            "ConsistentRead": True,
        }
        for attempt in range(MAX_ATTEMPTS):
            _pause(attempt)
            answer = client.batch_get_item(RequestItems={table: request})
            found += answer.get("Responses", {}).get(table, [])
            left = answer.get("UnprocessedKeys", {}).get(table)
            if not left:
                break
            request = {**request, "Keys": left["Keys"]}
        else:
            left_over = len(request["Keys"])
            raise RuntimeError(f"DynamoDB left {left_over} {what} unread after {MAX_ATTEMPTS} tries")
    return found
