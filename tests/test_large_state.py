"""A state bigger than DynamoDB's 400 KB item limit, even compressed, is offloaded to S3 and
resumes; one that compresses under the limit stays in DynamoDB."""

from __future__ import annotations

import boto3
import httpx

from tests.conftest import random_text, run_body
from tests.sse_clients import nodes_of, stream
from wayfarer.settings import Settings


def test_a_700_kb_draft_is_stored_in_s3_and_the_thread_resumes(
    client: httpx.Client, settings: Settings
) -> None:
    body = run_body(message="Write about visiting Paris")
    stream(client, body)
    big_draft = random_text(700_000)  # ~530 KB compressed
    edited = client.post(f"/threads/{body['thread_id']}/state", json={"values": {"draft": big_draft}})
    assert edited.status_code == 200

    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.offload_bucket).get("Contents", [])]
    assert any(key.startswith(f"{body['thread_id']}/checkpoints/") for key in keys)

    events = stream(client, {"thread_id": body["thread_id"]})
    assert nodes_of(events) == ["travel_plan"] and events[-1]["event"] == "interrupt"
    state = client.get(f"/threads/{body['thread_id']}/state").json()
    assert state["values"]["draft"] == big_draft
