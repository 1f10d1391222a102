"""The FastAPI app: settings, error handlers, the routers (``routes/``), the site.

Run with ``uvicorn --factory wayfarer.api:create_app``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from wayfarer.api_docs import install_api_docs
from wayfarer.aws_errors import RETRY_AFTER_SECONDS, storage_status
from wayfarer.errors import WayfarerError
from wayfarer.routes import assistants, graph_runs, health, runs, threads
from wayfarer.schemas import RunEvent
from wayfarer.services import Services, build_services
from wayfarer.settings import Settings
from wayfarer.site import SiteFiles
from wayfarer.snapstart import (
    AFTER_RESTORE_PATH,
    BEFORE_CHECKPOINT_PATH,
    after_restore,
    before_checkpoint,
    hooks_enabled,
)

logger = Logger(service="wayfarer", child=True)
# The API, one router per resource: ours, and LangGraph Server's beside them.
ROUTERS = (health.router, assistants.router, threads.router, graph_runs.router, runs.router)
BODY_PARSE_ERROR = "There was an error parsing the body"
COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+)$")


def site_auth(settings: Settings) -> dict[str, Any] | None:
    """How the site signs in: a Cognito pool named by the issuer, or nothing (auth off)."""
    match = COGNITO_ISSUER.match(settings.auth_issuer or "") if settings.auth_mode == "jwt" else None
    if match is None:
        return None
    auth: dict[str, Any] = {
        "type": "cognito",
        "region": match["region"],
        "userPoolId": match["pool"],
        "clientId": settings.auth_audience,
    }
    if settings.auth_cognito_endpoint:
        auth["endpoint"] = settings.auth_cognito_endpoint
    return auth


def openapi_with_events(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """OpenAPI, plus the RunEvent union the stream routes name for their text/event-stream."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            events = TypeAdapter(RunEvent).json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(events.pop("$defs", {}))
            components["RunEvent"] = events
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    services_factory: Callable[[Settings], Services] = build_services,
) -> FastAPI:
    """The app. ``services`` given: use them (Lambda builds them at import, tests inject
    their own); otherwise they are built at startup from ``settings``."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "services", None) is None:
            app.state.services = services_factory(settings)
        yield
        await app.state.services.runs.drain()

    app = FastAPI(
        title="Wayfarer",
        docs_url=None,  # served from the app itself below, so they work offline
        redoc_url=None,
        version="0.1.0",
        summary="A human-in-the-loop travel writer that streams every step.",
        lifespan=lifespan,
    )
    app.state.services = services
    if hooks_enabled():
        add_snapstart_hooks(app)
    install_api_docs(app)  # before the site's "/" mount, which would answer /docs otherwise
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    add_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = openapi_with_events(app)  # type: ignore[method-assign]
    if settings.web_dist and settings.web_dist.is_dir():
        add_site(app, settings)
    return app


def add_snapstart_hooks(app: FastAPI) -> None:
    """SnapStart's two lifecycle events, relayed by the Lambda Web Adapter (snapstart.py). The
    adapter answers 403 to anyone else asking for these paths."""

    @app.post(BEFORE_CHECKPOINT_PATH, include_in_schema=False, status_code=204)
    async def snapstart_before_checkpoint(request: Request) -> Response:
        before_checkpoint(request.app.state.services.aws_clients())
        return Response(status_code=204)

    @app.post(AFTER_RESTORE_PATH, include_in_schema=False, status_code=204)
    async def snapstart_after_restore(request: Request) -> Response:
        after_restore(request.app.state.services.aws_clients())
        return Response(status_code=204)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WayfarerError)
    async def wayfarer_error(_: Request, exc: WayfarerError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), **exc.fields}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes each bad input back: 500 KB of metadata, or a lone
        # surrogate that cannot even be encoded. Say where and what, not the input.
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:  # FastAPI's words for it
            return JSONResponse({"detail": "The request body is not valid JSON in UTF-8."}, status_code=422)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ClientError)
    @app.exception_handler(BotoCoreError)
    async def storage_error(request: Request, exc: Exception) -> JSONResponse:
        status, detail = storage_status(exc)
        # The AWS text (and any ARN in it) is for the log, not for the caller.
        logger.error("storage error", extra={"path": request.url.path, "status": status}, exc_info=exc)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
        return JSONResponse({"detail": "Internal server error; it has been logged."}, status_code=500)


def add_site(app: FastAPI, settings: Settings) -> None:
    """The built web app at "/", and its config.json with this server's sign-in."""
    assert settings.web_dist is not None
    site_dir = settings.web_dist

    @app.get("/config.json", include_in_schema=False)
    async def site_config() -> dict[str, Any]:
        """The site's config (web/dist/config.json) with this server's sign-in, so the local
        site signs in where the app checks tokens; in the cloud `make deploy` writes the file."""
        path = site_dir / "config.json"
        config: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
        return {**config, "auth": site_auth(settings)}

    app.mount("/", SiteFiles(app, directory=site_dir, html=True), name="web")
