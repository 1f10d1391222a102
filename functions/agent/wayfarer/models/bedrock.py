"""Amazon Bedrock: langchain-aws ChatBedrockConverse, the chat model itself.

langchain_aws is imported on first use: importing it costs ~2 s, and the buffered API entry
must not pay that unless a route actually runs the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


class BedrockModel:
    name = "bedrock"

    def __init__(self, model_id: str, region: str) -> None:
        self.model_id = model_id
        self.region = region
        self._chat: BaseChatModel | None = None

    def chat_model(self) -> BaseChatModel:
        if self._chat is None:
            from langchain_aws import ChatBedrockConverse

            self._chat = ChatBedrockConverse(model=self.model_id, region_name=self.region)
        return self._chat
