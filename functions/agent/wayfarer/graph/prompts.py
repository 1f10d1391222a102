"""Prompts for a real model, one per step. The offline model needs none."""

from __future__ import annotations

from wayfarer.graph.state import Source
from wayfarer.providers import Step, WritingBrief

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
