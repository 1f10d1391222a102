"""The errors a caller can meet, each mapped to one HTTP status by the API layer."""

from __future__ import annotations

from typing import Any


class WayfarerError(Exception):
    """Base: the message says what failed and what to do. ``fields`` join ``detail`` in the
    JSON answer; ``headers`` go on the response."""

    status_code = 400

    def __init__(
        self, message: str, *, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.fields = fields or {}
        self.headers = headers or {}


class NotFound(WayfarerError):
    status_code = 404


class Conflict(WayfarerError):
    status_code = 409


class InvalidRequest(WayfarerError):
    status_code = 422
