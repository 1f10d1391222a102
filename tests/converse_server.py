"""A local Amazon Bedrock Runtime for tests: ``POST /model/{modelId}/converse-stream`` answered in
AWS's event-stream binary framing over a real socket, so the real ChatBedrockConverse (botocore,
urllib3, SigV4 signing, botocore's event-stream decoder) runs end to end.

Every message on the wire (``application/vnd.amazon.eventstream``), big-endian:

    total length u32 | headers length u32 | prelude CRC32 (of the 8 bytes before it)
    headers: name length u8, name, value type u8 (7 = string), value length u16, value
    payload (JSON)
    message CRC32 (of every byte before it, prelude and its CRC included)

An event has the headers ``:event-type`` (a member of ConverseStreamOutput in botocore's
bedrock-runtime service model), ``:content-type: application/json``, ``:message-type: event``. A
modeled exception has ``:message-type: exception`` and ``:exception-type``, which botocore looks up
as a member of the same union: ``throttlingException`` (the member's name; the shape is
ThrottlingException). botocore then raises ``EventStreamError`` (a ClientError) with that code while
the caller iterates the stream: the HTTP answer was a 200, so nothing retries it.

A test scripts the answers (``script``: one ``Reply`` per request, then ``default``) and reads the
requests that reached the server (``requests``). ``POST /model/{modelId}/converse`` (not streamed)
answers the same reply's text as one JSON message."""

from __future__ import annotations

import json
import re
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

EVENT_STREAM = "application/vnd.amazon.eventstream"
STRING = 7  # the event-stream header value type of a UTF-8 string
_ROUTE = re.compile(r"^/model/(?P<model>[^/?]+)/(?P<operation>converse|converse-stream)$")


def encode_headers(headers: Mapping[str, str]) -> bytes:
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += struct.pack("!BH", STRING, len(raw_value)) + raw_value
    return out


def frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(body).encode())


def exception(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def usage(chunks: list[str]) -> dict[str, int]:
    output = sum(len(c.split()) for c in chunks)
    return {"inputTokens": 42, "outputTokens": output, "totalTokens": 42 + output}


# What Bedrock says when it throttles, with an ARN and an account id no caller may see.
THROTTLE_MESSAGE = (
    "Too many tokens, please wait before trying again. "
    "(arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5)"
)


@dataclass
class Reply:
    """One answer: ``chunks`` as text deltas; with ``throttle_after=k``, after the k-th chunk an
    ``exception_type`` exception message and the end of the stream."""

    chunks: list[str]
    throttle_after: int | None = None
    exception_type: str = "throttlingException"
    exception_message: str = THROTTLE_MESSAGE
    pace_seconds: float = 0.0  # between messages, so they cross the socket one by one

    def messages(self) -> Iterator[bytes]:
        """A ConverseStream answer, message by message."""
        yield event("messageStart", {"role": "assistant"})
        for index, text in enumerate(self.chunks):
            if self.throttle_after == index:
                yield exception(self.exception_type, self.exception_message)
                return
            yield event("contentBlockDelta", {"delta": {"text": text}, "contentBlockIndex": 0})
        if self.throttle_after == len(self.chunks):
            yield exception(self.exception_type, self.exception_message)
            return
        yield event("contentBlockStop", {"contentBlockIndex": 0})
        yield event("messageStop", {"stopReason": "end_turn"})
        yield event("metadata", {"usage": usage(self.chunks), "metrics": {"latencyMs": 12}})

    def converse_body(self) -> dict[str, Any]:
        """The same text as a Converse (not streamed) answer."""
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "".join(self.chunks)}]}},
            "stopReason": "end_turn",
            "usage": usage(self.chunks),
            "metrics": {"latencyMs": 12},
        }


@dataclass
class ConverseRequest:
    operation: str  # "converse-stream" or "converse"
    model_id: str
    body: dict[str, Any]
    headers: dict[str, str]

    def user_text(self) -> str:
        return "\n".join(
            block["text"]
            for message in self.body.get("messages", [])
            if message.get("role") == "user"
            for block in message.get("content", [])
            if "text" in block
        )

    def system_text(self) -> str:
        return "\n".join(block["text"] for block in self.body.get("system", []) if "text" in block)


@dataclass
class ConverseServer:
    """The server, on a free loopback port from a background thread (``with ConverseServer() as s``)."""

    default: Reply = field(default_factory=lambda: Reply(["Hello", " from", " Bedrock."]))
    requests: list[ConverseRequest] = field(default_factory=list)
    _replies: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, one each, then with ``default``."""
        with self._lock:
            self._replies = deque(replies)

    def next_reply(self, request: ConverseRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._replies.popleft() if self._replies else self.default

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ConverseServer:
        server = self

        class Handler(_Handler):
            converse = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked answers, as botocore's urllib3 expects
    converse: ConverseServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # http.server's name for a POST
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = _ROUTE.match(self.path)
        if route is None:
            self._json(404, {"message": f"no route for {self.path}"})
            return
        request = ConverseRequest(
            operation=route["operation"],
            model_id=unquote(route["model"]),
            body=json.loads(raw or b"{}"),
            headers=dict(self.headers.items()),
        )
        reply = self.converse.next_reply(request)
        if request.operation == "converse":
            self._json(200, reply.converse_body())
            return
        self.send_response(200)
        self.send_header("Content-Type", EVENT_STREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", "local-converse")
        self.end_headers()
        for message in reply.messages():
            if reply.pace_seconds:
                time.sleep(reply.pace_seconds)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
