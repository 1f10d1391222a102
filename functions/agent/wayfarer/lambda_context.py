"""The Lambda invocation deadline, wherever the entry finds it.

- Behind Lambda Web Adapter (StreamFunction), the Lambda context arrives as JSON in the
  ``x-amzn-lambda-context`` request header; its ``deadline`` is epoch milliseconds.
- Through Mangum (ApiFunction), the context object itself is in the ASGI scope under
  ``aws.context``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"


def invocation_deadline(headers: Mapping[str, str], context: Any = None) -> float | None:
    """Epoch seconds by which the invocation ends, or None outside Lambda / when unreadable."""
    raw = headers.get(LAMBDA_CONTEXT_HEADER)
    if raw:
        try:
            return float(json.loads(raw)["deadline"]) / 1000
        except (ValueError, KeyError, TypeError):
            return None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return time.time() + remaining() / 1000 if callable(remaining) else None
