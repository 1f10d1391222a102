"""What the graph asks of a model and of a research service, independent of any vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from wayfarer.graph.state import Source

Step = Literal["plan", "research_queries", "draft", "critique", "critique_queries"]


@dataclass(frozen=True)
class WritingBrief:
    """Everything a model needs for one step; providers turn it into text."""

    step: Step
    task: str
    plan: str | None = None
    draft: str | None = None
    critique: str | None = None
    content: list[Source] = field(default_factory=list)
    feedback: str | None = None
    revision_number: int = 0
    max_revisions: int = 2


class ModelProvider(Protocol):
    name: str

    def stream(self, brief: WritingBrief) -> AsyncIterator[str]:
        """Yield the step's text in chunks as the model writes it."""
        ...


class ResearchProvider(Protocol):
    name: str

    async def search(self, query: str, max_results: int) -> list[Source]:
        """Snippets for one query, best first; an empty list when nothing is known."""
        ...


class ProviderError(RuntimeError):
    """A model or research provider failed; the run stops and stays resumable."""
