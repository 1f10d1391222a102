"""Buffered Lambda entry (ApiFunction): Mangum around the same FastAPI app.

Services are built once per execution environment, at init: with SnapStart, before the
snapshot, and the runtime's hooks keep what must not be shared out of it (snapstart.py)."""

from mangum import Mangum

from wayfarer.api import create_app
from wayfarer.services import build_services
from wayfarer.settings import Settings
from wayfarer.snapstart import after_restore, before_checkpoint

settings = Settings()
services = build_services(settings)
app = create_app(settings, services=services)
handler = Mangum(app, lifespan="off")

try:  # the Lambda Python runtime (3.12+) provides it; elsewhere there is no snapshot
    from snapshot_restore_py import (  # type: ignore[import-not-found]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # pragma: no cover - outside Lambda
    pass
else:
    register_before_snapshot(before_checkpoint, services.aws_clients())
    register_after_restore(after_restore, services.aws_clients())
