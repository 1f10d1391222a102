"""The offline model: no network, no weights. It writes a readable plan, queries, draft and
critique deterministically from the task, the research snippets and the human's feedback, and
streams them in small chunks at a configurable pace so streaming is visible in a browser. It is
a LangChain chat model, so LangGraph streams its tokens as it streams any model's."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from wayfarer.graph.prompts import brief_in
from wayfarer.graph.state import Source
from wayfarer.providers import WritingBrief

WORDS_PER_CHUNK = 3

_PLACE_END = r"(?=\s+(?:in|during|for|with|on|this|next)\s|[.,!?;:]|$)"
# Tried in order: "about visiting Paris" must give "Paris", not "visiting Paris".
_PLACE_PATTERNS = tuple(
    re.compile(rf"\b{lead}\s+(?P<place>.+?){_PLACE_END}", re.IGNORECASE)
    for lead in (
        r"(?:visiting|visit|trip to|travel(?:l?ing)? to|guide to|weekend in|days in)",
        r"about",
    )
)
# Words of a steer that say nothing about the place or topic.
_FILLER = frozenset(
    [
        "a",
        "about",
        "add",
        "also",
        "an",
        "and",
        "article",
        "be",
        "but",
        "can",
        "could",
        "do",
        "focus",
        "for",
        "give",
        "i",
        "in",
        "include",
        "it",
        "its",
        "less",
        "make",
        "me",
        "mention",
        "more",
        "most",
        "my",
        "of",
        "on",
        "or",
        "our",
        "piece",
        "please",
        "should",
        "some",
        "than",
        "that",
        "the",
        "this",
        "to",
        "trip",
        "us",
        "visit",
        "visiting",
        "want",
        "we",
        "what",
        "with",
        "would",
        "write",
        "writing",
        "you",
        "your",
    ]
)

# Topics the writer knows, the words that reveal each one, and how a section is titled.
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sights", "The sights that earn their crowds", ("sight", "museum", "landmark", "see")),
    ("food", "What and where to eat", ("food", "eat", "dish", "restaurant", "cuisine", "market")),
    (
        "getting around",
        "Getting around",
        ("getting around", "transport", "metro", "walk", "tram", "bus", "train", "subway"),
    ),
    (
        "neighbourhoods",
        "Neighbourhoods worth the walk",
        ("neighbourhood", "neighborhood", "district", "quarter"),
    ),
    ("when to go", "When to go", ("when to go", "season", "weather", "spring", "summer", "winter")),
    ("tips", "Practical tips", ("tip", "etiquette", "safety", "tipping", "custom")),
)


def find_place(task: str) -> str:
    """The destination a task is about ("Write about visiting Paris" → "Paris")."""
    for pattern in _PLACE_PATTERNS:
        match = pattern.search(task)
        if match:
            place = re.sub(r"^(?:the)\s+", "", match.group("place").strip(), flags=re.IGNORECASE)
            if place:
                return place if any(c.isupper() for c in place) else place.title()
    capitalised = re.findall(r"\b[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*", task)
    names = [c for c in capitalised if c.lower() not in {"write", "tell", "describe", "plan"}]
    return names[-1] if names else task.strip().rstrip(".!?") or "your destination"


def feedback_terms(feedback: str | None) -> list[str]:
    """The words of a steer that carry meaning ("focus on food" → ["food"])."""
    if not feedback:
        return []
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", feedback.lower())
    return [w for w in words if w not in _FILLER]


def mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whole words (and their plurals): "eat" is not in "weather", nor "bus" in "business"."""
    return any(re.search(rf"\b{re.escape(w)}(?:s|es|ing)?\b", text, re.IGNORECASE) for w in words)


def topics_in(text: str) -> list[str]:
    return [name for name, _, words in TOPICS if mentions(text, words)]


