"""What the graph asks of a model and of a research service, independent of any vendor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from wayfarer.graph.state import Source

if TYPE_CHECKING:  # a chat model's module is loaded only by a provider that builds one
    from langchain_core.language_models import BaseChatModel

Step = Literal["plan", "research_queries", "draft", "critique", "critique_queries"]


@dataclass(frozen=True)
class WritingBrief:
    """Everything a model needs for one step. A real model reads it as a prompt
    (``graph/prompts.py``); the offline writer reads it as it is."""

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

    def chat_model(self) -> BaseChatModel:
        """The LangChain chat model that writes every step, built on first use (a vendor's
        client can take seconds to import). The graph calls it through LangChain, so
        LangGraph's ``messages`` stream carries its tokens."""
        ...


class ResearchProvider(Protocol):
    name: str

    async def search(self, query: str, max_results: int) -> list[Source]:
        """Snippets for one query, best first; an empty list when nothing is known."""
        ...


class ProviderError(RuntimeError):
    """A model or research provider failed; the run stops and stays resumable."""
