"""The app's SnapStart hooks: after a restore every AWS client opens new connections and
`random` is reseeded; the hooks exist only where the adapter relays them."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from tests.servers import ThreadedServer
from wayfarer import snapstart
from wayfarer.api import create_app
from wayfarer.services import build_services
from wayfarer.settings import Settings


def pooled_connections(client: Any) -> int:
    """Connections the botocore client keeps open in its urllib3 pools."""
    pools = client._endpoint.http_session._manager.pools
    keys = pools.keys()  # a RecentlyUsedContainer: not iterable itself
    return sum(1 for key in keys for conn in list(pools[key].pool.queue) if conn is not None)


def test_after_restore_drops_every_pooled_connection_and_reseeds(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH", snapstart.AFTER_RESTORE_PATH)
    services = build_services(settings)
    with ThreadedServer(create_app(settings, services=services)) as server:
        client = httpx.Client(base_url=server.url, timeout=30)
        assert client.post("/threads", json={"thread_id": "snap"}).status_code == 201
        clients = services.aws_clients()
        assert len(clients) == 2  # DynamoDB, and S3 for offloaded checkpoints
        assert pooled_connections(clients[0]) > 0  # what a snapshot would carry
        state = random.getstate()
        assert client.post(snapstart.AFTER_RESTORE_PATH).status_code == 204
        assert [pooled_connections(c) for c in clients] == [0, 0]
        assert random.getstate() != state
        assert client.get("/threads/snap").status_code == 200  # the same clients connect afresh
        assert pooled_connections(clients[0]) > 0
        assert client.post(snapstart.BEFORE_CHECKPOINT_PATH).status_code == 204
        assert [pooled_connections(c) for c in clients] == [0, 0]


def test_without_the_adapters_hooks_the_paths_do_not_exist(client: httpx.Client) -> None:
    assert client.post(snapstart.AFTER_RESTORE_PATH).status_code in (404, 405)
