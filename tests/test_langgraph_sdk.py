"""LangGraph's own Python clients, unchanged, against Wayfarer: ``langgraph_sdk`` and
``RemoteGraph`` over HTTP to the app in its own process (uvicorn) on a DynamoDB server, with
sign-in off and on (a bearer token from moto's cognito-idp). Only the model is offline."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.pregel.remote import RemoteGraph
from langgraph.types import Command
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.instances import instances
from tests.servers import server_process
from wayfarer.graph.builder import NODES
from wayfarer.local_cognito import create_pool

TASK = "Write about visiting Paris"
USER = ("sdk@example.com", "Sdk-password-2024!")


@dataclass(frozen=True)
class Server:
    url: str
    headers: dict[str, str]
    log: Path

    def client(self) -> LangGraphClient:
        return get_client(url=self.url, headers=self.headers)

    def remote(self) -> RemoteGraph:
        return RemoteGraph("travel_writer", url=self.url, headers=self.headers)


@pytest.fixture(scope="module", params=["auth-off", "auth-on"])
def server(
    request: pytest.FixtureRequest, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The app in its own process; with auth on, every call carries a user's access token."""
    log = tmp_path_factory.mktemp("sdk") / "app.log"
    settings = {
        "dynamodb_endpoint_url": moto_endpoint,
        "table_name": f"wf-sdk-{time.time_ns()}",
        "offline_pace_ms": "10",  # a node takes a few hundred ms: long enough to cancel mid-node
    }
    headers: dict[str, str] = {}
    if request.param == "auth-on":
        pool = create_pool(moto_endpoint, name=f"sdk-{time.time_ns()}")
        pool.add_user(*USER)
        settings.update({k.removeprefix("WAYFARER_").lower(): v for k, v in pool.app_settings().items()})
        headers = {"Authorization": f"Bearer {pool.sign_in(*USER)['AccessToken']}"}
    with server_process(log, **settings) as (_, url):
        yield Server(url, headers, log)


async def parts(stream: AsyncIterator[Any]) -> list[tuple[str, Any]]:
    return [(part.event, part.data) async for part in stream]


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [event for event, _ in events]


async def new_thread(client: LangGraphClient, **metadata: Any) -> str:
    thread = await client.threads.create(metadata=metadata or None)
    thread_id: str = thread["thread_id"]
    return thread_id


async def test_the_assistant_and_its_graph(server: Server) -> None:
    client = server.client()
    assistants = await client.assistants.search()
    assert [a["assistant_id"] for a in assistants] == ["travel_writer"]
    assistant = await client.assistants.get("travel_writer")
    assert assistant["graph_id"] == "travel_writer"
    assert assistant["context"] == {"use_hitl": True, "max_revisions": 2}
    graph = await client.assistants.get_graph("travel_writer")
    assert {node["id"] for node in graph["nodes"]} >= set(NODES)
    schemas = await client.assistants.get_schemas("travel_writer")
    assert "task" in schemas["input_schema"]["properties"]
    assert set(schemas["context_schema"]["properties"]) == {"use_hitl", "max_revisions"}
    with pytest.raises(NotFoundError):
        await client.assistants.get("someone_else")
    assert await client.assistants.search(graph_id="another_graph") == []


async def test_threads_create_search_patch_delete(server: Server) -> None:
    client = server.client()
    tag = uuid.uuid4().hex
    thread_id = await new_thread(client, tag=tag, kind="sdk")
    await new_thread(client, tag="other")
    found = await client.threads.search(metadata={"tag": tag})
    assert [t["thread_id"] for t in found] == [thread_id]
    assert found[0]["status"] == "idle"
    again = await client.threads.create(thread_id=thread_id, if_exists="do_nothing")
    assert again["thread_id"] == thread_id
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread_id)
    patched = await client.threads.update(thread_id, metadata={"kind": "patched", "more": 1})
    assert patched["metadata"] == {"tag": tag, "kind": "patched", "more": 1}
    assert (await client.threads.get(thread_id))["metadata"]["kind"] == "patched"
    await client.threads.delete(thread_id)
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)
    assert await client.threads.search(metadata={"tag": tag}) == []


