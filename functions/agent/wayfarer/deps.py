"""What routes get through ``Depends``: the services, the caller's thread, a run request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from wayfarer.auth import Caller, CurrentCaller
from wayfarer.lambda_context import invocation_deadline
from wayfarer.runs import RUN_ID, THREAD_ID, RunService
from wayfarer.schemas import RunBody
from wayfarer.seed_runs import RunRequest
from wayfarer.services import Services
from wayfarer.table_keys import ThreadRef

ThreadIdPath = Annotated[str, Path(pattern=THREAD_ID.pattern, examples=["test123"])]
RunIdPath = Annotated[str, Path(pattern=RUN_ID.pattern, description="A run id (a UUID, lower case).")]


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` one on a worker
# thread, a hop per dependency per request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_runs(request: Request) -> RunService:
    return (await get_services(request)).runs


ServicesDep = Annotated[Services, Depends(get_services)]
Runs = Annotated[RunService, Depends(get_runs)]


async def thread_ref(thread_id: ThreadIdPath, caller: CurrentCaller) -> ThreadRef:
    """The thread named in the path, as the caller's own: another user's is not found."""
    return ThreadRef(caller.owner, thread_id)


CallersThread = Annotated[ThreadRef, Depends(thread_ref)]


def run_request(body: RunBody, request: Request, caller: Caller) -> RunRequest:
    return RunRequest(
        thread_id=body.thread_id,
        owner=caller.owner,
        message=body.message,
        use_hitl=body.use_hitl,
        max_revisions=body.max_revisions,
        deadline=invocation_deadline(request.headers, request.scope.get("aws.context")),
    )
