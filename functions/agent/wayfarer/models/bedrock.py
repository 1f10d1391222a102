"""Amazon Bedrock: langchain-aws ChatBedrockConverse, the chat model itself.

langchain_aws is imported on first use: importing it costs ~2 s, and the buffered API entry
must not pay that unless a route actually runs the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


class BedrockModel:
    name = "bedrock"

    def __init__(self, model_id: str, region: str, endpoint_url: str | None = None) -> None:
        self.model_id = model_id
        self.region = region
        self.endpoint_url = endpoint_url  # None: AWS's own Bedrock Runtime endpoint for the region
        self._chat: BaseChatModel | None = None

    def chat_model(self) -> BaseChatModel:
        if self._chat is None:
            from langchain_aws import ChatBedrockConverse

            # base_url: the alias (as model is model_id's) of its endpoint_url field.
            # disable_streaming=False: langchain-aws would otherwise silently stop streaming
            # tokens for a model id missing from its own list of streaming models.
            self._chat = ChatBedrockConverse(
                model=self.model_id,
                region_name=self.region,
                base_url=self.endpoint_url or None,
                disable_streaming=False,
            )
        return self._chat
