"""The official LangGraph checkpointer conformance suite, against our saver on two
independent DynamoDB implementations (moto server and dynalite)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from langgraph.checkpoint.conformance import checkpointer_test, validate

from wayfarer.devstack import dynalite
from wayfarer.persistence import ensure_local_resources, make_checkpointer
from wayfarer.settings import Settings

BASE = {"put", "put_writes", "get_tuple", "list", "delete_thread"}


async def assert_conformant(endpoint: str) -> None:
    settings = Settings(dynamodb_endpoint_url=endpoint, table_name=f"conf-{uuid.uuid4().hex[:8]}")
    ensure_local_resources(settings)

    @checkpointer_test(name="wayfarer-dynamodb")
    async def saver() -> AsyncIterator[object]:
        yield make_checkpointer(settings)

    report = await validate(saver, capabilities=BASE)
    failures = {name: r.failures for name, r in report.results.items() if r.passed is not True}
    assert report.passed_all_base(), failures


async def test_saver_passes_base_conformance_on_moto(moto_endpoint: str) -> None:
    await assert_conformant(moto_endpoint)


async def test_saver_passes_base_conformance_on_dynalite(tmp_path: Path) -> None:
    with dynalite(tmp_path / "dyn") as endpoint:
        await assert_conformant(endpoint)
