"""Amazon Bedrock through langchain-aws ChatBedrockConverse, streamed token by token.

langchain_aws is imported on first use: importing it costs ~2 s, and the buffered API entry
must not pay that unless a route actually runs the model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from wayfarer.graph.prompts import SYSTEM, user_prompt
from wayfarer.providers import ProviderError, WritingBrief


class BedrockModel:
    name = "bedrock"

    def __init__(self, model_id: str, region: str) -> None:
        self.model_id = model_id
        self.region = region
        self._chat: Any = None

    def _client(self) -> Any:
        if self._chat is None:
            from langchain_aws import ChatBedrockConverse

            self._chat = ChatBedrockConverse(model=self.model_id, region_name=self.region)
        return self._chat

    async def stream(self, brief: WritingBrief) -> AsyncIterator[str]:
        messages = [("system", SYSTEM[brief.step]), ("human", user_prompt(brief))]
        try:
            async for chunk in self._client().astream(messages):
                if chunk.text:
                    yield chunk.text
        except Exception as exc:  # botocore raises many types; the run needs one
            raise ProviderError(f"Bedrock model {self.model_id} failed: {exc}") from exc
