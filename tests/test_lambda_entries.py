"""Both Lambda entries, run the way Lambda runs them, without Docker:

- ApiFunction: the Mangum handler, fed every ``events/*.json`` (function URL payload 2.0);
- StreamFunction: ``run.sh`` started with the environment Lambda and the Web Adapter give it,
  streaming a whole HITL run, and stopping before an invocation deadline the adapter forwards
  in ``x-amzn-lambda-context``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_body
from tests.servers import server_env, serving
from tests.sse_clients import nodes_of, stream
from wayfarer.devstack import REPO_ROOT, free_port

EVENTS = REPO_ROOT / "events"
RUN_SH = REPO_ROOT / "functions/agent/run.sh"
# The order a new user would try them in: the thread must exist before its state is read.
EVENT_ORDER = ["health", "create_thread", "thread_state", "runs_invoke", "thread_history"]


def lambda_env(moto_endpoint: str, table: str) -> dict[str, str]:
    """What Lambda sets, plus the app's settings as template.yaml sets them (minus Bedrock,
    which this machine cannot reach: the offline model stands in)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": "wayfarer-StreamFunction",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(REPO_ROOT / "functions/agent"),
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_READINESS_CHECK_PATH": "/health",
        "POWERTOOLS_SERVICE_NAME": "wayfarer",
        "WAYFARER_MODEL_PROVIDER": "offline",
        "WAYFARER_OFFLINE_PACE_MS": "0",
        # As the stack sets it for AuthMode iam (the function URL checks SigV4): auth off, on purpose.
        "WAYFARER_AUTH_MODE": "none",
        "WAYFARER_AUTH_ALLOW_NONE_IN_LAMBDA": "true",
        "WAYFARER_TABLE_NAME": table,
        "WAYFARER_DYNAMODB_ENDPOINT_URL": moto_endpoint,
        "WAYFARER_DEADLINE_MARGIN_SECONDS": "60",
    }


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def test_every_event_file_is_exercised() -> None:
    assert sorted(p.stem for p in EVENTS.glob("*.json")) == sorted(EVENT_ORDER)


