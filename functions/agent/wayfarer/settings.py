"""All configuration, read once from the environment (prefix ``WAYFARER_``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ModelProviderName = Literal["bedrock", "offline"]
AuthMode = Literal["none", "jwt"]
ResearchProviderName = Literal["tavily", "offline"]

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def running_in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYFARER_", extra="ignore")

    # Providers. Empty means: bedrock in Lambda, offline everywhere else.
    model_provider: ModelProviderName | None = None
    bedrock_model_id: str = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    # Where Bedrock Runtime is called, when not AWS's own endpoint (a local Converse server in tests).
    bedrock_endpoint_url: str | None = None
    research_provider: ResearchProviderName = "offline"
    tavily_api_key: str | None = None
    research_max_results: int = Field(default=3, ge=1, le=10)
    # Milliseconds the offline model waits between chunks, so streaming is visible.
    offline_pace_ms: float = Field(default=20.0, ge=0)

    # Persistence.
    aws_region: str = Field(
        default_factory=lambda: (
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
    )
    table_name: str = "wayfarer-checkpoints"
    dynamodb_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    offload_bucket: str | None = None
    ttl_days: int = Field(default=30, ge=1)

    # Runs.
    max_message_chars: int = 8000
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    # Stop before a node when fewer seconds than this remain in the invocation.
    deadline_margin_seconds: float = Field(default=60.0, ge=0)
    # A run holds its thread for this long past its last renewal (renewed every third of it),
    # so a dead instance blocks a thread at most this long.
    lease_seconds: float = Field(default=30.0, ge=3)
    # Runs this process drives at once; more wait in line (FIFO) before they take their thread.
    # Bounds what one process asks of its store: past what the store answers in time, more
    # runs at once only make every run's lease renewals late. In Lambda an instance serves
    # one request at a time, so this matters for one big host (make dev, a container).
    max_runs: int = Field(default=32, ge=1)
    # How often a run looks for a cancel, and a joiner for new events.
    lease_poll_seconds: float = Field(default=1.0, gt=0)
    join_poll_seconds: float = Field(default=0.25, gt=0)
    # Limits on what a caller may store.
    max_edit_chars: int = 1_000_000  # a sanity bound; over 350 KB needs S3 offload
    max_metadata_bytes: int = 16_384

    # Auth. "none": one local user (refused in Lambda unless auth_allow_none_in_lambda says so);
    # "jwt": a bearer access token from ``auth_issuer`` for ``auth_audience`` on every route.
    auth_mode: AuthMode = "none"
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_jwks_url: str | None = None  # default {issuer}/.well-known/jwks.json
    auth_allow_none_in_lambda: bool = False
    # Where the site's sign-in calls Cognito, when not AWS's own endpoint (a local moto server).
    auth_cognito_endpoint: str | None = None

    # HTTP. CORS stays off in Lambda: the function URL config owns it there.
    cors_origins: list[str] = Field(default_factory=list)
    web_dist: Path | None = None

    @model_validator(mode="after")
    def _default_model_provider(self) -> Settings:
        if self.model_provider is None:
            self.model_provider = "bedrock" if running_in_lambda() else "offline"
        return self

    @model_validator(mode="after")
    def _auth_is_complete(self) -> Settings:
        # The template passes "" for settings a mode does not use.
        for name in ("auth_issuer", "auth_audience", "auth_jwks_url", "auth_cognito_endpoint"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        if self.auth_mode == "jwt" and not (self.auth_issuer and self.auth_audience):
            raise ValueError("WAYFARER_AUTH_MODE=jwt needs WAYFARER_AUTH_ISSUER and WAYFARER_AUTH_AUDIENCE.")
        if self.auth_mode == "none" and running_in_lambda() and not self.auth_allow_none_in_lambda:
            raise ValueError(
                "WAYFARER_AUTH_MODE=none in Lambda would let anyone on the internet use this app. "
                "Set WAYFARER_AUTH_MODE=jwt, or WAYFARER_AUTH_ALLOW_NONE_IN_LAMBDA=true to mean it "
                "(the stack's AuthMode iam or none)."
            )
        return self

    @property
    def active_model_provider(self) -> ModelProviderName:
        assert self.model_provider is not None  # set by the validator
        return self.model_provider

    @property
    def ttl_seconds(self) -> int:
        return self.ttl_days * 86400

    @property
    def is_local_endpoint(self) -> bool:
        """True when DynamoDB is a server on this machine (dynalite, moto)."""
        if not self.dynamodb_endpoint_url:
            return False
        return (urlparse(self.dynamodb_endpoint_url).hostname or "") in LOCAL_HOSTS