def topic_order(feedback: str | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """All topics, the ones the human asked for first."""
    wanted = set(topics_in(feedback or ""))
    return sorted(TOPICS, key=lambda t: t[0] not in wanted)


def clean_title(source: Source, place: str) -> str:
    """The note's title without the place the section already names, capitalised."""
    title = re.sub(rf"^{re.escape(place)}\s*[:—-]\s*", "", source["title"], flags=re.IGNORECASE)
    return title[:1].upper() + title[1:]


def write_plan(brief: WritingBrief) -> str:
    place = find_place(brief.task)
    steer = brief.feedback.strip() if brief.feedback else ""
    sections = [title for _, title, _ in topic_order(steer)]
    lines = [
        f"Working title: {place}, Unhurried — A Traveller's Guide",
        f"Angle: {brief.task.strip().rstrip('.')}, for a first-time visitor who wants the real place.",
        "",
        "Outline:",
        f"1. Arrival — why {place} is worth the trip",
        *(f"{i}. {title}" for i, title in enumerate(sections, start=2)),
        f"{len(sections) + 2}. Closing — the one thing not to miss",
    ]
    if steer:
        lines += ["", f'Your direction: "{steer}" — the outline leads with it.']
    return "\n".join(lines)


def steer_queries(place: str, feedback: str | None) -> list[str]:
    """The human's steer as a search, first: "focus on food" → "Paris food"."""
    terms = feedback_terms(feedback)
    return [f"{place} {' '.join(terms)}"] if terms else []


def write_queries(brief: WritingBrief) -> str:
    place = find_place(brief.task)
    topics = [f"{place} {name}" for name, _, _ in topic_order(brief.feedback)[:3]]
    return "\n".join(dict.fromkeys(steer_queries(place, brief.feedback) + topics))


def write_critique_queries(brief: WritingBrief) -> str:
    place = find_place(brief.task)
    missing = re.findall(r"^- Add (?:more on )?([a-z ]+?)[:.]", brief.critique or "", re.MULTILINE)
    queries = steer_queries(place, brief.feedback) + [f"{place} {m}" for m in missing]
    return "\n".join(dict.fromkeys(queries or [f"{place} tips"]))


def write_draft(brief: WritingBrief) -> str:
    place = find_place(brief.task)
    revision = brief.revision_number + 1
    sources = brief.content
    numbers = {(s["url"], s["title"]): i for i, s in enumerate(sources, start=1)}
    lines = [f"# {place}, Unhurried", ""]
    if not sources:
        lines += [
            f"Our guide has no notes on {place}, so this draft claims nothing it cannot back up: "
            "no sights, dishes or seasons are named here. Ask for research with a connected "
            "search provider, or tell me what you know, and the next draft will use it.",
            "",
        ]
    else:
        lines += [
            f"{place} rewards the traveller who slows down. This guide gathers what the research "
            f"found, section by section, with every claim tied to its source.",
            "",
        ]
        remaining = list(sources)
        for _, title, words in topic_order(brief.feedback):
            matching = [s for s in remaining if mentions(f"{s['title']} {s['content']}", words)]
            if not matching:
                continue
            lines += [f"## {title}", ""]
            for source in matching[:2]:
                remaining.remove(source)
                number = numbers[(source["url"], source["title"])]
                lines += [f"**{clean_title(source, place)}.** {source['content'].strip()} [{number}]", ""]
        for source in remaining:
            number = numbers[(source["url"], source["title"])]
            lines += [f"**{clean_title(source, place)}.** {source['content'].strip()} [{number}]", ""]
    if brief.feedback:
        lines += [f'*Written with your direction in mind: "{brief.feedback.strip()}".*', ""]
    if brief.critique and revision > 1:
        addressed = re.findall(r"^- (.+)$", brief.critique, re.MULTILINE)
        if addressed:
            lines += [f"*Revision {revision} answers the critique:*", *(f"- {a}" for a in addressed), ""]
    if sources:
        lines += ["## Sources", ""]
        lines += [f"{i}. [{s['title']}]({s['url']})" for i, s in enumerate(sources, start=1)]
    return "\n".join(lines).strip()


def write_critique(brief: WritingBrief) -> str:
    draft = brief.draft or ""
    covered = set(topics_in(draft))
    missing = [name for name, _, _ in TOPICS if name not in covered]
    words = len(draft.split())
    lines = [f"Draft {brief.revision_number} runs to {words} words."]
    if "no notes on" in draft:
        lines.append("- Add facts: the research found nothing, so the draft cannot name specifics.")
    for name in missing[:3]:
        lines.append(f"- Add {name}: a reader planning a trip will look for it.")
    if brief.feedback:
        lines.append(f'- Make the human\'s direction ("{brief.feedback.strip()}") visible in the opening.')
    if not missing:
        lines.append("- Tighten the prose: every section is there; cut what does not help a visitor.")
    return "\n".join(lines)


WRITERS = {
    "plan": write_plan,
    "research_queries": write_queries,
    "draft": write_draft,
    "critique": write_critique,
    "critique_queries": write_critique_queries,
}


def chunks(text: str, words_per_chunk: int = WORDS_PER_CHUNK) -> Iterator[str]:
    """Split text into small pieces that join back to exactly the original."""
    pieces = re.findall(r"\s*\S+", text)
    for start in range(0, len(pieces), words_per_chunk):
        yield "".join(pieces[start : start + words_per_chunk])


def written(messages: Sequence[BaseMessage]) -> str:
    """The text for the brief the messages carry, as its chunks join back to it."""
    brief = brief_in(messages)
    return WRITERS[brief.step](brief).rstrip()


class OfflineChatModel(BaseChatModel):
    """Deterministic writer of the brief in the messages (``graph.prompts.prompt_messages``);
    streamed ``pace_ms`` apart per chunk (0 in tests)."""

    pace_ms: float = 20.0

    @property
    def _llm_type(self) -> str:
        return "wayfarer-offline"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(written(messages)))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Unstreamed (nobody listens for tokens), the text takes as long as streamed: a real
        model's time does not depend on whether its tokens are watched."""
        result = self._generate(messages, stop, **kwargs)
        if self.pace_ms:
            text = result.generations[0].message.text
            await asyncio.sleep(self.pace_ms * sum(1 for _ in chunks(text)) / 1000)
        return result

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for piece in chunks(written(messages)):
            if self.pace_ms:
                await asyncio.sleep(self.pace_ms / 1000)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


class OfflineModel:
    """The offline provider: one ``OfflineChatModel``."""

    name = "offline"

    def __init__(self, pace_ms: float = 20.0) -> None:
        self.chat = OfflineChatModel(pace_ms=pace_ms)

    def chat_model(self) -> BaseChatModel:
        return self.chat
