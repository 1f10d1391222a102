"""Swagger UI at /docs and ReDoc at /redoc, with their scripts served by the app itself.

FastAPI's own pages load them from a CDN and render blank offline. The files come from the
``fastapi-offline`` package (Swagger UI 5, ReDoc 2; 2.8 MB, 0.8 MB zipped), so they are there
wherever the Python package runs, Lambda included, where the web app is not.

Build the app with ``FastAPI(docs_url=None, redoc_url=None)`` and call ``install_api_docs(app)``
before mounting anything at "/": a catch-all mount added first would answer /docs itself."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"


def docs_assets_dir() -> Path:
    """swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png, as the
    package ships them (it names the folder only privately)."""
    return Path(str(files("fastapi_offline") / "static"))


def install_api_docs(app: FastAPI) -> None:
    """Add GET /docs, /docs/oauth2-redirect, /redoc and the assets under /docs-assets."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError(
            "FastAPI already serves its CDN-loading docs pages: build the app with "
            "FastAPI(docs_url=None, redoc_url=None) before install_api_docs(app)."
        )
    if app.openapi_url is None:
        raise ValueError("The docs pages need the OpenAPI schema: keep FastAPI(openapi_url=...) set.")
    openapi_url = app.openapi_url
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    app.mount(ASSETS_URL, StaticFiles(directory=docs_assets_dir()), name="docs-assets")

    def root(request: Request) -> str:
        """Where the app is mounted (a proxy's prefix), as FastAPI's own pages use it."""
        root_path: str = request.scope.get("root_path", "")
        return root_path.rstrip("/")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=base + oauth2_redirect_url if oauth2_redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    if oauth2_redirect_url:

        @app.get(oauth2_redirect_url, include_in_schema=False)
        async def swagger_ui_oauth2_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
