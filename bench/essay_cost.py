"""What one seed essay costs on AWS, from quantities measured here, priced with dated constants.

    make bench        # or: uv run python -m bench.essay_cost [--essays 3]

An essay is the seed journey: 9 HITL requests (planner … generate), through POST /runs/stream,
with the app in this process on dynalite. Measured per essay:

- Lambda: requests, and GB-seconds = the time each request's stream was open (Lambda bills a
  streamed invocation until its stream ends) times the template's default MemorySize. Twice: with
  the offline model at zero pace (our own time) and at 20 ms per chunk (a model's streaming
  time stand-in: Lambda waits, and bills, while a model writes).
- DynamoDB on demand: the write and read request units DynamoDB itself reports for every call
  (``ReturnConsumedCapacity: TOTAL``, added to each request by a botocore hook): writes per 1 KB
  of item, reads per 4 KB (half for eventually consistent reads).
- S3: requests (checkpoints over 350 KB only; an essay has none).
- CloudWatch Logs: the bytes the app logged (its Powertools JSON lines), as ingested.
- Bedrock (shown apart): the essay's prompt and answer sizes in tokens (characters / 4, the
  usual estimate for English) at the model's price per token.
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.run_stream import backend
from tests.servers import ThreadedServer
from wayfarer.api import create_app
from wayfarer.devstack import local_credentials
from wayfarer.graph.prompts import prompt_messages
from wayfarer.services import Services, build_services

REPO = Path(__file__).resolve().parents[1]
TASK = "Write about visiting Paris"
HITL_REQUESTS = 9

# Prices: us-east-1, on-demand, as published by AWS and last checked on 2026-11-24 from the
# pricing pages' figures in force since their last changes (DynamoDB's on-demand cut of
# November 2024). Change them here; nothing else holds a price.
PRICES_AS_OF = "2026-11-24, us-east-1"
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1_000_000
DYNAMODB_PER_READ_UNIT = 0.125 / 1_000_000
S3_PER_PUT = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000
LOGS_PER_GB_INGESTED = 0.50
# Claude Haiku 4.5 on Bedrock (the template's default model), per token.
BEDROCK_PER_INPUT_TOKEN = 1.00 / 1_000_000
BEDROCK_PER_OUTPUT_TOKEN = 5.00 / 1_000_000
CHARS_PER_TOKEN = 4
GOAL = 0.002  # dollars of AWS infrastructure per essay, model excluded


def template_memory_mb() -> int:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=Loader)
    return int(template["Parameters"]["MemorySize"]["Default"])


@dataclass
class Meter:
    """DynamoDB's own capacity figures and the S3 requests, from botocore hooks."""

    write_units: float = 0.0
    read_units: float = 0.0
    dynamodb_calls: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    prompts: list[int] = field(default_factory=list)

    def ask_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def count_capacity(self, parsed: dict[str, Any], **_: Any) -> None:
        self.dynamodb_calls += 1
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.write_units += entry.get("WriteCapacityUnits", 0) or 0
            self.read_units += entry.get("ReadCapacityUnits", 0) or 0
            if not entry.get("WriteCapacityUnits") and not entry.get("ReadCapacityUnits"):
                # dynalite reports CapacityUnits only: a write's or a read's by the operation.
                units = entry.get("CapacityUnits", 0) or 0
                if self._last_write:
                    self.write_units += units
                else:
                    self.read_units += units

    _last_write = False

    def note_operation(self, model: Any, **_: Any) -> None:
        self._last_write = model.name in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")

    def count_s3(self, model: Any, **_: Any) -> None:
        if model.name in ("PutObject",):
            self.s3_puts += 1
        elif model.name in ("GetObject", "HeadObject"):
            self.s3_gets += 1

    def attach(self, services: Services) -> None:
        for client in services.aws_clients():
            events = client.meta.events
            if client.meta.service_model.service_name == "dynamodb":
                for op in (
                    "PutItem",
                    "UpdateItem",
                    "DeleteItem",
                    "GetItem",
                    "Query",
                    "BatchWriteItem",
                    "BatchGetItem",
                    "TransactWriteItems",
                ):
                    events.register(f"provide-client-params.dynamodb.{op}", self.ask_capacity)
                events.register("before-call.dynamodb", self.note_operation)
                events.register("after-call.dynamodb", self.count_capacity)
            else:
                events.register("before-call.s3", self.count_s3)


class CountingStream(io.TextIOBase):
    """Stands in for a log handler's stream: counts the bytes, prints nothing."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@contextmanager
def counted_logs() -> Iterator[CountingStream]:
    """The app's log lines (Powertools JSON to stdout, as Lambda ships them to CloudWatch)."""
    counter = CountingStream()
    handlers = [h for h in logging.getLogger("wayfarer").handlers if isinstance(h, logging.StreamHandler)]
    streams = [h.setStream(counter) for h in handlers]  # type: ignore[arg-type]
    try:
        yield counter
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)  # type: ignore[arg-type]


@contextmanager
def metered_app(pace_ms: float) -> Iterator[tuple[str, Meter]]:
    with backend("dynalite", pace_ms) as settings:
        services = build_services(settings)
        meter = Meter()
        meter.attach(services)
        with ThreadedServer(create_app(settings, services=services)) as server:
            yield server.url, meter


