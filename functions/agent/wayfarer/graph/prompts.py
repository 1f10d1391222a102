"""The messages every model gets for a step: a system prompt per step and the brief as a
user prompt. The brief also rides along as data in the user message's ``additional_kwargs``
(ChatBedrockConverse sends a human message's content only) for the offline writer, which
reads the brief instead of prose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from wayfarer.graph.state import Source
from wayfarer.providers import Step, WritingBrief

BRIEF_KEY = "wayfarer_brief"

SYSTEM: dict[Step, str] = {
    "plan": (
        "You are an expert travel writer planning a piece. Write a working title, a one-line "
        "angle and a numbered outline of 5-7 sections with one line of notes each. Plain text."
    ),
    "research_queries": (
        "You are a travel researcher. Write 1 to 3 web search queries that would find the facts "
        "the planned piece needs. One query per line, nothing else."
    ),
    "draft": (
        "You are a travel writer. Write the piece in Markdown (a # title, ## sections), using only "
        "the research notes for specific facts and citing them as [n]. If the notes are empty, "
        "say plainly what is not known instead of inventing it. End with a ## Sources list."
    ),
    "critique": (
        "You are an editor. Critique the draft for a traveller: what is missing, unclear, "
        "unsupported or too long. Answer as a short list of concrete '- ' items."
    ),
    "critique_queries": (
        "You are a travel researcher. Write 1 to 3 web search queries that would supply what the "
        "critique asks for. One query per line, nothing else."
    ),
}


def format_sources(content: list[Source]) -> str:
    if not content:
        return "(no research notes)"
    return "\n\n".join(
        f"[{i}] {s['title']} — {s['url']}\n{s['content']}" for i, s in enumerate(content, start=1)
    )


def user_prompt(brief: WritingBrief) -> str:
    parts = [f"Task: {brief.task}"]
    if brief.plan:
        parts.append(f"Plan:\n{brief.plan}")
    if brief.step in ("draft", "critique") and brief.draft:
        parts.append(f"Current draft (revision {brief.revision_number}):\n{brief.draft}")
    if brief.step in ("draft", "critique_queries") and brief.critique:
        parts.append(f"Editor's critique:\n{brief.critique}")
    if brief.step == "draft":
        parts.append(f"Research notes:\n{format_sources(brief.content)}")
    if brief.feedback:
        parts.append(f"The human steering this piece says (follow it): {brief.feedback}")
    return "\n\n".join(parts)


def prompt_messages(brief: WritingBrief) -> list[BaseMessage]:
    """The step as chat messages, for any chat model."""
    return [
        SystemMessage(SYSTEM[brief.step]),
        HumanMessage(user_prompt(brief), additional_kwargs={BRIEF_KEY: asdict(brief)}),
    ]


def brief_in(messages: Sequence[BaseMessage]) -> WritingBrief:
    """The brief that ``prompt_messages`` put beside the prompt."""
    for message in reversed(messages):
        data: dict[str, Any] | None = message.additional_kwargs.get(BRIEF_KEY)
        if data is not None:
            return WritingBrief(**data)
    raise ValueError(
        "These messages carry no Wayfarer brief: the offline writer answers only the messages "
        "that wayfarer.graph.prompts.prompt_messages makes."
    )
