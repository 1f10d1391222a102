"""The Bedrock provider hands the graph ChatBedrockConverse itself, built once, when first asked
(that it is not imported before is tested on the ApiFunction's cold start)."""

from __future__ import annotations

from langchain_aws import ChatBedrockConverse

from wayfarer.models.bedrock import BedrockModel

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"


def test_bedrock_chat_model_is_chat_bedrock_converse_built_once() -> None:
    provider = BedrockModel(MODEL_ID, "eu-west-1")
    chat = provider.chat_model()  # no request is sent: the client connects when called
    assert isinstance(chat, ChatBedrockConverse)
    assert (chat.model_id, chat.region_name) == (MODEL_ID, "eu-west-1")
    assert provider.chat_model() is chat