async def test_a_stream_pauses_as_an_interrupt_and_a_command_resumes_with_feedback(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    events = await parts(
        client.runs.stream(
            thread_id,
            "travel_writer",
            input={"task": TASK},
            stream_mode=["updates", "values", "messages-tuple"],
        )
    )
    assert events[0][0] == "metadata" and uuid.UUID(events[0][1]["run_id"])
    messages = [data for event, data in events if event == "messages"]
    assert messages and all(meta["langgraph_node"] == "planner" for _, meta in messages)
    tokens = [(chunk, meta) for chunk, meta in messages if chunk["type"] == "AIMessageChunk"]
    # The model's chunks, then the node's whole message (as LangGraph Server sends them).
    assert [m["type"] for m, _ in messages] == ["AIMessageChunk"] * len(tokens) + ["ai"]
    updates = [data for event, data in events if event == "updates"]
    plan = updates[0]["planner"]["plan"]
    assert "".join(chunk["content"] for chunk, _ in tokens) == plan
    assert updates[-1]["__interrupt__"][0]["value"]["next"] == ["travel_plan"]
    last_event, last_values = events[-1]
    assert last_event == "values" and last_values["plan"] == plan
    assert last_values["__interrupt__"][0]["value"]["next"] == ["travel_plan"]

    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["travel_plan"] and state["values"]["plan"] == plan
    # The state shows the same pause, by the same id, as the stream did.
    assert state["interrupts"] == state["tasks"][0]["interrupts"] == last_values["__interrupt__"]
    assert (await client.threads.get(thread_id))["status"] == "interrupted"

    resumed = await parts(
        client.runs.stream(
            thread_id, "travel_writer", command={"resume": "focus on food"}, stream_mode="updates"
        )
    )
    travel_plan = next(
        data["travel_plan"] for event, data in resumed if event == "updates" and "travel_plan" in data
    )
    assert any("food" in query.lower() for query in travel_plan["queries"])
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["generate"] and state["values"]["feedback"] is None
    assert state["interrupts"][0]["id"] != last_values["__interrupt__"][0]["id"]  # one id per pause
    assert {"type": "human", "content": "focus on food"}.items() <= state["values"]["messages"][-2].items()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("values", {"values"}),
        ("updates", {"updates"}),
        ("messages-tuple", {"messages"}),
        ("messages", {"messages/metadata", "messages/partial", "messages/complete"}),
        ("debug", {"debug"}),
        ("tasks", {"tasks"}),
        ("checkpoints", {"checkpoints"}),
        ("custom", set()),
    ],
)
async def test_each_stream_mode(server: Server, mode: str, expected: set[str]) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    events = await parts(
        client.runs.stream(thread_id, "travel_writer", input={"task": TASK}, stream_mode=mode)
    )
    assert names(events)[0] == "metadata"
    assert set(names(events[1:])) == expected
    if mode == "checkpoints":  # the thread is named by its id, never by its storage key
        assert {data["config"]["configurable"]["thread_id"] for _, data in events[1:]} == {thread_id}


