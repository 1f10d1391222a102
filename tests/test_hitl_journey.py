"""The human-in-the-loop journey over HTTP, from the first message to the finished piece."""

from __future__ import annotations

import httpx

from tests.conftest import run_body
from tests.sse_clients import nodes_of, stream

FULL_ORDER = [
    "planner", "travel_plan", "generate", "reflect", "research_critique",
    "generate", "reflect", "research_critique", "generate",
]  # fmt: skip


def run_hitl_to_end(client: httpx.Client, body: dict) -> list[list[dict]]:
    runs = [stream(client, body)]
    while runs[-1][-1]["event"] == "interrupt":
        assert len(runs) < 20, "the graph never finished"
        runs.append(stream(client, {"thread_id": body["thread_id"], "message": "", "use_hitl": True}))
    return runs


def test_full_hitl_journey_pauses_after_every_node_and_completes(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris", max_revisions=2)
    runs = run_hitl_to_end(client, body)

    assert [nodes_of(r) for r in runs] == [[n] for n in FULL_ORDER]
    for run, following in zip(runs, FULL_ORDER[1:], strict=False):
        assert run[-1]["event"] == "interrupt" and run[-1]["next"] == [following]
    assert runs[-1][-1]["event"] == "complete"
    assert len({r[0]["run_id"] for r in runs}) == len(runs)  # every run has its own id

    state = client.get(f"/threads/{body['thread_id']}/state").json()
    values = state["values"]
    assert state["next"] == []
    assert values["plan"] and values["draft"] and values["critique"]
    assert values["draft"].startswith("# Paris")
    assert values["revision_number"] == 3
    ai = [m for m in values["messages"] if m["type"] == "ai"]
    assert [m["name"] for m in ai] == FULL_ORDER  # one message per node, in order
    assert values["messages"][0] == {**values["messages"][0], "type": "human", "content": body["message"]}
    assert any(s["url"].startswith("https://") for s in values["content"])
    assert client.get(f"/threads/{body['thread_id']}").json()["status"] == "idle"


def test_without_hitl_one_stream_runs_to_the_end(client: httpx.Client) -> None:
    events = stream(client, run_body(message="Write about visiting Kyoto", use_hitl=False, max_revisions=1))
    assert nodes_of(events) == FULL_ORDER[:6]
    assert events[-1]["event"] == "complete"
    assert sum(e["event"] in ("interrupt", "complete", "error") for e in events) == 1


def test_max_revisions_sets_the_number_of_drafts(client: httpx.Client) -> None:
    for max_revisions in (1, 3):
        events = stream(client, run_body(message="Visit Rome", use_hitl=False, max_revisions=max_revisions))
        assert nodes_of(events).count("generate") == max_revisions + 1


def test_feedback_on_resume_reaches_the_next_node(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris")
    stream(client, body)  # planner, then pause
    events = stream(client, {"thread_id": body["thread_id"], "message": "focus on food"})
    travel_plan = next(e for e in events if e["event"] == "node")
    assert travel_plan["node"] == "travel_plan"
    assert any("food" in q.lower() for q in travel_plan["data"]["queries"])
    assert travel_plan["data"]["sources"], "the guide knows Paris food"
    state = client.get(f"/threads/{body['thread_id']}/state").json()["values"]
    assert state["feedback"] is None  # used once, then cleared
    assert {"type": "human", "content": "focus on food"}.items() <= state["messages"][-2].items()


def test_a_message_on_a_finished_thread_starts_a_new_piece(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Paris", use_hitl=False, max_revisions=1)
    assert stream(client, body)[-1]["event"] == "complete"
    events = stream(client, {**body, "message": "Now write about visiting Rome"})
    assert nodes_of(events)[0] == "planner"
    assert events[0]["resumed"] is False
    values = client.get(f"/threads/{body['thread_id']}/state").json()["values"]
    assert values["task"] == "Now write about visiting Rome"
    assert values["draft"].startswith("# Rome")
    assert [m["content"] for m in values["messages"] if m["type"] == "human"] == [
        "Write about visiting Paris",
        "Now write about visiting Rome",
    ]


def test_unknown_place_is_said_honestly(client: httpx.Client) -> None:
    events = stream(
        client, run_body(message="Write about visiting Atlantis", use_hitl=False, max_revisions=1)
    )
    research = next(e for e in events if e["event"] == "node" and e["node"] == "travel_plan")
    assert research["data"]["sources"] == []
    assert "No notes found" in research["data"]["message"]["content"]
    draft = [e for e in events if e["event"] == "node" and e["node"] == "generate"][-1]["data"]["draft"]
    assert "no notes on Atlantis" in draft


def test_invoke_answers_once_with_the_paused_state(client: httpx.Client) -> None:
    body = run_body(message="Write about visiting Tokyo")
    answer = client.post("/runs/invoke", json=body).json()
    assert answer["status"] == "interrupted"
    assert answer["next"] == ["travel_plan"]
    assert answer["thread_id"] == body["thread_id"] and answer["run_id"]
    assert answer["values"]["plan"].startswith("Working title: Tokyo")
    answer = client.post("/runs/invoke", json={**body, "message": "", "use_hitl": False}).json()
    assert answer["status"] == "complete" and answer["next"] == []
    assert answer["values"]["draft"].startswith("# Tokyo")


def test_repeating_the_task_on_a_paused_thread_continues_without_feedback(client: httpx.Client) -> None:
    """The seed's curl resends the same body to continue: that is not a steer."""
    body = run_body(message="write about visiting Paris")
    stream(client, body)
    events = stream(client, body)
    travel_plan = next(e for e in events if e["event"] == "node")
    assert travel_plan["node"] == "travel_plan"
    assert not any("write" in q.lower() for q in travel_plan["data"]["queries"])
    messages = client.get(f"/threads/{body['thread_id']}/state").json()["values"]["messages"]
    assert [m["content"] for m in messages if m["type"] == "human"] == ["write about visiting Paris"]