def essay(url: str) -> tuple[float, int, int]:
    """One seed journey: (seconds its streams were open, prompt characters, answer characters)."""
    thread_id = f"cost-{time.time_ns()}"
    body: dict[str, Any] = {"thread_id": thread_id, "message": TASK, "use_hitl": True}
    open_seconds = 0.0
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(HITL_REQUESTS):
            start = time.perf_counter()
            with client.stream("POST", "/runs/stream", json=body) as response:
                for _line in response.iter_lines():
                    pass
            open_seconds += time.perf_counter() - start
            body = {"thread_id": thread_id, "use_hitl": True}
        state = client.get(f"/threads/{thread_id}/state").json()
    assert not state["next"], "the essay did not finish in 9 requests"
    answers = sum(len(m["content"]) for m in state["values"]["messages"] if m["type"] == "ai")
    return open_seconds, prompt_chars(state["values"]), answers


def prompt_chars(values: dict[str, Any]) -> int:
    """What the model reads over an essay: each model node's prompt, rebuilt from the state as
    it stood (approximated with the final state: the same task, plan and research)."""
    from wayfarer.graph.nodes import brief_from

    total = 0
    steps = ("plan", "research_queries", "draft", "critique", "critique_queries", "draft", "critique")
    for step in (*steps, "critique_queries", "draft"):
        brief = brief_from(values, step)  # type: ignore[arg-type]
        total += sum(len(str(m.content)) for m in prompt_messages(brief))
    return total


def run(pace_ms: float, essays: int, memory_gb: float) -> dict[str, float]:
    with metered_app(pace_ms) as (url, meter):
        with counted_logs():
            essay(url)  # warm up: imports, first table access
        meter.__init__()  # type: ignore[misc]
        seconds = prompts = answers = 0.0
        with counted_logs() as logs:
            for _ in range(essays):
                s, p, a = essay(url)
                seconds, prompts, answers = seconds + s, prompts + p, answers + a
    n = essays
    return {
        "lambda_requests": HITL_REQUESTS,
        "gb_seconds": seconds / n * memory_gb,
        "write_units": meter.write_units / n,
        "read_units": meter.read_units / n,
        "dynamodb_calls": meter.dynamodb_calls / n,
        "s3_puts": meter.s3_puts / n,
        "s3_gets": meter.s3_gets / n,
        "log_bytes": logs.bytes / n,
        "input_tokens": prompts / n / CHARS_PER_TOKEN,
        "output_tokens": answers / n / CHARS_PER_TOKEN,
        "seconds": seconds / n,
    }


def bill(q: dict[str, float]) -> list[tuple[str, str, float]]:
    return [
        ("Lambda requests", f"{q['lambda_requests']:.0f}", q["lambda_requests"] * LAMBDA_PER_REQUEST),
        (
            "Lambda GB-seconds",
            f"{q['gb_seconds']:.3f} ({q['seconds']:.2f} s open)",
            q["gb_seconds"] * LAMBDA_ARM64_PER_GB_SECOND,
        ),
        ("DynamoDB write units", f"{q['write_units']:.0f}", q["write_units"] * DYNAMODB_PER_WRITE_UNIT),
        ("DynamoDB read units", f"{q['read_units']:.1f}", q["read_units"] * DYNAMODB_PER_READ_UNIT),
        (
            "S3 requests",
            f"{q['s3_puts']:.0f} PUT, {q['s3_gets']:.0f} GET",
            q["s3_puts"] * S3_PER_PUT + q["s3_gets"] * S3_PER_GET,
        ),
        (
            "CloudWatch Logs ingested",
            f"{q['log_bytes'] / 1024:.1f} KB",
            q["log_bytes"] / 1024**3 * LOGS_PER_GB_INGESTED,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essays", type=int, default=3)
    args = parser.parse_args()
    local_credentials()
    memory_mb = template_memory_mb()
    print(
        f"One seed essay ({HITL_REQUESTS} HITL requests) on AWS; prices {PRICES_AS_OF}; "
        f"Lambda arm64 at {memory_mb} MB (the template's default); dynalite's own capacity figures."
    )
    for pace in (0.0, 20.0):
        q = run(pace, args.essays, memory_mb / 1024)
        rows = bill(q)
        total = sum(cost for _, _, cost in rows)
        print(f"\n| offline model at {pace:g} ms per chunk | quantity per essay | dollars |")
        print("|---|---|---:|")
        for name, quantity, cost in rows:
            print(f"| {name} | {quantity} | {cost:.6f} |")
        verdict = "within" if total <= GOAL else "over"
        calls = f"{q['dynamodb_calls']:.0f} DynamoDB calls"
        print(f"| **AWS infrastructure** | {calls} | **{total:.6f}** ({verdict} the ${GOAL} goal) |")
        model = q["input_tokens"] * BEDROCK_PER_INPUT_TOKEN + q["output_tokens"] * BEDROCK_PER_OUTPUT_TOKEN
        tokens = f"{q['input_tokens']:.0f} input, {q['output_tokens']:.0f} output tokens"
        print(f"| Bedrock (apart) | {tokens} | {model:.6f} |")


if __name__ == "__main__":
    main()
