"""The errors a caller can meet, each mapped to one HTTP status by the API layer."""

from __future__ import annotations


class WayfarerError(Exception):
    """Base: the message says what failed and what to do."""

    status_code = 400


class NotFound(WayfarerError):
    status_code = 404


class Conflict(WayfarerError):
    status_code = 409


class InvalidRequest(WayfarerError):
    status_code = 422
