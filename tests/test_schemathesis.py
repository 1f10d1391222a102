"""Schemathesis fuzzes every operation of the running app's /openapi.json: no answer is a 5xx,
and every 4xx says what was wrong.

The real app runs under uvicorn on the moto server, with the offline model at zero pace. The
schema is read from the server itself, so what is fuzzed is exactly what the app publishes; the
test checks that it lists every route the app has. Each operation gets positive cases (valid per
the schema) and negative ones (each breaks the schema somewhere), ``EXAMPLES_PER_MODE`` of each,
with Hypothesis derandomized so every run sends the same cases. The 12 operations when this was
written:

    GET /health                                   POST /runs/stream        (text/event-stream)
    POST /threads                                 POST /runs/invoke
    GET /threads/{thread_id}                      GET /threads/{thread_id}/runs/{run_id}
    GET /threads/{thread_id}/state                GET /threads/{thread_id}/runs/{run_id}/stream
    POST /threads/{thread_id}/state                                        (text/event-stream)
    GET /threads/{thread_id}/history              POST /threads/{thread_id}/runs/{run_id}/cancel
    DELETE /threads/{thread_id}

Generated ids almost never name a thread or run that exists, which would leave every route
past its 404 untested. So about half of each operation's cases carry the ids of a thread seeded
first (paused after its first node) and of its run; DELETE goes last, as it removes that
thread. GET /health has no input to break: it gets positive cases only.

Event streams are read by schemathesis itself: its requests transport reads a text/event-stream
body until the stream ends, or ``STREAM_SECONDS`` pass in total, or the stream is silent that
long (the read timeout), whichever comes first. A run whose stream is cut goes on in the server,
as a disconnected client's run does. The status is checked either way; a stream read to its end
must close with a terminal event that is not ``error`` (the offline model cannot fail: an error
event here is a server bug in disguise). Cut streams are listed in the summary with a curl line.

The figures (operations, cases, statuses, 5xx, 4xx without a message, streams) are printed as
one summary; run with ``pytest -s tests/test_schemathesis.py`` to see it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Err, Ok

from tests.conftest import Serve
from wayfarer.api import ROUTERS, create_app
from wayfarer.events import TERMINAL_EVENTS
from wayfarer.settings import Settings

EXAMPLES_PER_MODE = 25
STREAM_SECONDS = 5.0  # total read time of one event stream (a whole run at zero pace takes < 2 s)
REQUEST_SECONDS = 30.0  # any other answer (POST /runs/invoke waits for its run)
SEED_THREAD = "test123"  # the schema's own example id, so generated cases use it too
SHOWN_PER_KIND = 5  # failing cases printed in full (with curl) per kind of failure


@dataclass
class Failure:
    label: str
    status: int
    body: str
    curl: str

    def __str__(self) -> str:
        return f"{self.label} -> {self.status} {self.body[:300]!r}\n    {self.curl}"


@dataclass
class Figures:
    """What the fuzzing run sent and met."""

    cases: Counter[str] = field(default_factory=Counter)  # by operation
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[Failure] = field(default_factory=list)
    unexplained_4xx: list[Failure] = field(default_factory=list)
    bad_streams: list[Failure] = field(default_factory=list)
    cut_streams: list[Failure] = field(default_factory=list)
    streams_ended: int = 0

    def summary(self, operations: int, seconds: float) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {operations} operations, {sum(self.cases.values())} cases "
            f"({EXAMPLES_PER_MODE} positive + {EXAMPLES_PER_MODE} negative per operation at most) "
            f"in {seconds:.0f} s; 5xx: {len(self.server_errors)}; "
            f"4xx without a message: {len(self.unexplained_4xx)}; event streams read to their end: "
            f"{self.streams_ended}, cut at {STREAM_SECONDS:g} s: {len(self.cut_streams)}, "
            f"ended badly: {len(self.bad_streams)}; statuses {{{statuses}}}"
            + "".join(f"\n  cut: {f}" for f in self.cut_streams[:SHOWN_PER_KIND])
        )


def has_message(body: Any) -> bool:
    """``detail`` is a non-empty string, or a non-empty list of errors that each have a ``msg``."""
    if not isinstance(body, dict):
        return False
    detail = body.get("detail")
    if isinstance(detail, str):
        return bool(detail.strip())
    return (
        isinstance(detail, list)
        and bool(detail)
        and all(isinstance(e, dict) and isinstance(e.get("msg"), str) and e["msg"] for e in detail)
    )


def stream_events(content: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(block[len(b"data: ") :]) for block in content.split(b"\n\n") if block.startswith(b"data: ")
    ]


def is_event_stream(headers: dict[str, list[str]]) -> bool:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), [""])
    return content_type[0].startswith("text/event-stream")


def check(case: Case[Any], response: Any, base_url: str, figures: Figures) -> None:
    """Record what is wrong with one answer; the test fails on the totals, after every case ran
    (a first failure must not hide the others)."""

    def failure() -> Failure:
        return Failure(
            case.operation.label,
            response.status_code,
            response.content.decode(errors="replace"),
            case.as_curl_command(base_url=base_url),
        )

    figures.statuses[response.status_code] += 1
    if response.status_code >= 500:
        figures.server_errors.append(failure())
    elif response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if not has_message(body):
            figures.unexplained_4xx.append(failure())
    elif is_event_stream(response.headers):
        if response.stream_cut_short:
            figures.cut_streams.append(failure())
            return
        figures.streams_ended += 1
        events = stream_events(response.content)
        if not events or events[-1]["event"] not in TERMINAL_EVENTS or events[-1]["event"] == "error":
            figures.bad_streams.append(failure())


def seed_run(client: httpx.Client) -> str:
    """A thread paused after its first node; answers its run id."""
    body = {"thread_id": SEED_THREAD, "message": "Write about visiting Paris", "use_hitl": True}
    with client.stream("POST", "/runs/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        events = [
            json.loads(line[len("data: ") :]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    assert events[-1]["event"] == "interrupt", events[-1]
    run_id: str = events[-1]["run_id"]
    return run_id


def fuzz(
    operation: Any, known_ids: dict[str, str], base_url: str, session: requests.Session, figures: Figures
) -> None:
    streaming = operation.path.endswith("/stream")
    timeout = STREAM_SECONDS if streaming else REQUEST_SECONDS
    pinned = {name: value for name, value in known_ids.items() if f"{{{name}}}" in operation.path}
    # An operation without parameters or body (GET /health) has nothing to break.
    has_inputs = any(True for _ in operation.iter_parameters()) or bool(list(operation.body))
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if has_inputs else [GenerationMode.POSITIVE]
    for mode in modes:
        strategy = operation.as_strategy(generation_mode=mode)
        if pinned:
            strategy = st.one_of(
                strategy, operation.as_strategy(generation_mode=mode, path_parameters=pinned)
            )

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_MODE,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # nothing raises, so nothing to shrink
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def send(case: Case[Any]) -> None:
            figures.cases[operation.label] += 1
            response = case.call(base_url=base_url, session=session, timeout=timeout)
            check(case, response, base_url, figures)

        send()


def app_routes(settings: Settings) -> set[str]:
    """``"GET /health"``, ...: every route the app serves in its schema, as schemathesis labels
    operations. Read from the app's own routes, so a new route is fuzzed without editing this."""
    routes = [*create_app(settings).routes, *(route for router in ROUTERS for route in router.routes)]
    return {
        f"{method} {route.path}"
        for route in routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods or ()
    }


