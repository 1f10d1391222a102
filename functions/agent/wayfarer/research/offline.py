"""A small bundled travel guide searched with BM25 (bm25s).

A query first has to name a destination the guide knows (by name or alias); its notes are then
ranked by BM25. A place the guide does not cover gets an honest empty result rather than the
nearest-sounding notes about somewhere else."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from wayfarer.graph.state import Source

# Words a topic is known by, indexed with each note so "when to go" finds the seasons note.
TOPIC_WORDS = {
    "overview": "overview introduction why visit",
    "sights": "sights attractions landmarks museums see",
    "food": "food eat dishes restaurants cuisine",
    "getting_around": "getting around transport transit metro",
    "when_to_go": "when to go season weather best time",
    "neighbourhoods": "neighbourhoods neighborhoods districts where to stay",
    "tips": "tips practical etiquette advice",
}


@dataclass(frozen=True)
class Note:
    destination: str
    topic: str
    title: str
    text: str
    url: str


def load_guide() -> dict[str, Any]:
    raw = resources.files("wayfarer").joinpath("data/guide.json").read_text(encoding="utf-8")
    guide: dict[str, Any] = json.loads(raw)
    return guide


class OfflineGuide:
    name = "offline"

    def __init__(self, guide: dict[str, Any] | None = None) -> None:
        self._guide = guide

    @cached_property
    def _notes(self) -> list[Note]:
        guide = self._guide if self._guide is not None else load_guide()
        return [
            Note(d["destination"], n["topic"], n["title"], n["text"], n["url"])
            for d in guide["destinations"]
            for n in d["notes"]
        ]

    @cached_property
    def _aliases(self) -> list[tuple[re.Pattern[str], str]]:
        guide = self._guide if self._guide is not None else load_guide()
        patterns = []
        for d in guide["destinations"]:
            for alias in {d["destination"].lower(), *d.get("aliases", [])}:
                patterns.append((re.compile(rf"\b{re.escape(alias.lower())}\b"), d["destination"]))
        return patterns

    @cached_property
    def _index(self) -> Any:
        import bm25s

        corpus = [f"{n.title} {TOPIC_WORDS.get(n.topic, n.topic)} {n.text}" for n in self._notes]
        index = bm25s.BM25()
        index.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
        return index

    def destinations_in(self, query: str) -> set[str]:
        lowered = query.lower()
        return {name for pattern, name in self._aliases if pattern.search(lowered)}

    async def search(self, query: str, max_results: int) -> list[Source]:
        places = self.destinations_in(query)
        if not places:
            return []
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
        docs, scores = self._index.retrieve(tokens, k=len(self._notes), show_progress=False)
        ranked = [
            self._notes[int(i)]
            for i, score in zip(docs[0], scores[0], strict=True)
            if score > 0 and self._notes[int(i)].destination in places
        ]
        return [Source(query=query, title=n.title, url=n.url, content=n.text) for n in ranked[:max_results]]
