"""A small bundled travel guide searched with BM25.

A query first has to name a destination the guide knows (by name or alias); its notes are then
ranked by BM25. A place the guide does not cover gets an honest empty result rather than the
nearest-sounding notes about somewhere else."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
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


# Tokens as scikit-learn's CountVectorizer (and bm25s) split them, minus English stopwords.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def tokenize(text: str) -> list[str]:
    return [token for token in _TOKEN.findall(text.lower()) if token not in STOPWORDS]


class BM25:
    """Okapi BM25, Lucene's variant (k1 1.5, b 0.75): for 112 short notes a few dictionaries do
    what a vector library would, without shipping numpy to Lambda."""

    K1 = 1.5
    B = 0.75

    def __init__(self, documents: list[list[str]]) -> None:
        self._counts = [Counter(doc) for doc in documents]
        self._lengths = [len(doc) for doc in documents]
        self._average = sum(self._lengths) / max(len(documents), 1)
        frequency = Counter(token for doc in documents for token in set(doc))
        total = len(documents)
        self._idf = {t: math.log(1 + (total - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}

    def scores(self, query: list[str]) -> list[float]:
        """Each document's score for ``query`` (tokens the corpus never saw count for nothing)."""
        known = [token for token in query if token in self._idf]
        scores = []
        for counts, length in zip(self._counts, self._lengths, strict=True):
            norm = self.K1 * (1 - self.B + self.B * length / self._average)
            scores.append(sum(self._idf[t] * counts[t] / (counts[t] + norm) for t in known if counts[t]))
        return scores


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
    def _index(self) -> BM25:
        return BM25(
            [tokenize(f"{n.title} {TOPIC_WORDS.get(n.topic, n.topic)} {n.text}") for n in self._notes]
        )

    def destinations_in(self, query: str) -> set[str]:
        lowered = query.lower()
        return {name for pattern, name in self._aliases if pattern.search(lowered)}

    async def search(self, query: str, max_results: int) -> list[Source]:
        places = self.destinations_in(query)
        if not places:
            return []
        scores = self._index.scores(tokenize(query))
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        ranked = [self._notes[i] for i in order if scores[i] > 0 and self._notes[i].destination in places]
        return [Source(query=query, title=n.title, url=n.url, content=n.text) for n in ranked[:max_results]]
