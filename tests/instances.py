"""Two app processes on one DynamoDB, and the bookkeeping every fault test shares: read a
stream as it comes, and compare the nodes a thread saved with the node events clients saw."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import server_process

# The nodes of a whole piece with max_revisions=1, in order.
PIECE = ["planner", "travel_plan", "generate", "reflect", "research_critique", "generate"]


@dataclass
class Instance:
    process: Any
    url: str
    client: httpx.Client


@contextmanager
def instances(log: Path, count: int = 2, **settings: str) -> Iterator[list[Instance]]:
    """``count`` app processes (uvicorn, as in Lambda) sharing one table and bucket."""
    suffix = uuid.uuid4().hex[:10]
    settings = {"table_name": f"wf-{suffix}", "offload_bucket": f"wf-offload-{suffix}", **settings}
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            process, url = stack.enter_context(server_process(log, **settings))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            started.append(Instance(process, url, client))
        yield started


@dataclass
class LiveStream:
    """A run stream read in a background thread, so a test can act while it flows."""

    client: httpx.Client
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    started: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    stop_after: int | None = None  # disconnect after this many events
    error: Exception | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            self._stream()
        except httpx.HTTPError as exc:  # the server died mid-stream (a kill -9 test)
            self.error = exc
        finally:
            self.started.set()
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def _stream(self) -> None:
        if True:
            with self.client.stream(self.method, self.path, json=self.body, headers=self.headers) as response:
                self.status = response.status_code
                self.started.set()
                if response.status_code != 200:
                    response.read()
                    return
                for line in response.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    with self._changed:
                        self.events.append(json.loads(line[len("data: ") :]))
                        self._changed.notify_all()
                    if self.stop_after is not None and len(self.events) >= self.stop_after:
                        return  # leaving the block closes the connection: the client is gone

    def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        """The first event matching ``predicate``, waiting for it to arrive."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(predicate(e) for e in self.events) or self.ended.is_set(), timeout
            )
            match = next((e for e in self.events if predicate(e)), None)
        assert found and match is not None, f"no such event; got {[e['event'] for e in self.events]}"
        return match

    def result(self, timeout: float = 60) -> list[dict[str, Any]]:
        assert self.ended.wait(timeout), "the stream did not end"
        return self.events


def token_of(node: str) -> Any:
    return lambda e: e["event"] == "token" and e["node"] == node


def nodes_run(events: list[dict[str, Any]]) -> list[str]:
    """Nodes that ran in these events (a node replayed from a saved result did not run)."""
    return [e["node"] for e in events if e["event"] == "node" and not e.get("replayed")]


def saved_nodes(client: httpx.Client, thread_id: str) -> list[str]:
    """The nodes the thread's state holds, in order: one AI message per node that ran."""
    state = client.get(f"/threads/{thread_id}/state").json()
    return [m["name"] for m in state["values"]["messages"] if m["type"] == "ai"]


def account(saved: list[str], seen: list[str], expected: list[str]) -> tuple[int, int]:
    """Nodes lost and nodes repeated, comparing the saved nodes and the node events seen with
    the path the graph must take. Both must be (0, 0)."""
    lost = sum(1 for i, node in enumerate(expected) if i >= len(saved) or saved[i] != node)
    repeated = max(0, len(seen) - len(expected)) + max(0, len(saved) - len(expected))
    return lost, repeated
