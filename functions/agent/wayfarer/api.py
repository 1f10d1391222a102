"""HTTP routes. Thin: validate the request, call the run service, encode the answer.

Run with ``uvicorn --factory wayfarer.api:create_app``."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from wayfarer.api_docs import install_api_docs
from wayfarer.auth import Caller, CurrentCaller
from wayfarer.aws_errors import RETRY_AFTER_SECONDS, storage_status
from wayfarer.errors import InvalidRequest, WayfarerError
from wayfarer.lambda_context import invocation_deadline
from wayfarer.persistence import ThreadRecord
from wayfarer.runs import RUN_ID, THREAD_ID, RunRequest, RunService
from wayfarer.services import Services, build_services
from wayfarer.settings import Settings
from wayfarer.site import SiteFiles
from wayfarer.sse import HEADERS, HEARTBEAT, MEDIA_TYPE, encode_event
from wayfarer.table_keys import ThreadRef

logger = Logger(service="wayfarer", child=True)
BODY_PARSE_ERROR = "There was an error parsing the body"
DEFAULTS = Settings.model_construct()  # limits for the request models (one source: settings)


def valid_unicode(value: Any) -> Any:
    """Refuse lone surrogates (``"\\ud800"`` in JSON): they cannot be stored or streamed."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise ValueError(
            "contains an unpaired UTF-16 surrogate (such as \\ud800); send valid Unicode text"
        ) from exc
    return value


Text = Annotated[str, AfterValidator(valid_unicode)]
ThreadId = Annotated[str, Field(pattern=THREAD_ID.pattern, examples=["test123"])]
ThreadIdPath = Annotated[str, Path(pattern=THREAD_ID.pattern, examples=["test123"])]
RunIdPath = Annotated[str, Path(pattern=RUN_ID.pattern, description="A run id (a UUID, lower case).")]


class CreateThread(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    metadata: Annotated[dict[str, Any], AfterValidator(valid_unicode)] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value).encode())
        if size > DEFAULTS.max_metadata_bytes:
            raise ValueError(f"is {size} bytes as JSON; the limit is {DEFAULTS.max_metadata_bytes}")
        return value


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    message: Text | None = Field(default=None, description="The task, or feedback when resuming.")
    use_hitl: bool = True
    max_revisions: int | None = Field(default=None, ge=1, le=5)


class StateEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, Annotated[Text, Field(max_length=DEFAULTS.max_edit_chars)]]


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


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_runs(request: Request) -> RunService:
    return get_services(request).runs


Runs = Annotated[RunService, Depends(get_runs)]


def thread_ref(thread_id: ThreadIdPath, caller: CurrentCaller) -> ThreadRef:
    """The thread named in the path, as the caller's own: another user's is not found."""
    return ThreadRef(caller.owner, thread_id)


Thread = Annotated[ThreadRef, Depends(thread_ref)]


