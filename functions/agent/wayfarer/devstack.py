"""``make dev``: dynalite (DynamoDB on LevelDB, data on disk) + the app, on this machine.

    python -m wayfarer.devstack [--port 2024] [--data-dir .data/dynalite] [--pace-ms 20]

Threads survive a restart because dynalite keeps its data in ``--data-dir``. Ctrl-C (or
SIGTERM) stops the app and dynalite."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import uvicorn

from wayfarer.api import create_app
from wayfarer.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


def dynalite_command(port: int, data_dir: Path) -> list[str]:
    binary = os.environ.get("WAYFARER_DYNALITE_BIN") or str(REPO_ROOT / "node_modules/.bin/dynalite")
    if not Path(binary).exists() and not shutil.which(binary):
        raise SystemExit(f"dynalite not found at {binary}: run `npm ci` in {REPO_ROOT} (make dev does).")
    return [binary, "--port", str(port), "--path", str(data_dir)]


@contextmanager
def dynalite(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """A dynalite server for the block; yields its endpoint URL."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(dynalite_command(port, data_dir), stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def local_credentials() -> None:
    """boto3 signs every request; a local server accepts any key."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


async def serve(settings: Settings, host: str, port: int) -> None:
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.05)
    if server.started:
        where = "UI and API" if settings.web_dist and settings.web_dist.is_dir() else "API"
        print(
            f"Wayfarer is running on http://{host}:{port}  ({where}; docs at /docs; Ctrl-C stops)", flush=True
        )
    await task


def stop_on_signal(signum: int, frame: object) -> None:
    """SIGTERM stops like Ctrl-C, so dynalite is always shut down with the app."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2024)
    parser.add_argument("--dynalite-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".data/dynalite")
    parser.add_argument("--web-dist", type=Path, default=REPO_ROOT / "web/dist")
    parser.add_argument("--pace-ms", type=float, default=None, help="offline model pace per chunk")
    args = parser.parse_args(argv)

    if not port_is_free(args.host, args.port):
        raise SystemExit(
            f"Port {args.port} on {args.host} is already in use (another `make dev`?). "
            f"Stop that server, or pick another port: make dev PORT={args.port + 1}"
        )
    local_credentials()
    signal.signal(signal.SIGTERM, stop_on_signal)
    with dynalite(args.data_dir, args.dynalite_port or None) as endpoint:
        overrides: dict[str, object] = {"dynamodb_endpoint_url": endpoint, "web_dist": args.web_dist}
        if args.pace_ms is not None:
            overrides["offline_pace_ms"] = args.pace_ms
        settings = Settings(**overrides)  # type: ignore[arg-type]
        with suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, args.host, args.port))
    print("Wayfarer stopped.", file=sys.stderr)


if __name__ == "__main__":
    main()
