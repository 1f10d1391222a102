"""Real servers for tests: moto in server mode, dynalite, uvicorn (in a thread or a process)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from wayfarer.devstack import REPO_ROOT, free_port, wait_for_port


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's DynamoDB + S3 over HTTP, in its own process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class ThreadedServer:
    """uvicorn serving ``app`` on a free loopback port from a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def server_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFARER_")}
    env["PYTHONPATH"] = str(REPO_ROOT / "functions/agent")
    env.update({f"WAYFARER_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def serving(
    command: list[str], env: dict[str, str], log: Path, port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process on ``port`` (output appended to ``log``), wait until it listens,
    stop it afterwards unless the test already did."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60, process=process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


@contextmanager
def server_process(log: Path, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The app in a fresh Python process, as uvicorn runs it in Lambda (a new invocation)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "wayfarer.api:create_app", "--port", str(port)]
    with serving(command, server_env(**settings), log, port) as process:
        yield process, f"http://127.0.0.1:{port}"
