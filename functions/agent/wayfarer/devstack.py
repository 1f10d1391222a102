"""``make dev``: the app on this machine, with DynamoDB and S3 servers that keep data on disk.

    python -m wayfarer.devstack [--port 2024] [--instances 1] [--data-dir .data] [--pace-ms 20]

dynalite (DynamoDB on LevelDB) and s3rver (S3 on the file system, for checkpoints over
350 KB) keep their data under ``--data-dir``, so threads survive a restart. ``--instances N``
runs N app processes on ports PORT, PORT+1, ... that share both servers: separate memory, as
in Lambda, where any request may land on a different instance. Ctrl-C (or SIGTERM) stops the
app processes first, then the servers."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from wayfarer.local_cognito import DEMO_USERS, LocalPool, demo_pool
from wayfarer.persistence import ensure_local_resources
from wayfarer.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # functions/agent, what imports `wayfarer`
OFFLOAD_BUCKET = "wayfarer-offload"
# s3rver knows one key pair and checks the key id (not the SigV4 signature); dynalite and moto
# accept any. The dev stack talks only to these local servers.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}
# An app process gets this long to close open streams at shutdown, then drains its runs
# (RunService.drain: up to 30 s, to the next node boundary) before it is killed.
GRACEFUL_SHUTDOWN_SECONDS = 5
STOP_TIMEOUT_SECONDS = 40.0

# s3rver through its documented ``callback()``, behind one rewrite. Its routes need a non-empty
# segment between slashes, but the checkpointer's keys have an empty one for the root
# namespace (``<thread>/checkpoints//<id>``): plain s3rver answers 404. "//" -> "/%2F" keeps the
# key (the router decodes the segment back) and lets the route match.
S3RVER_SERVE = """
const http = require('http');
const [modulePath, directory, address, port] = process.argv.slice(1);
const S3rver = require(modulePath);
const handle = new S3rver({ directory, silent: true }).callback();
http.createServer((req, res) => {
  const query = req.url.indexOf('?');
  const path = query < 0 ? req.url : req.url.slice(0, query);
  req.url = path.replace(/\\/\\//g, '/%2F') + (query < 0 ? '' : req.url.slice(query));
  handle(req, res);
}).listen(Number(port), address);
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def loopback_for(host: str) -> str:
    """Where to connect to reach a server bound to ``host``."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def port_is_free(host: str, port: int) -> bool:
    """True when a server can listen on ``host:port`` now.

    The bind probe sets SO_REUSEADDR as uvicorn's own socket does, so the TIME_WAIT
    connections a server leaves behind for a minute after it stops do not count (a restart
    works at once), while a socket still listening there makes the bind fail. The connect
    probe catches a listener the bind would not meet (on BSD/macOS, one on the wildcard
    address while we bind a specific one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    try:
        with socket.create_connection((loopback_for(host), port), timeout=0.5):
            return False
    except OSError:
        return True


def wait_for_port(
    port: int,
    timeout: float = 30.0,
    process: subprocess.Popen[bytes] | None = None,
    host: str = "127.0.0.1",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with code {process.returncode}")
        try:
            with socket.create_connection((loopback_for(host), port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout:.0f} s")


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    """SIGTERM to all, then SIGKILL to those left after ``timeout`` or at a second Ctrl-C."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        for process in processes:
            if process.poll() is None:
                process.kill()
        for process in processes:
            process.wait()


def node_tool(name: str) -> Path:
    """A package of the root package.json, installed by ``npm ci`` (``make dev`` runs it)."""
    path = REPO_ROOT / "node_modules" / name
    if not path.exists():
        raise SystemExit(f"{name} not found at {path}: run `npm ci` in {REPO_ROOT} (make dev does).")
    return path


def dynalite_command(port: int, data_dir: Path) -> list[str]:
    binary = os.environ.get("WAYFARER_DYNALITE_BIN") or str(node_tool(".bin/dynalite"))
    if not Path(binary).exists() and not shutil.which(binary):
        raise SystemExit(f"dynalite not found at {binary}: run `npm ci` in {REPO_ROOT} (make dev does).")
    return [binary, "--port", str(port), "--path", str(data_dir)]


def s3rver_command(port: int, data_dir: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node not found on PATH: the local S3 server (s3rver) needs Node 20.")
    return [node, "-e", S3RVER_SERVE, str(node_tool("s3rver")), str(data_dir), "127.0.0.1", str(port)]


@contextmanager
def local_server(command: list[str], port: int, quiet: bool = False) -> Iterator[str]:
    """A server process for the block; yields its endpoint URL. Its own process group keeps
    a terminal's Ctrl-C from reaching it, so it outlives the app processes that still use it
    while they stop. ``quiet``: its stderr too is dropped (moto logs every request there)."""
    stderr = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, process_group=0)
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_processes([process])


@contextmanager
def dynalite(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """A dynalite server (DynamoDB, data in ``data_dir``) for the block; yields its endpoint."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    with local_server(dynalite_command(port, data_dir), port) as endpoint:
        yield endpoint


@contextmanager
def s3rver(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """An s3rver server (S3, objects as files in ``data_dir``) for the block; yields its
    endpoint. Clients must sign with ``LOCAL_CREDENTIALS``; path-style addressing, which
    boto3 picks by itself for an ``endpoint_url``."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    with local_server(s3rver_command(port, data_dir), port) as endpoint:
        yield endpoint


def moto_command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """moto in server mode (DynamoDB, S3, cognito-idp; in memory) for the block; its endpoint."""
    port = port or free_port()
    with local_server(moto_command(port), port, quiet=True) as endpoint:
        yield endpoint


def sign_in_help(pool: LocalPool, url: str) -> str:
    """What ``make dev AUTH=cognito`` prints: who can sign in, and how curl gets a token."""
    users = "\n".join(f"    {email}  /  {password}" for email, password in DEMO_USERS)
    email, password = DEMO_USERS[0]
    return (
        f"Sign-in is on (a local Cognito pool on moto, {pool.endpoint}). Users:\n{users}\n"
        "A token for curl:\n"
        f"  TOKEN=$(uv run --frozen python -m wayfarer.local_cognito {pool.endpoint} {email} '{password}')\n"
        f'  curl -N -X POST {url}/runs/stream -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"message\":\"write about visiting Paris\"}'"
    )


def local_credentials() -> None:
    """boto3 signs every request; the local servers accept ``LOCAL_CREDENTIALS``. A profile or
    session token from the shell would override or spoil them."""
    os.environ.update(LOCAL_CREDENTIALS)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def instance_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "wayfarer.api:create_app",
        "--host", host, "--port", str(port), "--log-level", "warning",
        "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS),
    ]  # fmt: skip


def instance_env() -> dict[str, str]:
    """This process's environment (settings included) with the package importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    return env


@contextmanager
def app_instances(host: str, ports: list[int]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One uvicorn process per port, all started before any is waited for; stopped together
    (SIGTERM to all, then a shared deadline, then SIGKILL) when the block ends."""
    instances: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            instances.append(subprocess.Popen(instance_command(host, port), env=instance_env()))
        for port, process in zip(ports, instances, strict=True):
            try:
                wait_for_port(port, timeout=60, process=process, host=host)
            except (RuntimeError, TimeoutError) as exc:
                raise SystemExit(
                    f"The app on port {port} did not start ({exc}); its output is above."
                ) from exc
        yield instances
    finally:
        stop_processes(instances, timeout=STOP_TIMEOUT_SECONDS)


def announce(host: str, ports: list[int], instances: list[subprocess.Popen[bytes]], web: bool) -> None:
    where = "UI and API" if web else "API"
    if len(ports) == 1:
        print(f"Wayfarer is running on http://{host}:{ports[0]}  ({where}; docs at /docs; Ctrl-C stops)")
    else:
        print(f"Wayfarer is running as {len(ports)} processes sharing one dynalite and one s3rver:")
        for port, process in zip(ports, instances, strict=True):
            print(f"  http://{host}:{port}  (pid {process.pid})")
        print(f"({where} on each; docs at /docs; Ctrl-C stops them all)")
    sys.stdout.flush()


def watch(ports: list[int], instances: list[subprocess.Popen[bytes]]) -> None:
    """Until every instance has exited (or Ctrl-C); say when one exits on its own, so a
    user who kills one instance sees the others carry on."""
    running = dict(zip(ports, instances, strict=True))
    while running:
        time.sleep(0.2)
        for port, process in list(running.items()):
            if process.poll() is not None:
                del running[port]
                others = f"{len(running)} still running" if running else "none left"
                print(f"The app on port {port} exited (code {process.returncode}); {others}.", flush=True)


def stop_on_signal(signum: int, frame: object) -> None:
    """SIGTERM stops like Ctrl-C, so the servers are always shut down with the app."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2024, help="the first instance's port")
    parser.add_argument("--instances", type=int, default=1, help="app processes, on PORT, PORT+1, ...")
    parser.add_argument("--dynalite-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--s3rver-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO_ROOT / ".data", help="holds dynalite/ and s3rver/"
    )
    parser.add_argument("--web-dist", type=Path, default=REPO_ROOT / "web/dist")
    parser.add_argument("--pace-ms", type=float, default=None, help="offline model pace per chunk")
    parser.add_argument(
        "--auth",
        choices=["none", "cognito"],
        default="none",
        help="cognito: sign-in against a local Cognito pool (moto), the app in jwt mode",
    )
    args = parser.parse_args(argv)
    if args.instances < 1:
        parser.error("--instances must be 1 or more")

    ports = [args.port + i for i in range(args.instances)]
    busy = [port for port in ports if not port_is_free(args.host, port)]
    if busy:
        ports_are = f"Port {busy[0]} is" if len(busy) == 1 else f"Ports {', '.join(map(str, busy))} are"
        raise SystemExit(
            f"{ports_are} already in use on {args.host} (another `make dev`?). "
            f"Stop that server, or pick another port: make dev PORT={max(busy) + 1}"
        )
    local_credentials()
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        with (
            dynalite(args.data_dir / "dynalite", args.dynalite_port or None) as dynamodb_endpoint,
            s3rver(args.data_dir / "s3rver", args.s3rver_port or None) as s3_endpoint,
            ExitStack() as optional,
        ):
            pool = demo_pool(optional.enter_context(moto_server())) if args.auth == "cognito" else None
            if pool is not None:
                os.environ.update(pool.app_settings())
            # The app processes read the same settings from the environment they inherit.
            os.environ.update(
                WAYFARER_DYNAMODB_ENDPOINT_URL=dynamodb_endpoint,
                WAYFARER_S3_ENDPOINT_URL=s3_endpoint,
                WAYFARER_OFFLOAD_BUCKET=OFFLOAD_BUCKET,
                WAYFARER_WEB_DIST=str(args.web_dist),
            )
            if args.pace_ms is not None:
                os.environ["WAYFARER_OFFLINE_PACE_MS"] = str(args.pace_ms)
            settings = Settings()
            ensure_local_resources(settings)  # once, before the instances race to do it
            with app_instances(args.host, ports) as instances:
                announce(args.host, ports, instances, web=args.web_dist.is_dir())
                if pool is not None:
                    print(sign_in_help(pool, f"http://{args.host}:{ports[0]}"), flush=True)
                watch(ports, instances)
            raise SystemExit("Every app process exited; the servers are stopped.")
    except KeyboardInterrupt:
        pass
    print("Wayfarer stopped.", file=sys.stderr)


if __name__ == "__main__":
    main()
