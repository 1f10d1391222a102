"""The built web app, served at ``/`` beside the API (locally; in the cloud S3 serves it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class SiteFiles(StaticFiles):
    """Static files at ``/`` that leave the API's paths to the API: a path that is an API route
    for other methods answers 405 with ``Allow``, not the site's 404."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = app

    def _allowed(self, scope: Scope) -> set[str]:
        """The methods the API's routes take at this path (Starlette's own matching)."""
        routes = [route for route in self._api.routes if not isinstance(route, Mount)]
        return {
            method
            for method in METHODS
            for route in routes
            if route.matches({**scope, "method": method})[0] == Match.FULL
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = self._allowed(scope) if scope["type"] == "http" else set()
        if allowed:
            response = JSONResponse(
                {"detail": f"{scope['method']} is not allowed here; use {', '.join(sorted(allowed))}."},
                status_code=405,
                headers={"Allow": ", ".join(sorted(allowed))},
            )
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