def test_no_operation_answers_5xx_and_every_4xx_says_why(serve: Serve, settings: Settings) -> None:
    started = time.perf_counter()
    client = serve()
    base_url = str(client.base_url).rstrip("/")
    known_ids = {"thread_id": SEED_THREAD, "run_id": seed_run(client)}
    config = schemathesis.Config.from_dict({"max-stream-events": 100_000})
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    results = list(schema.get_all_operations())
    broken = [str(result.err()) for result in results if isinstance(result, Err)]
    assert not broken, f"schemathesis cannot read these operations of /openapi.json: {broken}"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # it removes the seeded thread
    assert {op.label for op in operations} == app_routes(settings), "the schema must list every route"

    figures = Figures()
    with requests.Session() as session:
        for operation in operations:
            fuzz(operation, known_ids, base_url, session, figures)
    print("\n" + figures.summary(len(operations), time.perf_counter() - started))

    assert set(figures.cases) == {op.label for op in operations}, "an operation got no case"
    for kind, found in (
        ("5xx answers", figures.server_errors),
        ("4xx answers without a message", figures.unexplained_4xx),
        ("event streams that ended without a terminal event, or with an error", figures.bad_streams),
    ):
        shown = "\n".join(str(f) for f in found[:SHOWN_PER_KIND])
        assert not found, f"{len(found)} {kind}; the first:\n{shown}"
