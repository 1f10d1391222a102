"""Cold start of both Lambda entries on this machine: process start to first byte, and where
the import time goes; side by side with another commit's code in the same run.

    make bench-cold        # or: uv run python -m bench.cold_start [--repeat 5] [--vs REF]

With ``--vs REF`` (``make bench-cold`` passes the commit before issue 13's start-up work) the
functions/agent of REF is taken from git (``git archive``) into a temporary directory and both
trees are started in turn, A B A B, on the same interpreter and dependencies, so the machine's
drift is shared. Every module is byte-compiled first (``compileall``, timestamp-checked .pyc
for this interpreter: the virtual environment's site-packages and both trees), as the layer
ships its modules compiled; Python then only reads bytecode, as in Lambda.

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
import sysconfig
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from io import BytesIO
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


def lambda_env(endpoint: str, task_root: Path = REPO_ROOT / "functions/agent") -> dict[str, str]:
    return (
        server_env(
            model_provider="bedrock",  # as in Lambda: the provider is built, Bedrock is not called
            # as deployed: tokens checked against Cognito's keys (fetched on the first request
            # that carries a token, so not on this path)
            auth_mode="jwt",
            auth_issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench",
            auth_audience="bench-client",
            dynamodb_endpoint_url=endpoint,
            table_name=f"cold-{uuid.uuid4().hex[:8]}",
        )
        | {
            "AWS_LAMBDA_FUNCTION_NAME": "wayfarer-bench",
            "LAMBDA_TASK_ROOT": str(task_root),
            "PYTHONPATH": str(task_root),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
    )


def stream_entry_ms(env: dict[str, str]) -> float:
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(env["LAMBDA_TASK_ROOT"]) / "run.sh")],
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


def compile_bytecode(*trees: Path) -> None:
    """Bytecode for every module the entries can import, as the layer ships it."""
    site = Path(sysconfig.get_paths()["purelib"])
    for tree in (site, *trees):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", str(tree)],
            check=True,
            stdout=subprocess.DEVNULL,
        )


@contextmanager
def tree_at(ref: str) -> Iterator[Path]:
    """functions/agent as it is at git ``ref``, in a temporary directory."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref, "functions/agent"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="cold-vs-") as directory:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Path(directory) / "functions/agent"


Entry = Callable[[dict[str, str]], float]
ENTRIES: tuple[tuple[str, Entry], ...] = (
    ("StreamFunction (run.sh → uvicorn → GET /health)", stream_entry_ms),
    ("ApiFunction (import lambda_handler → Mangum → health event)", api_entry_ms),
)


def measure(envs: dict[str, dict[str, str]], repeat: int) -> dict[tuple[str, str], list[float]]:
    """ms per (entry, tree), the trees taking turns in every round."""
    runs: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for entry, probe in ENTRIES:
            for tree, env in envs.items():
                runs.setdefault((entry, tree), []).append(probe(env))
    return runs


def print_entries(runs: dict[tuple[str, str], list[float]], trees: list[str], repeat: int) -> None:
    print(f"\n### Cold start, process start to first byte ({repeat} runs each, this machine)\n")
    header = " | ".join(f"{tree}: median (min–max) ms" for tree in trees)
    print(f"| entry | {header} |" + (" ratio |" if len(trees) == 2 else ""))
    print("|---|" + "---:|" * (len(trees) + (len(trees) == 2)))
    for entry, _ in ENTRIES:
        cells = []
        for tree in trees:
            ms = runs[(entry, tree)]
            cells.append(f"{statistics.median(ms):.0f} ({min(ms):.0f}–{max(ms):.0f})")
        ratio = ""
        if len(trees) == 2:
            a, b = (statistics.median(runs[(entry, tree)]) for tree in trees)
            ratio = f" {a / b:.2f} |"
        print(f"| {entry} | {' | '.join(cells)} |{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vs", metavar="REF", help="also start functions/agent as it is at this git ref")
    args = parser.parse_args()
    local_credentials()
    here = REPO_ROOT / "functions/agent"
    other_tree = tree_at(args.vs) if args.vs else nullcontext()
    with moto_server() as endpoint, other_tree as there:
        trees = {"this tree": here} | ({args.vs: there} if there else {})
        compile_bytecode(*trees.values())
        envs = {name: lambda_env(endpoint, root) for name, root in trees.items()}
        runs = measure(envs, args.repeat)
        imports = import_breakdown(envs["this tree"])
    print_entries(runs, list(trees), args.repeat)
    print("\n### Import time by package, this tree")
    print("(ms in its own modules; total = the import of lambda_handler)\n")
    print("| package | ms |")
    print("|---|---:|")
    for name, ms in sorted(imports.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {ms:.0f} |")
    print(f"| **total** | {sum(imports.values()):.0f} |")
    absent = sorted(set(PACKAGES) - set(imports))
    print(f"\nnot imported at cold start: {', '.join(absent)}")


if __name__ == "__main__":
    main()
