"""Structured logs: Powertools Logger, JSON, with thread_id and run_id on every run line.

Prompt and draft text are never logged at INFO."""

from __future__ import annotations

from aws_lambda_powertools import Logger

SERVICE = "wayfarer"


def configure_logging() -> Logger:
    """The service's parent logger; modules log through ``Logger(child=True)``."""
    return Logger(service=SERVICE)