def encode_cursor(last: ThreadRecord | None) -> str | None:
    """Where the next page starts: the last thread's id and activity time, nothing more."""
    if last is None:
        return None
    return base64.urlsafe_b64encode(json.dumps([last.updated_at, last.thread_id]).encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        updated_at, thread_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(updated_at, str) and isinstance(thread_id, str) and THREAD_ID.match(thread_id):
            return updated_at, thread_id
    except (ValueError, TypeError):
        pass
    raise InvalidRequest("cursor is not one this server gave you; start again without it.")


def run_request(body: RunBody, request: Request, caller: Caller) -> RunRequest:
    return RunRequest(
        thread_id=body.thread_id,
        owner=caller.owner,
        message=body.message,
        use_hitl=body.use_hitl,
        max_revisions=body.max_revisions,
        deadline=invocation_deadline(request.headers, request.scope.get("aws.context")),
    )


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
    install_api_docs(app)  # before the site's "/" mount, which would answer /docs otherwise
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )

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

    @app.get("/health")
    async def health(request: Request) -> dict[str, str]:
        services = get_services(request)
        return {"status": "ok", "model": services.model.name, "research": services.research.name}

    @app.post("/threads", status_code=201)
    async def create_thread(body: CreateThread, runs: Runs, caller: CurrentCaller) -> dict[str, Any]:
        return await runs.create_thread(caller.owner, body.thread_id, body.metadata)

    @app.get("/threads")
    async def list_threads(
        runs: Runs,
        caller: CurrentCaller,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[
            str | None, Query(max_length=2048, description="next_cursor of the page before")
        ] = None,
    ) -> dict[str, Any]:
        """The caller's threads, newest activity first."""
        threads, last = await runs.list_threads(caller.owner, limit, decode_cursor(cursor))
        return {"threads": threads, "next_cursor": encode_cursor(last)}

    @app.get("/threads/{thread_id}")
    async def get_thread(ref: Thread, runs: Runs) -> dict[str, Any]:
        return await runs.get_thread(ref)

    @app.get("/threads/{thread_id}/state")
    async def get_state(ref: Thread, runs: Runs) -> dict[str, Any]:
        return await runs.get_state(ref)

    @app.post("/threads/{thread_id}/state")
    async def update_state(ref: Thread, body: StateEdit, runs: Runs) -> dict[str, Any]:
        return await runs.update_state(ref, body.values)

    @app.get("/threads/{thread_id}/history")
    async def history(
        ref: Thread, runs: Runs, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> list[dict[str, Any]]:
        return await runs.history(ref, limit)

    @app.delete("/threads/{thread_id}", status_code=204)
    async def delete_thread(ref: Thread, runs: Runs) -> Response:
        await runs.delete_thread(ref)
        return Response(status_code=204)

    def event_stream(events: AsyncIterator[dict[str, Any] | None]) -> StreamingResponse:
        async def body_bytes() -> AsyncIterator[bytes]:
            async for event in events:
                yield HEARTBEAT if event is None else encode_event(event)

        return StreamingResponse(body_bytes(), media_type=MEDIA_TYPE, headers=HEADERS)

    @app.post("/runs/stream", response_class=StreamingResponse)
    async def stream_run(
        body: RunBody, request: Request, runs: Runs, caller: CurrentCaller
    ) -> StreamingResponse:
        """Start or resume a run and stream its events. A client that disconnects does not stop
        the run (on Lambda a function never learns it left): join it again, or cancel it."""
        run = await runs.start_run(run_request(body, request, caller))
        return event_stream(run.events(idle_tick=settings.heartbeat_seconds))

    @app.get("/threads/{thread_id}/runs/{run_id}")
    async def get_run(ref: Thread, run_id: RunIdPath, runs: Runs) -> dict[str, Any]:
        return await runs.get_run(ref, run_id)

    @app.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=StreamingResponse)
    async def join_run(
        ref: Thread,
        run_id: RunIdPath,
        runs: Runs,
        after: Annotated[int | None, Query(ge=0, description="The last seq the client has.")] = None,
        last_event_id: Annotated[str | None, Header(description="The last seq the client has.")] = None,
    ) -> StreamingResponse:
        """Replay the run's events after the client's last seq, then follow it live to its end,
        wherever it runs. Same wire format and seq values as POST /runs/stream."""
        if last_event_id is not None:
            if not re.fullmatch(r"[0-9]{1,10}", last_event_id.strip()):
                raise InvalidRequest(
                    "Last-Event-ID must be the seq of the last event you have (0, 1, 2, ...)."
                )
            after = int(last_event_id)
        await runs.check_run(ref, run_id)
        return event_stream(runs.join(ref, run_id, after or 0, idle_tick=settings.heartbeat_seconds))

    @app.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=202)
    async def cancel_run(ref: Thread, run_id: RunIdPath, runs: Runs) -> dict[str, Any]:
        """Stop the run mid-node, from any instance: the node in progress is discarded, its
        stream ends with an interrupt (reason "cancelled"), and sending again redoes it."""
        return await runs.cancel_run(ref, run_id)

    @app.post("/runs/invoke")
    async def invoke_run(
        body: RunBody, request: Request, runs: Runs, caller: CurrentCaller
    ) -> dict[str, Any]:
        return await runs.invoke(run_request(body, request, caller))

    if settings.web_dist and settings.web_dist.is_dir():
        site_dir = settings.web_dist

        @app.get("/config.json", include_in_schema=False)
        async def site_config() -> dict[str, Any]:
            """The site's config (web/dist/config.json) with this server's sign-in, so the
            local site signs in where the app checks tokens; in the cloud `make deploy`
            writes the file itself."""
            path = site_dir / "config.json"
            config: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
            return {**config, "auth": site_auth(settings)}

        app.mount("/", SiteFiles(app, directory=settings.web_dist, html=True), name="web")

    return app
