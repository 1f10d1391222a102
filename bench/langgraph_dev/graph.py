"""The travel writer as `langgraph dev` loads it (bench/side_by_side.py): the same graph and
offline model, at zero pace, with LangGraph Server's own checkpointer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions/agent"))

from wayfarer.graph.builder import build_graph
from wayfarer.models.offline import OfflineModel
from wayfarer.research.offline import OfflineGuide

graph = build_graph(OfflineModel(pace_ms=0), OfflineGuide()).compile()
