"""The five nodes. Each streams its text through LangGraph's custom stream and appends one
AIMessage, in the seed's style, that describes its step."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer

from wayfarer.graph.state import Source, WriterState
from wayfarer.providers import ModelProvider, ResearchProvider, Step, WritingBrief

Node = Callable[[WriterState], Coroutine[Any, Any, dict[str, Any]]]

MAX_QUERIES = 3
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


async def write(model: ModelProvider, node: str, brief: WritingBrief) -> str:
    """Run one model step, streaming each chunk as a token delta for ``node``."""
    emit = get_stream_writer()
    parts: list[str] = []
    async for chunk in model.stream(brief):
        if chunk:
            parts.append(chunk)
            emit({"node": node, "delta": chunk})
    return "".join(parts).strip()


def parse_queries(text: str) -> list[str]:
    """One query per line; list markers and quotes removed, duplicates dropped."""
    queries: list[str] = []
    for line in text.splitlines():
        query = _LIST_MARKER.sub("", line).strip().strip("\"'").strip()
        if query and query.lower() not in (q.lower() for q in queries):
            queries.append(query)
    return queries[:MAX_QUERIES]


async def research(provider: ResearchProvider, queries: list[str], max_results: int) -> list[Source]:
    results = await asyncio.gather(*(provider.search(q, max_results) for q in queries))
    return [source for batch in results for source in batch]


def merge_sources(known: list[Source], found: list[Source]) -> list[Source]:
    seen = {(s["url"], s["title"]) for s in known}
    merged = list(known)
    for source in found:
        key = (source["url"], source["title"])
        if key not in seen:
            seen.add(key)
            merged.append(source)
    return merged


def brief_from(state: WriterState, step: Step) -> WritingBrief:
    return WritingBrief(
        step=step,
        task=state.get("task", ""),
        plan=state.get("plan"),
        draft=state.get("draft"),
        critique=state.get("critique"),
        content=list(state.get("content") or []),
        feedback=state.get("feedback"),
        revision_number=state.get("revision_number", 0),
        max_revisions=state.get("max_revisions", 2),
    )


def research_summary(queries: list[str], found: list[Source]) -> str:
    lines = ["Queries:", *(f"- {q}" for q in queries), ""]
    if found:
        hosts = {s["url"] for s in found}
        lines.append(f"Found {len(found)} notes from {len(hosts)} sources:")
        lines += [f"- {s['title']} ({s['url']})" for s in found]
    else:
        lines.append("No notes found for these queries; the writing will say what is not known.")
    return "\n".join(lines)


def step_update(node: str, message: str, **fields: Any) -> dict[str, Any]:
    """A node's update: its fields, the one AIMessage describing its step; feedback used up.
    The message gets its id here, not from the reducer on save, so the node event that carries
    it names the same message the state will hold (a client dedupes by it)."""
    return {**fields, "feedback": None, "messages": [AIMessage(message, name=node, id=str(uuid.uuid4()))]}


def make_nodes(model: ModelProvider, provider: ResearchProvider, max_results: int) -> dict[str, Node]:
    def researcher(node: str, step: Step, heading: str) -> Node:
        """travel_plan and research_critique: write queries, run them, keep the snippets."""

        async def research_node(state: WriterState) -> dict[str, Any]:
            queries = parse_queries(await write(model, node, brief_from(state, step)))
            found = await research(provider, queries, max_results)
            return step_update(
                node,
                f"{heading}\n\n{research_summary(queries, found)}",
                queries=queries,
                content=merge_sources(list(state.get("content") or []), found),
            )

        return research_node

    async def planner(state: WriterState) -> dict[str, Any]:
        plan = await write(model, "planner", brief_from(state, "plan"))
        return step_update("planner", f"📋 Step 1: Planning Complete\n\n{plan}", plan=plan)

    async def generate(state: WriterState) -> dict[str, Any]:
        draft = await write(model, "generate", brief_from(state, "draft"))
        revision = state.get("revision_number", 0) + 1
        total = state.get("max_revisions", 2) + 1
        message = f"✍️ Step 3: Draft {revision} of {total} Complete\n\n{draft}"
        return step_update("generate", message, draft=draft, revision_number=revision)

    async def reflect(state: WriterState) -> dict[str, Any]:
        critique = await write(model, "reflect", brief_from(state, "critique"))
        message = f"🧐 Step 4: Critique of Draft {state.get('revision_number', 0)} Complete\n\n{critique}"
        return step_update("reflect", message, critique=critique)

    return {
        "planner": planner,
        "travel_plan": researcher("travel_plan", "research_queries", "🔍 Step 2: Research Complete"),
        "generate": generate,
        "reflect": reflect,
        "research_critique": researcher(
            "research_critique", "critique_queries", "🔎 Step 5: Follow-up Research Complete"
        ),
    }
