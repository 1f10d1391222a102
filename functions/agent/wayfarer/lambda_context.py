"""The Lambda invocation deadline, as Lambda Web Adapter forwards it.

LWA passes the Lambda context as JSON in the ``x-amzn-lambda-context`` request header; its
``deadline`` is the invocation's end in epoch milliseconds."""

from __future__ import annotations

import json
from collections.abc import Mapping

LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"


def invocation_deadline(headers: Mapping[str, str]) -> float | None:
    """Epoch seconds by which the invocation ends, or None outside Lambda / when unreadable."""
    raw = headers.get(LAMBDA_CONTEXT_HEADER)
    if not raw:
        return None
    try:
        deadline_ms = json.loads(raw)["deadline"]
        return float(deadline_ms) / 1000
    except (ValueError, KeyError, TypeError):
        return None
