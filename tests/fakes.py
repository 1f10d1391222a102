"""Fake providers, used through the same interfaces as the real ones."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from wayfarer.graph.prompts import brief_in
from wayfarer.graph.state import Source
from wayfarer.models.offline import OfflineChatModel
from wayfarer.providers import ProviderError, Step
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


class FailingChatModel(OfflineChatModel):
    """The offline writer, failing the first ``failures_left`` calls of one step: streamed, it
    fails after a partial chunk, as a model endpoint that drops mid-answer."""

    step: Step
    failures_left: int = 1

    def _fails(self, messages: list[BaseMessage]) -> bool:
        if brief_in(messages).step == self.step and self.failures_left > 0:
            self.failures_left -= 1
            return True
        return False

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._fails(messages):
            raise ProviderError("the model endpoint returned 503 (throttled)")
        return super()._generate(messages, stop, run_manager, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if self._fails(messages):
            yield ChatGenerationChunk(message=AIMessageChunk(content="partial "))
            raise ProviderError("the model endpoint returned 503 (throttled)")
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk


class FailingModel:
    """A model provider whose chat model fails the first ``times`` calls of one step."""

    name = "failing"

    def __init__(self, step: Step, times: int = 1) -> None:
        self.chat = FailingChatModel(step=step, failures_left=times, pace_ms=0)

    def chat_model(self) -> FailingChatModel:
        return self.chat
