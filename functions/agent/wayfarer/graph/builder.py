"""Wiring: planner → travel_plan → generate ⇄ (reflect → research_critique) until done."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from wayfarer.graph.nodes import make_nodes
from wayfarer.graph.state import DEFAULT_MAX_REVISIONS, WriterState
from wayfarer.providers import ModelProvider, ResearchProvider

NODES: tuple[str, ...] = ("planner", "travel_plan", "generate", "reflect", "research_critique")


def after_generate(state: WriterState) -> str:
    """Keep revising until the draft count passes max_revisions."""
    if state.get("revision_number", 0) > state.get("max_revisions", DEFAULT_MAX_REVISIONS):
        return END
    return "reflect"


def build_graph(
    model: ModelProvider, research: ResearchProvider, max_results: int = 3
) -> StateGraph[WriterState]:
    """The uncompiled graph; compile it with a checkpointer."""
    graph = StateGraph(WriterState)
    for name, node in make_nodes(model, research, max_results).items():
        # langgraph's overloads cannot infer the state type of a plain async function
        graph.add_node(name, node)  # type: ignore[call-overload]
    graph.add_edge(START, "planner")
    graph.add_edge("planner", "travel_plan")
    graph.add_edge("travel_plan", "generate")
    graph.add_conditional_edges("generate", after_generate, ["reflect", END])
    graph.add_edge("reflect", "research_critique")
    graph.add_edge("research_critique", "generate")
    return graph
