from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.servers import ThreadedServer, moto_server
from wayfarer.api import create_app
from wayfarer.providers import ModelProvider, ResearchProvider
from wayfarer.services import build_services
from wayfarer.settings import Settings

# boto3 signs every request; local servers accept any key. No WAYFARER_* leaks into tests.
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
for name in [k for k in os.environ if k.startswith("WAYFARER_")]:
    del os.environ[name]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def settings(moto_endpoint: str) -> Settings:
    """A fresh table (and offload bucket) per test on the shared moto server."""
    suffix = uuid.uuid4().hex[:10]
    return Settings(
        dynamodb_endpoint_url=moto_endpoint,
        s3_endpoint_url=moto_endpoint,
        table_name=f"wf-{suffix}",
        offload_bucket=f"wf-offload-{suffix}",
        offline_pace_ms=0,
    )


Serve = Callable[..., httpx.Client]


@pytest.fixture
def serve(settings: Settings) -> Iterator[Serve]:
    """Start the real app under uvicorn; answer an httpx client bound to it."""
    started: list[tuple[ThreadedServer, httpx.Client]] = []

    def start(
        settings: Settings = settings,
        model: ModelProvider | None = None,
        research: ResearchProvider | None = None,
    ) -> httpx.Client:
        app = create_app(settings, services=build_services(settings, model=model, research=research))
        server = ThreadedServer(app).__enter__()
        client = httpx.Client(base_url=server.url, timeout=30)
        started.append((server, client))
        return client

    yield start
    for server, client in started:
        client.close()
        server.__exit__(None, None, None)


@pytest.fixture
def client(serve: Serve) -> httpx.Client:
    return serve()


def run_body(**fields: Any) -> dict[str, Any]:
    return {"thread_id": f"t-{uuid.uuid4().hex[:12]}", "use_hitl": True, **fields}


def random_text(chars: int) -> str:
    """Text that compression cannot shrink below about three quarters of its size (random
    URL-safe characters: 6 bits each): to be too large for an item even once compressed."""
    return secrets.token_urlsafe(chars)[:chars]
