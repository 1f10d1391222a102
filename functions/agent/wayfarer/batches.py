"""BatchWriteItem until every request is written. DynamoDB answers a throttled batch with the
items it left (``UnprocessedItems``); they are sent again after a growing pause."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_ATTEMPTS = 8


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
            if attempt:
                time.sleep(min(0.05 * 2**attempt, 2.0))
            if before_request is not None:
                before_request()
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
        else:
            raise RuntimeError(f"DynamoDB left {len(pending)} {what} unwritten after {MAX_ATTEMPTS} tries")
