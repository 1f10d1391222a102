"""Model providers behind one factory chosen by settings."""

from __future__ import annotations

from wayfarer.providers import ModelProvider
from wayfarer.settings import Settings


def make_model_provider(settings: Settings) -> ModelProvider:
    if settings.active_model_provider == "bedrock":
        from wayfarer.models.bedrock import BedrockModel

        return BedrockModel(
            settings.bedrock_model_id, settings.aws_region, endpoint_url=settings.bedrock_endpoint_url
        )
    from wayfarer.models.offline import OfflineModel

    return OfflineModel(pace_ms=settings.offline_pace_ms)
