"""Fake providers, used through the same interfaces as the real ones."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from wayfarer.graph.state import Source
from wayfarer.models.offline import OfflineModel
from wayfarer.providers import ProviderError, Step, WritingBrief
from wayfarer.research.offline import OfflineGuide


class GatedResearch:
    """The offline guide, but every search waits until the test opens the gate."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.called = threading.Event()
        self.inner = OfflineGuide()

    async def search(self, query: str, max_results: int) -> list[Source]:
        self.called.set()
        await asyncio.to_thread(self.gate.wait)
        return await self.inner.search(query, max_results)


class FailingModel:
    """The offline model, failing the first ``times`` calls of one step."""

    name = "failing"

    def __init__(self, step: Step, times: int = 1) -> None:
        self.step = step
        self.failures_left = times
        self.inner = OfflineModel(pace_ms=0)

    async def stream(self, brief: WritingBrief) -> AsyncIterator[str]:
        if brief.step == self.step and self.failures_left > 0:
            self.failures_left -= 1
            yield "partial "
            raise ProviderError("the model endpoint returned 503 (throttled)")
        async for chunk in self.inner.stream(brief):
            yield chunk
