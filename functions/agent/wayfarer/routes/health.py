"""GET /health: public, the Lambda Web Adapter's readiness check."""

from __future__ import annotations

from fastapi import APIRouter

from wayfarer.deps import ServicesDep
from wayfarer.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(services: ServicesDep) -> Health:
    return Health(status="ok", model=services.model.name, research=services.research.name)
