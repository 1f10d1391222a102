"""Faults injected into the app's real boto3 client through botocore's event hooks: the request
never reaches the server and botocore parses a DynamoDB error answer, exactly as if DynamoDB had
sent it (so botocore's own retries and our handling both run)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def dynamodb_error(url: str, code: str, message: str, status: int = 400) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    return AWSResponse(url, status, headers, _Body(body))


class FaultInjector:
    """Answers selected DynamoDB calls with an error instead of sending them.

    ``when(operation, request_body)`` picks the calls; at most ``times`` attempts are answered
    with the error. ``attempts``: only a call's first N attempts (botocore's ``amz-sdk-request``
    header counts them), so a call throttled twice succeeds on its third try whatever other
    calls run at the same time; None: every attempt."""

    def __init__(
        self,
        client: Any,
        code: str,
        message: str,
        times: int,
        when: Callable[[str, dict[str, Any]], bool] = lambda *_: True,
        attempts: int | None = None,
    ) -> None:
        self.code, self.message, self.left, self.when, self.attempts = code, message, times, when, attempts
        self.injected = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-send.dynamodb", self._before_send)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).split(".")[-1]
        body = json.loads(request.body or b"{}")
        attempt = request.headers.get("amz-sdk-request", b"attempt=1")
        attempt = int(
            (attempt.decode() if isinstance(attempt, bytes) else attempt).split(";")[0].split("=")[1]
        )
        with self._lock:
            if self.left <= 0 or (self.attempts is not None and attempt > self.attempts):
                return None
            if attempt == 1 and not self.when(operation, body):
                return None
            self.left -= 1
            self.injected += 1
        return dynamodb_error(request.url, self.code, self.message)


def writes_a_checkpoint(operation: str, body: dict[str, Any]) -> bool:
    """A BatchWriteItem that stores a checkpoint item (not channel writes)."""
    if operation != "BatchWriteItem":
        return False
    items = [r["PutRequest"]["Item"] for t in body["RequestItems"].values() for r in t if "PutRequest" in r]
    return any(i["PK"]["S"].startswith("CHECKPOINT_") and "id" in i for i in items)


class SlowCalls:
    """Holds selected DynamoDB calls ``seconds`` in the calling thread while ``on``, as a loaded
    store does: at ``stage`` "before-call" before the request is sent (the store reads late), at
    "after-call" once its answer is in (the answer comes late). ``when(params)`` picks them by
    the call's parameters."""

    def __init__(
        self,
        client: Any,
        operation: str,
        seconds: float,
        when: Callable[[dict[str, Any]], bool],
        stage: str,
    ) -> None:
        self.seconds, self.when = seconds, when
        self.on = False
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", self._pick)
        client.meta.events.register(f"{stage}.dynamodb.{operation}", self._hold)

    def _pick(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["wayfarer_slow_call"] = self.on and self.when(params)

    def _hold(self, context: dict[str, Any], **_: Any) -> None:
        if context.get("wayfarer_slow_call"):
            time.sleep(self.seconds)