def test_mangum_handler_answers_every_event(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table = f"wf-{uuid.uuid4().hex[:8]}"
    for key, value in lambda_env(moto_endpoint, table).items():
        monkeypatch.setenv(key, value)
    sys.modules.pop("wayfarer.lambda_handler", None)
    handler = importlib.import_module("wayfarer.lambda_handler").handler
    # Lambda creates the table from the template; here the local bootstrap did, at import.

    answers = {name: handler(load_event(name), None) for name in EVENT_ORDER}
    bodies = {name: json.loads(a["body"]) if a["body"] else None for name, a in answers.items()}

    assert {n: a["statusCode"] for n, a in answers.items()} == {
        "health": 200,
        "create_thread": 201,
        "thread_state": 200,
        "runs_invoke": 200,
        "thread_history": 200,
    }
    assert bodies["health"] == {"status": "ok", "model": "offline", "research": "offline"}
    assert bodies["create_thread"]["thread_id"] == "evt-thread"
    assert bodies["thread_state"]["values"] == {} and bodies["thread_state"]["next"] == []
    assert bodies["runs_invoke"]["status"] == "interrupted"
    assert bodies["runs_invoke"]["next"] == ["travel_plan"]
    assert bodies["runs_invoke"]["values"]["plan"].startswith("Working title: Lisbon")
    assert bodies["thread_history"] and bodies["thread_history"][0]["next"] == ["travel_plan"]
    assert all(a["headers"]["content-type"] == "application/json" for a in answers.values())
    assert not any(
        "access-control-allow-origin" in a["headers"] for a in answers.values()
    )  # CORS is the URL's


@pytest.fixture(scope="module")
def run_sh_url(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = server_env() | lambda_env(moto_endpoint, f"wf-{uuid.uuid4().hex[:8]}") | {"PORT": str(port)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the project's python3
    log = tmp_path_factory.mktemp("run_sh") / "run.sh.log"
    with serving([str(RUN_SH)], env, log, port):
        yield f"http://127.0.0.1:{port}"


def lambda_context_header(seconds_left: float) -> dict[str, str]:
    context = {
        "request_id": str(uuid.uuid4()),
        "deadline": int((time.time() + seconds_left) * 1000),
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:wayfarer-StreamFunction",
        "xray_trace_id": "Root=1-00000000-000000000000000000000000",
        "client_context": None,
        "identity": None,
        "env_config": {"function_name": "wayfarer-StreamFunction", "memory": 1024, "version": "$LATEST"},
    }
    return {"x-amzn-lambda-context": json.dumps(context)}


def test_run_sh_serves_a_full_hitl_run(run_sh_url: str) -> None:
    with httpx.Client(base_url=run_sh_url, timeout=30, headers=lambda_context_header(900)) as client:
        assert client.get("/health").json()["status"] == "ok"
        body = run_body(message="Write about visiting Barcelona", max_revisions=1)
        runs = [stream(client, body)]
        while runs[-1][-1]["event"] == "interrupt":
            runs.append(stream(client, {"thread_id": body["thread_id"]}))
    assert [n for r in runs for n in nodes_of(r)] == [
        "planner", "travel_plan", "generate", "reflect", "research_critique", "generate",
    ]  # fmt: skip
    assert runs[-1][-1]["event"] == "complete"


def test_run_stops_before_a_node_it_cannot_finish_by_the_deadline(run_sh_url: str) -> None:
    body = run_body(message="Write about visiting Amsterdam", use_hitl=False, max_revisions=1)
    with httpx.Client(base_url=run_sh_url, timeout=30) as client:
        # 30 s left, margin 60 s: the first node runs (a new piece always starts), then it stops.
        client.headers.update(lambda_context_header(30))
        events = stream(client, body)
        assert nodes_of(events) == ["planner"]
        assert {k: events[-1][k] for k in ("event", "reason", "next")} == {
            "event": "interrupt",
            "reason": "deadline",
            "next": ["travel_plan"],
        }
        assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "interrupted"

        # Already inside the margin: a resume stops before running anything, losing nothing.
        events = stream(client, {"thread_id": body["thread_id"], "use_hitl": False})
        assert nodes_of(events) == [] and events[-1]["reason"] == "deadline"

        # A fresh invocation with its full 15 minutes picks up where the last one stopped.
        client.headers.update(lambda_context_header(900))
        events = stream(client, {"thread_id": body["thread_id"], "use_hitl": False})
    assert nodes_of(events) == ["travel_plan", "generate", "reflect", "research_critique", "generate"]
    assert events[-1]["event"] == "complete"


def test_api_entry_cold_start_does_not_import_the_bedrock_client(moto_endpoint: str) -> None:
    """langchain_aws costs ~2 s to import: the buffered entry loads it only when a model runs."""
    env = server_env() | lambda_env(moto_endpoint, f"wf-{uuid.uuid4().hex[:8]}")
    env["WAYFARER_MODEL_PROVIDER"] = "bedrock"  # as deployed
    probe = (
        "import json, sys\n"
        "from wayfarer.lambda_handler import handler\n"
        f"answer = handler(json.load(open({str(EVENTS / 'health.json')!r})), None)\n"
        "print(json.dumps([answer['statusCode'], json.loads(answer['body'])['model'],"
        " 'langchain_aws' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, "bedrock", False]


class LambdaContext:
    """What Lambda passes a handler: only the remaining time matters here."""

    def __init__(self, seconds_left: float) -> None:
        self.deadline = time.time() + seconds_left
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.time()) * 1000)


def test_buffered_invoke_also_stops_before_the_deadline(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in lambda_env(moto_endpoint, f"wf-{uuid.uuid4().hex[:8]}").items():
        monkeypatch.setenv(key, value)
    sys.modules.pop("wayfarer.lambda_handler", None)
    handler = importlib.import_module("wayfarer.lambda_handler").handler
    event = load_event("runs_invoke")
    event["body"] = json.dumps({"thread_id": "evt-deadline", "message": "Visit Rome", "use_hitl": False})

    answer = json.loads(handler(event, LambdaContext(seconds_left=30))["body"])
    assert (answer["status"], answer["next"]) == ("interrupted", ["travel_plan"])

    resume = event | {"body": json.dumps({"thread_id": "evt-deadline", "use_hitl": False})}
    answer = json.loads(handler(resume, LambdaContext(seconds_left=900))["body"])
    assert (answer["status"], answer["next"]) == ("complete", [])


def test_the_lambda_entry_refuses_auth_off_unless_the_stack_allows_it(moto_endpoint: str) -> None:
    env = server_env() | lambda_env(moto_endpoint, f"wf-{uuid.uuid4().hex[:8]}")
    del env["WAYFARER_AUTH_ALLOW_NONE_IN_LAMBDA"]
    result = subprocess.run(
        [sys.executable, "-c", "import wayfarer.lambda_handler"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "WAYFARER_AUTH_MODE=none in Lambda would let anyone on the internet use this app" in result.stderr

    env["WAYFARER_AUTH_MODE"] = "jwt"  # without an issuer and audience it cannot start either
    result = subprocess.run(
        [sys.executable, "-c", "import wayfarer.lambda_handler"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "needs WAYFARER_AUTH_ISSUER and WAYFARER_AUTH_AUDIENCE" in result.stderr
