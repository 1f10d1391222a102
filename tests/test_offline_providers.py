"""The offline model and the bundled guide: deterministic, honest, steerable. The model is a
LangChain chat model, so LangGraph streams its tokens with no code of ours."""

from __future__ import annotations

from typing import Any, cast

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatResult

from wayfarer.graph.builder import build_graph
from wayfarer.graph.prompts import prompt_messages
from wayfarer.graph.state import Source, WriterState
from wayfarer.models.offline import (
    OfflineChatModel,
    OfflineModel,
    chunks,
    find_place,
    topics_in,
    write_critique,
    write_draft,
    write_plan,
)
from wayfarer.providers import ProviderError, WritingBrief
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
    model = OfflineChatModel(pace_ms=0)
    brief = WritingBrief(step="plan", task="Write about visiting Lisbon", feedback="more food")

    async def text() -> list[str]:
        return [chunk.text async for chunk in model.astream(prompt_messages(brief)) if chunk.text]

    first, second = await text(), await text()
    assert first == second and len(first) > 5
    plan = "".join(first)
    assert "Lisbon" in plan
    outline = [line for line in plan.splitlines() if line[:1].isdigit()]
    assert "eat" in outline[1]  # the steer moved food to the front of the outline
    assert '"more food"' in plan


async def test_offline_chat_model_answers_the_same_text_streamed_or_not() -> None:
    model = OfflineChatModel(pace_ms=0)
    brief = WritingBrief(step="plan", task="Write about visiting Lisbon")
    streamed = [chunk.text async for chunk in model.astream(prompt_messages(brief))]
    assert "".join(streamed) == (await model.ainvoke(prompt_messages(brief))).text == write_plan(brief)
    assert [piece for piece in streamed if piece] == list(chunks(write_plan(brief)))


async def test_offline_chat_model_refuses_messages_without_a_brief() -> None:
    with pytest.raises(ValueError, match="no Wayfarer brief"):
        await OfflineChatModel(pace_ms=0).ainvoke([HumanMessage("Write about visiting Lisbon")])


def writer_input(task: str, max_revisions: int = 0) -> WriterState:
    return WriterState(
        task=task, content=[], revision_number=0, max_revisions=max_revisions, messages=[HumanMessage(task)]
    )


async def test_graph_messages_stream_yields_the_offline_chunks_tagged_with_their_node() -> None:
    """What a LangGraph client streaming ``messages`` sees: every chunk the model wrote, named
    by the node that asked for it, before that node's own message."""
    graph = build_graph(OfflineModel(pace_ms=0), OfflineGuide()).compile()
    streamed: dict[str, list[str]] = {}
    sequence: list[tuple[str, str]] = []  # (node, what it sent), repeats folded
    async for part in graph.astream(writer_input("Write about visiting Lisbon"), stream_mode="messages"):
        message, metadata = cast(tuple[BaseMessage, dict[str, Any]], part)
        node = metadata["langgraph_node"]
        sent = "chunks" if isinstance(message, AIMessageChunk) else type(message).__name__
        if sequence[-1:] != [(node, sent)]:
            sequence.append((node, sent))
        if isinstance(message, AIMessageChunk) and message.text:
            streamed.setdefault(node, []).append(message.text)
    nodes = ["planner", "travel_plan", "generate"]
    assert sequence == [(node, sent) for node in nodes for sent in ("chunks", "AIMessage")]
    state = await graph.ainvoke(writer_input("Write about visiting Lisbon"))
    assert streamed["planner"] == list(chunks(state["plan"])) and len(streamed["planner"]) > 5
    assert streamed["generate"] == list(chunks(state["draft"]))
    assert state["queries"] == "".join(streamed["travel_plan"]).splitlines()


class UnreachableChatModel(OfflineChatModel):
    """A chat model whose endpoint cannot be reached, as a vendor's client reports it."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ConnectionError("endpoint unreachable")


class UnreachableModel:
    name = "unreachable"

    def chat_model(self) -> UnreachableChatModel:
        return UnreachableChatModel(pace_ms=0)


async def test_a_vendor_failure_reaches_the_graph_as_a_provider_error() -> None:
    graph = build_graph(UnreachableModel(), OfflineGuide()).compile()
    with pytest.raises(ProviderError, match=r"The unreachable model failed \(ConnectionError\)") as raised:
        await graph.ainvoke(writer_input("Write about visiting Lisbon"))
    assert "endpoint unreachable" not in str(raised.value)  # the vendor's text stays in the log


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
