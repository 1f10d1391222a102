"""Reading many threads' leases at once (the thread list), on dynalite: what each says matches
a read of it alone, in the order asked, in one BatchGetItem per hundred threads."""

from __future__ import annotations

from pathlib import Path

from tests.test_read_once import Requests
from wayfarer.devstack import dynalite
from wayfarer.leases import DynamoDBRunLeases, LastRun
from wayfarer.persistence import dynamodb_client, ensure_local_resources
from wayfarer.settings import Settings


async def test_many_leases_read_together_say_what_each_says_alone(tmp_path: Path) -> None:
    with dynalite(tmp_path / "dyn") as endpoint:
        settings = Settings(dynamodb_endpoint_url=endpoint, table_name="leases")
        ensure_local_resources(settings)
        client = dynamodb_client(settings)
        leases = DynamoDBRunLeases(client, settings.table_name, lease_seconds=30, ttl_seconds=3600)
        threads = [f"thread-{n:03}" for n in range(130)]
        for n, thread in enumerate(threads):
            if n % 3 == 0:
                continue  # never run: no item
            lease = await leases.acquire(thread, f"run-{n}", "run")
            if n % 3 == 1:  # ended; the others still run
                status = "interrupted" if n % 2 else "error"
                await leases.release(lease, LastRun(f"run-{n}", status, "it broke" if n % 2 == 0 else None))
        asked = [*reversed(threads), "never-made", threads[5]]  # a thread twice: asked once
        alone = [await leases.read(thread) for thread in asked]

        requests = Requests()
        client.meta.events.register("before-send", requests)
        together = await leases.read_many(asked)

        assert requests.operations == ["BatchGetItem", "BatchGetItem"]  # 131 threads: 100 + 31
        assert len(together) == len(asked)
        assert [state.last for state in together] == [state.last for state in alone]
        assert [(state.holder, state.holder_kind) for state in together] == [
            (state.holder, state.holder_kind) for state in alone
        ]
        assert sum(state.busy for state in together) == 43 + 1  # thread-005 runs, and is asked twice
        assert together[-2].last == LastRun() and not together[-2].busy
        assert await leases.read_many([]) == []
