"""HTTP routes. Thin: validate the request, call the run service, encode the answer.

Run with ``uvicorn --factory wayfarer.api:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from wayfarer.errors import WayfarerError
from wayfarer.lambda_context import invocation_deadline
from wayfarer.runs import THREAD_ID, RunRequest, RunService
from wayfarer.services import Services, build_services
from wayfarer.settings import Settings
from wayfarer.sse import HEADERS, HEARTBEAT, MEDIA_TYPE, encode_event

ThreadId = Annotated[str, Field(pattern=THREAD_ID.pattern, examples=["test123"])]


class CreateThread(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class RunBody(BaseModel):
    thread_id: ThreadId | None = None
    message: str | None = Field(default=None, description="The task, or feedback when resuming.")
    use_hitl: bool = True
    max_revisions: int | None = Field(default=None, ge=1, le=5)


class StateEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, str]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_runs(request: Request) -> RunService:
    return get_services(request).runs


Runs = Annotated[RunService, Depends(get_runs)]


def run_request(body: RunBody, request: Request) -> RunRequest:
    return RunRequest(
        thread_id=body.thread_id,
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
        version="0.1.0",
        summary="A human-in-the-loop travel writer that streams every step.",
        lifespan=lifespan,
    )
    app.state.services = services
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )

    @app.exception_handler(WayfarerError)
    async def wayfarer_error(_: Request, exc: WayfarerError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(ClientError)
    @app.exception_handler(BotoCoreError)
    async def storage_error(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": f"Storage is unavailable ({exc}). Nothing was changed; try again shortly."},
            status_code=503,
        )

    @app.get("/health")
    async def health(request: Request) -> dict[str, str]:
        services = get_services(request)
        return {"status": "ok", "model": services.model.name, "research": services.research.name}

    @app.post("/threads", status_code=201)
    async def create_thread(body: CreateThread, runs: Runs) -> dict[str, Any]:
        return await runs.create_thread(body.thread_id, body.metadata)

    @app.get("/threads/{thread_id}")
    async def get_thread(thread_id: str, runs: Runs) -> dict[str, Any]:
        return await runs.get_thread(thread_id)

    @app.get("/threads/{thread_id}/state")
    async def get_state(thread_id: str, runs: Runs) -> dict[str, Any]:
        return await runs.get_state(thread_id)

    @app.post("/threads/{thread_id}/state")
    async def update_state(thread_id: str, body: StateEdit, runs: Runs) -> dict[str, Any]:
        return await runs.update_state(thread_id, body.values)

    @app.get("/threads/{thread_id}/history")
    async def history(
        thread_id: str, runs: Runs, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> list[dict[str, Any]]:
        return await runs.history(thread_id, limit)

    @app.delete("/threads/{thread_id}", status_code=204)
    async def delete_thread(thread_id: str, runs: Runs) -> Response:
        await runs.delete_thread(thread_id)
        return Response(status_code=204)

    @app.post("/runs/stream", response_class=StreamingResponse)
    async def stream_run(body: RunBody, request: Request, runs: Runs) -> StreamingResponse:
        run = await runs.start_run(run_request(body, request))

        async def body_bytes() -> AsyncIterator[bytes]:
            try:
                async for event in run.events(idle_tick=settings.heartbeat_seconds):
                    yield HEARTBEAT if event is None else encode_event(event)
            finally:
                run.request_stop()  # the client left: stop at the next node boundary

        return StreamingResponse(body_bytes(), media_type=MEDIA_TYPE, headers=HEADERS)

    @app.post("/runs/invoke")
    async def invoke_run(body: RunBody, request: Request, runs: Runs) -> dict[str, Any]:
        return await runs.invoke(run_request(body, request))

    if settings.web_dist and settings.web_dist.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dist, html=True), name="web")

    return app