async def test_state_update_history_and_checkpoints(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    await client.runs.wait(thread_id, "travel_writer", input={"task": TASK})
    history = await client.threads.get_history(thread_id, limit=5)
    assert [h["next"] for h in history[:2]] == [["travel_plan"], ["planner"]]
    older = history[1]["checkpoint"]["checkpoint_id"]
    at = await client.threads.get_state(thread_id, checkpoint_id=older)
    assert at["next"] == ["planner"] and at["checkpoint"]["checkpoint_id"] == older
    before = await client.threads.get_history(
        thread_id, limit=5, before={"checkpoint_id": history[0]["checkpoint"]["checkpoint_id"]}
    )
    assert before[0]["checkpoint"]["checkpoint_id"] == older

    await client.threads.update_state(thread_id, {"feedback": "focus on food", "plan": "My own plan"})
    state = await client.threads.get_state(thread_id)
    assert state["values"]["plan"] == "My own plan" and state["values"]["feedback"] == "focus on food"
    values = await client.runs.wait(thread_id, "travel_writer", input=None)
    assert any("food" in query.lower() for query in values["queries"])
    assert values["__interrupt__"][0]["value"]["next"] == ["generate"]
    with pytest.raises(UnprocessableEntityError):
        await client.threads.update_state(thread_id, {"task": "Something else"})


async def test_wait_create_join_get_list(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    values = await client.runs.wait(thread_id, "travel_writer", input={"task": TASK})
    assert values["plan"] and values["__interrupt__"]
    run = await client.runs.create(thread_id, "travel_writer", input=None, metadata={"step": 2})
    assert run["status"] in ("pending", "running") and run["metadata"] == {"step": 2}
    joined = await client.runs.join(thread_id, run["run_id"])
    assert joined["queries"] and joined["__interrupt__"][0]["value"]["next"] == ["generate"]
    got = await client.runs.get(thread_id, run["run_id"])
    assert got["status"] == "success" and got["assistant_id"] == "travel_writer"
    listed = await client.runs.list(thread_id)
    assert listed[0]["run_id"] == run["run_id"] and len(listed) == 2


async def test_cancel_mid_node_then_resume(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    run = await client.runs.create(
        thread_id, "travel_writer", input={"task": TASK}, context={"use_hitl": False}
    )
    async for part in client.runs.join_stream(thread_id, run["run_id"]):
        if part.event == "metadata":
            break
    await client.runs.cancel(thread_id, run["run_id"], wait=True)
    assert (await client.runs.get(thread_id, run["run_id"]))["status"] == "interrupted"
    state = await client.threads.get_state(thread_id)
    assert state["next"], "the cancelled node is redone on resume"
    values = await client.runs.wait(
        thread_id, "travel_writer", input=None, interrupt_after=[state["next"][0]]
    )
    assert values["plan"]


async def test_multitask_reject_is_409_and_interrupt_takes_over(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    first = await client.runs.create(
        thread_id, "travel_writer", input={"task": TASK}, context={"use_hitl": False}
    )
    with pytest.raises(ConflictError):
        await client.runs.create(thread_id, "travel_writer", input=None, multitask_strategy="reject")
    second = await client.runs.create(
        thread_id,
        "travel_writer",
        input=None,
        multitask_strategy="interrupt",
        interrupt_after=["planner", "travel_plan"],
    )
    await client.runs.join(thread_id, second["run_id"])
    assert (await client.runs.get(thread_id, first["run_id"]))["status"] == "interrupted"
    assert (await client.runs.get(thread_id, second["run_id"]))["status"] == "success"


async def test_a_cut_stream_joins_again_with_last_event_id(server: Server) -> None:
    """The client reads a few events with their ids, leaves, and joins from the last id it has:
    it gets every later event once, as a full replay from the start has them."""
    client = server.client()
    thread_id = await new_thread(client)
    body = {
        "assistant_id": "travel_writer",
        "input": {"task": TASK},
        "stream_mode": ["updates", "messages-tuple"],
        "stream_resumable": True,
    }
    seen: list[tuple[str, str]] = []
    http = httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30)
    async with http, http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        assert response.headers["content-location"].startswith(f"/threads/{thread_id}/runs/")
        location = response.headers["location"]
        event_id = ""
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
                seen.append((event_id, ""))
            if len(seen) == 4:
                break
    run_id = location.split("/")[4]
    rest = [(p.id, p.event) async for p in client.runs.join_stream(thread_id, run_id, last_event_id=event_id)]
    everything = [
        (p.id, p.event) async for p in client.runs.join_stream(thread_id, run_id, last_event_id="0")
    ]
    assert [i for i, _ in everything[:4]] == [i for i, _ in seen]
    assert rest == everything[4:] and rest
    assert ("updates" in {e for _, e in rest}) and len({i for i, _ in everything}) == len(everything)


async def test_unsupported_or_wrong_fields_are_422_naming_them(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as http:
        for field, value in [
            ("stream_mode", "events"),
            ("multitask_strategy", "rollback"),
            ("webhook", "https://example.com/hook"),
            ("context", {"temperature": 1}),
            ("interrupt_after", ["nowhere"]),
            ("config", {"configurable": {"thread_id": "another"}}),
        ]:
            answer = await http.post(
                f"/threads/{thread_id}/runs/wait",
                json={"assistant_id": "travel_writer", "input": {"task": TASK}, field: value},
            )
            assert answer.status_code == 422, (field, answer.text)
            assert field in str(answer.json()["detail"]), (field, answer.text)
        answer = await http.post(
            f"/threads/{thread_id}/runs/wait", json={"assistant_id": "nobody", "input": {"task": TASK}}
        )
        assert answer.status_code == 404 and "travel_writer" in answer.json()["detail"]
        missing = await http.post(
            f"/threads/{uuid.uuid4()}/runs/wait",
            json={"assistant_id": "travel_writer", "input": {"task": TASK}},
        )
        assert missing.status_code == 404 and "if_not_exists" in missing.json()["detail"]
    assert (await client.threads.get(thread_id))["status"] == "idle"  # nothing ran, nothing lost


async def test_stateless_runs_and_if_not_exists(server: Server) -> None:
    client = server.client()
    values = await client.runs.wait(None, "travel_writer", input={"task": "Write about Lisbon"})
    assert "Lisbon" in values["plan"] and values["__interrupt__"]
    events = await parts(
        client.runs.stream(None, "travel_writer", input={"task": "Write about Rome"}, stream_mode="updates")
    )
    assert "planner" in events[1][1]
    thread_id = f"made-by-run-{uuid.uuid4().hex[:8]}"
    values = await client.runs.wait(thread_id, "travel_writer", input={"task": TASK}, if_not_exists="create")
    assert values["plan"] and (await client.threads.get(thread_id))["status"] == "interrupted"


async def test_remote_graph(server: Server) -> None:
    remote = server.remote()
    config = {"configurable": {"thread_id": await new_thread(server.client())}}
    chunks = [chunk async for chunk in remote.astream({"task": TASK}, config, stream_mode="updates")]
    assert "planner" in chunks[0] and chunks[-1]["__interrupt__"]
    state = await remote.aget_state(config)
    assert state.next == ("travel_plan",)
    await remote.aupdate_state(config, {"feedback": "focus on food"})
    values = await remote.ainvoke(None, config)
    assert any("food" in q.lower() for q in values["queries"])
    values = await remote.ainvoke(Command(resume="make it vivid"), config)
    assert values["draft"]
    assert (await remote.aget_state(config)).next == ("reflect",)


async def test_a_run_on_one_instance_is_joined_and_cancelled_from_another(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """On Lambda every request may land on another instance: a LangGraph run started on A is
    read, joined with Last-Event-ID, refused as busy and cancelled through B, and resumed on B."""
    log, endpoints = (
        tmp_path / "app.log",
        {"dynamodb_endpoint_url": moto_endpoint, "s3_endpoint_url": moto_endpoint},
    )
    with instances(log, offline_pace_ms="40", **endpoints) as (a, b):
        on_a, on_b = get_client(url=a.url), get_client(url=b.url)
        thread_id = await new_thread(on_a)
        run = await on_a.runs.create(
            thread_id,
            "travel_writer",
            input={"task": TASK, "max_revisions": 1},
            interrupt_after=["travel_plan"],
            stream_mode=["updates", "messages-tuple"],
            stream_resumable=True,
        )
        first: list[str] = []
        async for part in on_b.runs.join_stream(thread_id, run["run_id"]):
            first.append(part.id)
            if len(first) == 3:
                break
        assert (await on_b.threads.get(thread_id))["status"] == "busy"
        assert (await on_b.runs.get(thread_id, run["run_id"]))["status"] == "running"
        with pytest.raises(ConflictError):
            await on_b.runs.create(thread_id, "travel_writer", input=None)
        rest = [p.id async for p in on_b.runs.join_stream(thread_id, run["run_id"], last_event_id=first[-1])]
        assert rest and int(rest[0]) == int(first[-1]) + 1  # resumes right after the last id it had
        cancel_run = await on_a.runs.create(
            thread_id, "travel_writer", input=None, context={"use_hitl": False}
        )
        await on_b.runs.cancel(thread_id, cancel_run["run_id"], wait=True)
        assert (await on_a.runs.get(thread_id, cancel_run["run_id"]))["status"] == "interrupted"
        saved_before = [
            h["metadata"].get("step") for h in await on_b.threads.get_history(thread_id, limit=100)
        ]
        values = await on_b.runs.wait(thread_id, "travel_writer", input=None, context={"use_hitl": False})
        assert values["draft"] and "__interrupt__" not in values
        assert (await on_a.threads.get(thread_id))["status"] == "idle"
        assert saved_before  # the cancelled run kept every step it had saved


async def test_enqueue_waits_for_the_running_run_and_update_steers(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    first = await client.runs.create(
        thread_id,
        "travel_writer",
        input={"task": TASK},
        interrupt_after=["planner"],
        stream_mode="messages-tuple",  # the model streams at its pace: the run is still going
    )
    queued = await client.runs.create(
        thread_id,
        "travel_writer",
        command={"update": {"feedback": "focus on food"}},
        multitask_strategy="enqueue",
        interrupt_after=["travel_plan"],
    )
    values = await client.runs.join(thread_id, queued["run_id"])
    assert (await client.runs.get(thread_id, first["run_id"]))["status"] == "success"  # not cut short
    assert any("food" in query.lower() for query in values["queries"])  # Command(update=…) steered


async def test_on_disconnect_cancel_stops_the_run_when_the_client_leaves(server: Server) -> None:
    client = server.client()
    thread_id = await new_thread(client)
    body = {
        "assistant_id": "travel_writer",
        "input": {"task": TASK},
        "stream_mode": "messages-tuple",
        "on_disconnect": "cancel",
    }
    http = httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30)
    async with http, http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        run_id = response.headers["content-location"].rsplit("/", 1)[-1]
        async for line in response.aiter_lines():
            if line.startswith("event: messages"):
                break  # leave mid-node
    for _ in range(100):
        run = await client.runs.get(thread_id, run_id)
        if run["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert run["status"] == "interrupted"
    assert (await client.threads.get_state(thread_id))["next"] == ["planner"]  # redone on resume
