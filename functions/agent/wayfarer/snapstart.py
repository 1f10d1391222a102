"""Lambda SnapStart: what one snapshot must not hand to every environment restored from it.

Both functions publish versions with SnapStart (template.yaml), so Lambda initialises the app
once, snapshots the process, and restores copies of it. What AWS asks to handle
(docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html) and what this does:

- **Network connections** open at the snapshot are dead after a restore: the AWS clients' pools
  are closed before the snapshot and again after a restore, so the next call connects afresh.
- **Randomness**: ``random`` is reseeded after a restore, so no two copies share a sequence.
  Ids come from ``os.urandom`` (run ids) and ``uuid4``, which the kernel keeps unique.
- **Credentials**: boto3 clients made at init read the execution role's credentials from the
  container credentials endpoint in a SnapStart function and refresh them; none are cached here.

StreamFunction runs the app behind the Lambda Web Adapter (a separate process from the Lambda
runtime), which relays the two lifecycle events as HTTP calls (adapter 1.1: the
``AWS_LWA_SNAPSTART_*_PATH`` variables); the app answers them at ``HOOK_PATHS``. ApiFunction
runs in the Python runtime itself and registers the same two functions with
``snapshot_restore_py``."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="wayfarer", child=True)

# The adapter's variables name these paths; the app answers POSTs on them (api.py).
BEFORE_CHECKPOINT_PATH = "/_snapstart/before-checkpoint"
AFTER_RESTORE_PATH = "/_snapstart/after-restore"


def close_connections(clients: Iterable[Any]) -> int:
    """Close each botocore client's connection pool; say how many were closed. The client
    stays usable: its next request opens a new connection."""
    closed = 0
    for client in clients:
        session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        if session is not None:
            session.close()
            closed += 1
    return closed


def before_checkpoint(clients: Iterable[Any]) -> None:
    closed = close_connections(clients)
    logger.info("snapshot: connections closed", extra={"clients": closed})


def after_restore(clients: Iterable[Any]) -> None:
    random.seed(os.urandom(32))
    closed = close_connections(clients)
    logger.info("restored: randomness reseeded, connections closed", extra={"clients": closed})


def hooks_enabled() -> bool:
    """The adapter relays SnapStart's events only when told where (template.yaml sets both)."""
    return bool(os.environ.get("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH"))
