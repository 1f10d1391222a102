"""The five nodes. Each calls the chat model through LangChain, so LangGraph's ``messages``
stream carries the model's tokens, tagged with the node, and appends one AIMessage, in the
seed's style, that describes its step."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from aws_lambda_powertools import Logger
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig

from wayfarer.graph.prompts import prompt_messages
from wayfarer.graph.state import Source, WriterState
from wayfarer.providers import ModelProvider, ProviderError, ResearchProvider, Step, WritingBrief

Node = Callable[[WriterState, RunnableConfig], Coroutine[Any, Any, dict[str, Any]]]

MAX_QUERIES = 3
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")

logger = Logger(service="wayfarer", child=True)


def vendor_error_kind(exc: Exception) -> str:
    """An AWS error's code (ThrottlingException, AccessDeniedException, ...), else its type."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return str(code) if code else type(exc).__name__


async def write(model: ModelProvider, brief: WritingBrief, config: RunnableConfig) -> str:
    """Run one model step. With the node's ``config`` the call joins the graph's callbacks:
    when the graph is streamed in ``messages`` mode, the model streams and each chunk is sent."""
    try:
        message = await model.chat_model().ainvoke(prompt_messages(brief), config)
    except ProviderError:
        raise
    except Exception as exc:  # every vendor raises its own types; the run needs one
        # The vendor's text (an ARN, an account id) is for the log; the caller gets its kind.
        logger.exception("model call failed", extra={"model": model.name})
        raise ProviderError(f"The {model.name} model failed ({vendor_error_kind(exc)})") from exc
    return message.text.strip()


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

        async def research_node(state: WriterState, config: RunnableConfig) -> dict[str, Any]:
            queries = parse_queries(await write(model, brief_from(state, step), config))
            found = await research(provider, queries, max_results)
            return step_update(
                node,
                f"{heading}\n\n{research_summary(queries, found)}",
                queries=queries,
                content=merge_sources(list(state.get("content") or []), found),
            )

        return research_node

    async def planner(state: WriterState, config: RunnableConfig) -> dict[str, Any]:
        plan = await write(model, brief_from(state, "plan"), config)
        return step_update("planner", f"📋 Step 1: Planning Complete\n\n{plan}", plan=plan)

    async def generate(state: WriterState, config: RunnableConfig) -> dict[str, Any]:
        draft = await write(model, brief_from(state, "draft"), config)
        revision = state.get("revision_number", 0) + 1
        total = state.get("max_revisions", 2) + 1
        message = f"✍️ Step 3: Draft {revision} of {total} Complete\n\n{draft}"
        return step_update("generate", message, draft=draft, revision_number=revision)

    async def reflect(state: WriterState, config: RunnableConfig) -> dict[str, Any]:
        critique = await write(model, brief_from(state, "critique"), config)
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
