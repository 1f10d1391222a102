"""``make dev`` (wayfarer.devstack): N app processes on one dynalite and one s3rver, stopped
together and restartable at once; the port probe that guards the start; S3 offload on s3rver."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from tests.conftest import random_text, run_body
from tests.servers import server_env
from tests.sse_clients import nodes_of, stream
from wayfarer.devstack import (
    LOCAL_CREDENTIALS,
    dynalite,
    free_port,
    main,
    port_is_free,
    s3rver,
    wait_for_port,
)
from wayfarer.persistence import ensure_local_resources, make_checkpointer
from wayfarer.settings import Settings

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


# ---------------------------------------------------------------- the port probe


def plain_bind_fails(port: int) -> bool:
    """What the probe did before: bind without SO_REUSEADDR."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first, as uvicorn does at shutdown: TIME_WAIT on its side
        assert client.recv(1) == b""
        client.close()
    assert plain_bind_fails(port)  # the case that made `make dev` refuse to restart for a minute
    assert port_is_free("127.0.0.1", port)


@pytest.mark.parametrize("listening_on", ["127.0.0.1", "0.0.0.0"])
def test_a_port_with_a_live_listener_is_busy(listening_on: str) -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's own socket
        server.bind((listening_on, 0))
        server.listen()
        assert not port_is_free("127.0.0.1", server.getsockname()[1])


def test_a_busy_port_stops_the_stack_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(SystemExit, match=f"Port {port} is already in use on 127.0.0.1"):
            main(["--port", str(port), "--data-dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- the stack as processes


def consecutive_free_ports(count: int) -> int:
    for _ in range(50):
        first = free_port()
        if all(port_is_free("127.0.0.1", first + i) for i in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports found")


def wait_for_text(log: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the stack's output:\n{log.read_text(errors='replace')}")


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process."""
    table: dict[int, tuple[int, str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        table[int(entry.name)] = (int(ppid), state, cmdline)
    return table


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``: pid -> command line."""
    table = process_table()
    found: dict[int, str] = {}
    parents = [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, _, cmdline) in table.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                parents.append(child)
    return found


def still_running(pids: list[int]) -> list[int]:
    table = process_table()
    return [pid for pid in pids if pid in table and table[pid][1] != "Z"]


@contextmanager
def dev_stack(data_dir: Path, port: int, instances: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``make dev`` as a subprocess, until every instance listens; killed if the test fails."""
    command = [
        sys.executable, "-m", "wayfarer.devstack", "--port", str(port), "--instances", str(instances),
        "--data-dir", str(data_dir), "--pace-ms", "0", "--web-dist", str(data_dir / "no-web-build"),
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=server_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        for instance_port in range(port, port + instances):
            wait_for_port(instance_port, timeout=60, process=process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stop(stack: subprocess.Popen[bytes], tree: dict[int, str]) -> None:
    stack.send_signal(signal.SIGTERM)
    assert stack.wait(timeout=60) == 0
    assert still_running(list(tree)) == [], {pid: tree[pid] for pid in still_running(list(tree))}


@needs_proc
def test_two_instances_share_threads_stop_together_and_restart_at_once(tmp_path: Path) -> None:
    port = consecutive_free_ports(2)
    data_dir, log = tmp_path / "data", tmp_path / "devstack.log"
    body = run_body(message="write about visiting Paris")
    thread_id = body["thread_id"]

    with dev_stack(data_dir, port, 2, log) as stack:
        wait_for_text(log, f"http://127.0.0.1:{port + 1}  (pid ")
        tree = descendants(stack.pid)
        apps = [pid for pid, cmdline in tree.items() if "uvicorn" in cmdline]
        assert len(apps) == 2, tree  # two processes, two memories
        assert any("dynalite" in cmdline for cmdline in tree.values())
        assert any("s3rver" in cmdline for cmdline in tree.values())

        first = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        second = httpx.Client(base_url=f"http://127.0.0.1:{port + 1}", timeout=30)
        assert first.get("/health").status_code == 200
        assert second.get("/health").status_code == 200
        created = first.post("/threads", json={"thread_id": thread_id, "metadata": {"by": "first"}})
        assert created.status_code == 201
        assert second.get(f"/threads/{thread_id}").json()["metadata"] == {"by": "first"}
        assert nodes_of(stream(first, body)) == ["planner"]
        assert second.get(f"/threads/{thread_id}/state").json()["next"] == ["travel_plan"]
        assert nodes_of(stream(second, {"thread_id": thread_id})) == ["travel_plan"]

        # Both clients keep a connection open, as a browser tab does: each instance closes it
        # at shutdown, which leaves a TIME_WAIT socket on its port.
        stop(stack, tree)
        first.close()
        second.close()
    assert "Wayfarer stopped." in log.read_text()
    assert plain_bind_fails(port)

    with dev_stack(data_dir, port, 1, log) as stack:
        wait_for_text(
            log, f"Wayfarer is running on http://127.0.0.1:{port}  (API; docs at /docs; Ctrl-C stops)"
        )
        tree = descendants(stack.pid)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            state = client.get(f"/threads/{thread_id}/state").json()  # data on disk
        assert state["next"] == ["generate"]
        stop(stack, tree)


# ---------------------------------------------------------------- S3 offload on s3rver


async def test_a_500_kb_checkpoint_offloads_to_s3rver_and_survives_its_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)  # s3rver knows only its own key id
    # boto3's default session keeps the credentials it found first (another test's).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    draft = random_text(700_000)  # ~530 KB once compressed
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"draft": draft}
    checkpoint["channel_versions"] = {"draft": "1"}
    config = {"configurable": {"thread_id": f"t-{uuid.uuid4().hex[:8]}", "checkpoint_ns": ""}}

    with dynalite(tmp_path / "dynalite") as dynamodb_endpoint:
        with s3rver(tmp_path / "s3rver") as s3_endpoint:
            settings = Settings(
                dynamodb_endpoint_url=dynamodb_endpoint,
                s3_endpoint_url=s3_endpoint,
                offload_bucket="wayfarer-offload",
            )
            ensure_local_resources(settings)
            saved = await make_checkpointer(settings).aput(config, checkpoint, {"step": -1}, {"draft": "1"})
            s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
            objects = s3.list_objects_v2(Bucket="wayfarer-offload").get("Contents", [])
        assert [o["Size"] > 500_000 for o in objects] == [True]

        with s3rver(tmp_path / "s3rver") as s3_endpoint:  # a new server on the same files
            settings = settings.model_copy(update={"s3_endpoint_url": s3_endpoint})
            loaded = await make_checkpointer(settings).aget_tuple(saved)
    assert loaded is not None
    assert loaded.checkpoint["channel_values"]["draft"] == draft
