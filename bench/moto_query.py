"""Why moto bends under load: its Query looks at every item of the table, so each one gets
slower as the table grows, while DynamoDB (and dynalite) read only the partition asked for.

    uv run python -m bench.moto_query [--steps 6] [--per-step 5000]

A fresh table on a moto server and on dynalite grows by ``--per-step`` items (2 KB each, in
BatchWriteItems, none of them in the partitions queried); after each step, the median time of
20 Queries of a one-item partition and of 20 UpdateItems.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3

from bench.load import backend
from wayfarer.devstack import local_credentials
from wayfarer.persistence import ensure_local_resources
from wayfarer.settings import Settings


def median_ms(call: Callable[[int], Any], times: int = 20) -> float:
    spent = []
    for i in range(times):
        start = time.perf_counter()
        call(i)
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


PAYLOAD = {"payload": {"B": b"x" * 2000}}


def grow(client: Any, table: str, items: int) -> None:
    prefix = uuid.uuid4().hex[:8]
    for start in range(0, items, 25):
        batch = [
            {"PutRequest": {"Item": {"PK": {"S": f"CHUNK_{prefix}-{n}"}, "SK": {"S": "CHUNK"}, **PAYLOAD}}}
            for n in range(start, min(start + 25, items))
        ]
        client.batch_write_item(RequestItems={table: batch})


def measure(name: str, steps: int, per_step: int) -> list[tuple[int, float, float]]:
    rows = []
    with backend(name) as url:
        settings = Settings(dynamodb_endpoint_url=url, table_name=f"query-{uuid.uuid4().hex[:8]}")
        ensure_local_resources(settings)
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
        table = settings.table_name
        for i in range(20):
            key = {"PK": {"S": f"THREAD_q{i}"}, "SK": {"S": "LEASE"}}
            client.put_item(TableName=table, Item=key)
        size = 20
        for _ in range(steps + 1):

            def query(i: int) -> Any:
                return client.query(
                    TableName=table,
                    KeyConditionExpression="PK = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"THREAD_q{i}"}},
                )

            def update(i: int) -> Any:
                return client.update_item(
                    TableName=table,
                    Key={"PK": {"S": f"THREAD_q{i}"}, "SK": {"S": "LEASE"}},
                    UpdateExpression="SET holder = :h",
                    ExpressionAttributeValues={":h": {"S": "bench"}},
                )

            rows.append((size, median_ms(query), median_ms(update)))
            grow(client, table, per_step)
            size += per_step
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--per-step", type=int, default=5000)
    args = parser.parse_args()
    local_credentials()
    results = {name: measure(name, args.steps, args.per_step) for name in ("moto", "dynalite")}
    print("\n| items in the table | moto: Query ms | UpdateItem ms | dynalite: Query ms | UpdateItem ms |")
    print("|---:|---:|---:|---:|---:|")
    for (size, mq, mu), (_, dq, du) in zip(results["moto"], results["dynalite"], strict=True):
        print(f"| {size:,} | {mq:.1f} | {mu:.1f} | {dq:.1f} | {du:.1f} |")


if __name__ == "__main__":
    main()
