"""The offline model and the bundled guide: deterministic, honest, steerable."""

from __future__ import annotations

import pytest

from wayfarer.graph.state import Source
from wayfarer.models.offline import (
    OfflineModel,
    chunks,
    find_place,
    topics_in,
    write_critique,
    write_draft,
)
from wayfarer.providers import WritingBrief
from wayfarer.research.offline import OfflineGuide, load_guide


@pytest.mark.parametrize(
    ("task", "place"),
    [
        ("Write about visiting Paris", "Paris"),
        ("write about visiting paris", "Paris"),
        ("Write about New York City in winter", "New York City"),
        ("A weekend in Kyoto, please", "Kyoto"),
        ("Plan a trip to Rio de Janeiro for two", "Rio de Janeiro"),
        ("Tell me about Atlantis", "Atlantis"),
    ],
)
def test_find_place_reads_the_destination_from_the_task(task: str, place: str) -> None:
    assert find_place(task) == place


def test_chunks_join_back_to_exactly_the_text() -> None:
    text = "Line one.\n\n  Indented — with ünïcode ✈️ and   spaces.\n"
    pieces = list(chunks(text))
    assert len(pieces) > 2
    assert "".join(pieces) == text.rstrip()  # trailing whitespace has no word to ride on


async def test_offline_model_is_deterministic_and_streams_in_pieces() -> None:
    model = OfflineModel(pace_ms=0)
    brief = WritingBrief(step="plan", task="Write about visiting Lisbon", feedback="more food")

    async def text() -> list[str]:
        return [piece async for piece in model.stream(brief)]

    first, second = await text(), await text()
    assert first == second and len(first) > 5
    plan = "".join(first)
    assert "Lisbon" in plan
    outline = [line for line in plan.splitlines() if line[:1].isdigit()]
    assert "eat" in outline[1]  # the steer moved food to the front of the outline
    assert '"more food"' in plan


def test_draft_cites_its_sources_and_critique_names_what_is_missing() -> None:
    source = Source(
        query="Rome food",
        title="Rome: food",
        url="https://en.wikivoyage.org/wiki/Rome",
        content="Rome food is pasta carbonara.",
    )
    draft = write_draft(WritingBrief(step="draft", task="Visit Rome", content=[source]))
    assert draft.startswith("# Rome")
    assert "[1]" in draft and "(https://en.wikivoyage.org/wiki/Rome)" in draft
    critique = write_critique(
        WritingBrief(step="critique", task="Visit Rome", draft=draft, revision_number=1)
    )
    assert "- Add getting around" in critique and "- Add food" not in critique


def test_draft_without_research_says_so_instead_of_inventing() -> None:
    draft = write_draft(WritingBrief(step="draft", task="Write about visiting Atlantis"))
    assert "no notes on Atlantis" in draft
    assert "## Sources" not in draft


def test_guide_covers_at_least_12_destinations_with_sources() -> None:
    guide = load_guide()
    assert len(guide["destinations"]) >= 12
    for destination in guide["destinations"]:
        assert destination["notes"]
        assert all(n["url"].startswith("https://") for n in destination["notes"])


def guide_note(destination: str, topic: str) -> dict[str, str]:
    place = next(d for d in load_guide()["destinations"] if d["destination"] == destination)
    note: dict[str, str] = next(n for n in place["notes"] if n["topic"] == topic)
    return note


async def test_guide_ranks_the_asked_topic_first() -> None:
    guide = OfflineGuide()
    assert (await guide.search("Paris food", 3))[0]["title"] == guide_note("Paris", "food")["title"]
    tokyo = (await guide.search("Tokyo getting around", 1))[0]
    assert tokyo["title"] == guide_note("Tokyo", "getting_around")["title"]
    assert tokyo["query"] == "Tokyo getting around"


async def test_guide_answers_an_unknown_place_with_nothing() -> None:
    guide = OfflineGuide()
    assert await guide.search("Atlantis food", 3) == []
    assert await guide.search("best food", 3) == []  # no place named: nothing to stand behind
    assert {s["url"] for s in await guide.search("NYC sights", 3)}  # aliases count


def test_topics_are_matched_as_whole_words() -> None:
    assert topics_in("tell me about the weather") == ["when to go"]  # not "eat" in "weather"
    assert topics_in("a business trip") == []  # not "bus" in "business"
    assert topics_in("great museums, street food and trams") == ["sights", "food", "getting around"]
