"""Builds the long-lived pieces once per process: checkpointer, providers, graph, runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wayfarer.auth import Authenticator, JwtAuth, NoAuth
from wayfarer.event_log import DynamoDBEventLog
from wayfarer.graph.builder import build_graph
from wayfarer.leases import DynamoDBRunLeases
from wayfarer.logs import configure_logging
from wayfarer.models import make_model_provider
from wayfarer.persistence import ThreadRecords, ensure_local_resources, make_checkpointer
from wayfarer.providers import ModelProvider, ResearchProvider
from wayfarer.research import make_research_provider
from wayfarer.runs import RunService, RunTimings
from wayfarer.settings import Settings


@dataclass
class Services:
    settings: Settings
    model: ModelProvider
    research: ResearchProvider
    runs: RunService
    auth: Authenticator

    def aws_clients(self) -> list[Any]:
        """The AWS clients the services hold (DynamoDB, and S3 for offloaded checkpoints)."""
        checkpointer = self.runs.checkpointer
        clients = [getattr(checkpointer, "client", None), self.runs.threads.client]
        clients.append(getattr(getattr(checkpointer, "storage", None), "s3_client", None))
        unique = {id(c): c for c in clients if c is not None}
        return list(unique.values())


def make_authenticator(settings: Settings) -> Authenticator:
    if settings.auth_mode == "jwt":
        assert settings.auth_issuer and settings.auth_audience  # checked by Settings
        return JwtAuth(settings.auth_issuer, settings.auth_audience, settings.auth_jwks_url)
    return NoAuth()


def build_services(
    settings: Settings,
    model: ModelProvider | None = None,
    research: ResearchProvider | None = None,
) -> Services:
    """Everything the routes need. Tests pass their own model or research provider."""
    configure_logging()  # the runs' child logger needs its parent, with or without the app
    ensure_local_resources(settings)
    model = model or make_model_provider(settings)
    research = research or make_research_provider(settings)
    checkpointer = make_checkpointer(settings)
    graph = build_graph(model, research, settings.research_max_results).compile(checkpointer=checkpointer)
    client = checkpointer.client
    runs = RunService(
        graph=graph,
        checkpointer=checkpointer,
        threads=ThreadRecords(settings, client=client),
        leases=DynamoDBRunLeases(client, settings.table_name, settings.lease_seconds, settings.ttl_seconds),
        log=DynamoDBEventLog(client, settings.table_name, settings.ttl_seconds),
        timings=RunTimings(
            lease_poll_seconds=settings.lease_poll_seconds, join_poll_seconds=settings.join_poll_seconds
        ),
        model_name=model.name,
        research_name=research.name,
        max_message_chars=settings.max_message_chars,
        max_metadata_bytes=settings.max_metadata_bytes,
        deadline_margin_seconds=settings.deadline_margin_seconds,
        max_runs=settings.max_runs,
    )
    return Services(
        settings=settings, model=model, research=research, runs=runs, auth=make_authenticator(settings)
    )
