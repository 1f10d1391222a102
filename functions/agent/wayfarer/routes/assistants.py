"""LangGraph Server's assistants: one, the travel writer, with its graph and schemas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from wayfarer.deps import Runs
from wayfarer.graph.state import DEFAULT_MAX_REVISIONS
from wayfarer.graph_runs import ASSISTANT_ID, check_assistant_id
from wayfarer.langgraph_schemas import Assistant, AssistantSearch, selected

router = APIRouter(prefix="/assistants", tags=["LangGraph assistants"])

# When this assistant's contract was set; it changes with the graph, not with each deploy.
DEFINED_AT = "2026-11-24T00:00:00+00:00"
AssistantId = Annotated[str, Path(max_length=64, examples=[ASSISTANT_ID])]


class WriterContext(BaseModel):
    """The run context the travel writer reads (``context``, or ``config.configurable``)."""

    use_hitl: bool = Field(default=True, description="Pause after every node for the human.")
    max_revisions: int = Field(default=DEFAULT_MAX_REVISIONS, ge=1, le=5, description="Drafts before done.")


def assistant_json() -> dict[str, Any]:
    return {
        "assistant_id": ASSISTANT_ID,
        "graph_id": ASSISTANT_ID,
        "name": ASSISTANT_ID,
        "description": "Writes a travel piece: plan, research, draft, critique, research, revise.",
        "config": {},
        "context": WriterContext().model_dump(),
        "metadata": {"created_by": "system"},
        "version": 1,
        "created_at": DEFINED_AT,
        "updated_at": DEFINED_AT,
    }


@router.post("/search", response_model=list[Assistant], response_model_exclude_unset=True)
async def search_assistants(body: AssistantSearch) -> list[dict[str, Any]]:
    assistant = assistant_json()
    matches = (
        body.graph_id in (None, ASSISTANT_ID)
        and body.name in (None, ASSISTANT_ID)
        and all(assistant["metadata"].get(k) == v for k, v in (body.metadata or {}).items())
    )
    found = [assistant][body.offset : body.offset + body.limit] if matches else []
    return selected(found, body.select, Assistant, "an assistant")


@router.get("/{assistant_id}", response_model=Assistant)
async def get_assistant(assistant_id: AssistantId) -> dict[str, Any]:
    check_assistant_id(assistant_id)
    return assistant_json()


@router.get("/{assistant_id}/graph")
async def get_graph(
    assistant_id: AssistantId, runs: Runs, xray: Annotated[bool | int, Query()] = False
) -> dict[str, Any]:
    """The graph's nodes and edges, as LangGraph draws them."""
    check_assistant_id(assistant_id)
    drawable: dict[str, Any] = runs.graph.get_graph(xray=xray).to_json()
    return drawable


@router.get("/{assistant_id}/schemas")
async def get_schemas(assistant_id: AssistantId, runs: Runs) -> dict[str, Any]:
    """JSON schemas of the graph's input, output, state and context."""
    check_assistant_id(assistant_id)
    graph = runs.graph
    return {
        "graph_id": ASSISTANT_ID,
        "input_schema": graph.get_input_jsonschema(),
        "output_schema": graph.get_output_jsonschema(),
        "state_schema": graph.get_output_jsonschema(),
        "config_schema": None,
        "context_schema": WriterContext.model_json_schema(),
    }


@router.get("/{assistant_id}/subgraphs")
async def get_subgraphs(assistant_id: AssistantId) -> dict[str, Any]:
    """The travel writer has no subgraphs."""
    check_assistant_id(assistant_id)
    return {}
