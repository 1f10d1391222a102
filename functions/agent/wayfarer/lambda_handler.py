"""Buffered Lambda entry (ApiFunction): Mangum around the same FastAPI app.

Services are built once per execution environment, at cold start, not per invocation."""

from mangum import Mangum

from wayfarer.api import create_app
from wayfarer.services import build_services
from wayfarer.settings import Settings

settings = Settings()
app = create_app(settings, services=build_services(settings))
handler = Mangum(app, lifespan="off")
