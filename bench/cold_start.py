"""Cold start of both Lambda entries on this machine: process start to first byte, and where
the import time goes.

    make bench-cold        # or: uv run python -m bench.cold_start [--repeat 5]

- StreamFunction: ``functions/agent/run.sh`` (uvicorn) until ``GET /health`` answers, which
  is what the Lambda Web Adapter's readiness check waits for.
- ApiFunction: a new Python process imports ``wayfarer.lambda_handler`` and answers
  ``events/health.json`` through Mangum.

Both run against a local moto server (in AWS the table already exists, so the one
``CreateTable`` the local bootstrap sends is not part of a real cold start).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.servers import moto_server, server_env
from wayfarer.devstack import REPO_ROOT, free_port, local_credentials

API_PROBE = """
import json, sys, time
from wayfarer.lambda_handler import handler
answer = handler(json.load(open(sys.argv[1])), None)
assert answer["statusCode"] == 200, answer
print("langchain_aws imported:", "langchain_aws" in sys.modules, file=sys.stderr)
"""
PACKAGES = (
    "fastapi", "starlette", "pydantic", "langgraph", "langchain_core", "langgraph_checkpoint_aws",
    "boto3", "botocore", "aws_lambda_powertools", "mangum", "uvicorn", "langchain_aws", "numpy", "bm25s",
    "langsmith", "langgraph_sdk", "urllib3", "httpx", "tenacity", "pydantic_settings", "opentelemetry",
)  # fmt: skip


def lambda_env(endpoint: str) -> dict[str, str]:
    return (
        server_env(
            model_provider="bedrock",  # as in Lambda: the provider is built, Bedrock is not called
            dynamodb_endpoint_url=endpoint,
            table_name=f"cold-{uuid.uuid4().hex[:8]}",
        )
        | {
            "AWS_LAMBDA_FUNCTION_NAME": "wayfarer-bench",
            "LAMBDA_TASK_ROOT": str(REPO_ROOT / "functions/agent"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
    )


def stream_entry_ms(env: dict[str, str]) -> float:
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(REPO_ROOT / "functions/agent/run.sh")],
        env=env | {"PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return (time.perf_counter() - start) * 1000
            except httpx.TransportError:
                time.sleep(0.005)
            if process.poll() is not None:
                raise RuntimeError("run.sh exited before /health answered")
    finally:
        process.terminate()
        process.wait()


def api_entry_ms(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", API_PROBE, str(REPO_ROOT / "events/health.json")],
        env=env,
        check=True,
        capture_output=True,
    )
    return (time.perf_counter() - start) * 1000


def import_breakdown(env: dict[str, str]) -> dict[str, float]:
    """Import ms spent in each top-level package's own modules (``python -X importtime``
    self times, summed), so nested imports are not counted twice."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import wayfarer.lambda_handler"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *([\w.]+)", line)
        if match:
            package = match[2].split(".")[0]
            package = package if package in PACKAGES or package == "wayfarer" else "(other)"
            totals[package] = totals.get(package, 0.0) + int(match[1]) / 1000
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    local_credentials()
    with moto_server() as endpoint:
        env = lambda_env(endpoint)
        stream_ms = [stream_entry_ms(env) for _ in range(args.repeat)]
        api_ms = [api_entry_ms(env) for _ in range(args.repeat)]
        imports = import_breakdown(env)
    print(f"\n### Cold start, process start to first byte ({args.repeat} runs, this machine)\n")
    print("| entry | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, runs in (("StreamFunction (run.sh → uvicorn → GET /health)", stream_ms),
                       ("ApiFunction (import lambda_handler → Mangum → health event)", api_ms)):  # fmt: skip
        print(f"| {name} | {statistics.median(runs):.0f} | {min(runs):.0f} | {max(runs):.0f} |")
    print("\n### Import time by package (ms in its own modules; total = the import of lambda_handler)\n")
    print("| package | ms |")
    print("|---|---:|")
    for name, ms in sorted(imports.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {ms:.0f} |")
    print(f"| **total** | {sum(imports.values()):.0f} |")
    absent = sorted(set(PACKAGES) - set(imports))
    print(f"\nnot imported at cold start: {', '.join(absent)}")


if __name__ == "__main__":
    main()
