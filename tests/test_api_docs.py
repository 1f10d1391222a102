"""/docs and /redoc load nothing from another origin: they render offline and in Lambda."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.servers import ThreadedServer
from wayfarer.api_docs import install_api_docs


class ResourceLinks(HTMLParser):
    """Every URL a page loads: <script src>, <link href> (stylesheet, icon)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (what, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(("script", values["src"] or ""))
        if tag == "link" and values.get("href"):
            self.urls.append((values.get("rel") or "link", values["href"] or ""))


def resources_of(html: str) -> list[tuple[str, str]]:
    parser = ResourceLinks()
    parser.feed(html)
    return parser.urls


EXPECTED_TYPE = {"script": "javascript", "stylesheet": "text/css", "shortcut icon": "image/png"}


@pytest.fixture(scope="module")
def docs_client() -> Iterator[httpx.Client]:
    app = FastAPI(title="Docs check", docs_url=None, redoc_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    install_api_docs(app)
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(("page", "needs"), [("/docs", {"script", "stylesheet"}), ("/redoc", {"script"})])
def test_a_docs_page_loads_every_asset_from_the_app_itself(
    docs_client: httpx.Client, page: str, needs: set[str]
) -> None:
    answer = docs_client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    resources = resources_of(answer.text)
    assert needs <= {what for what, _ in resources}
    origin = urlsplit(str(docs_client.base_url))
    for what, url in resources:
        absolute = urlsplit(urljoin(str(answer.url), url))
        assert (absolute.scheme, absolute.netloc) == (origin.scheme, origin.netloc), url
        asset = docs_client.get(absolute.path)
        assert asset.status_code == 200, url
        assert EXPECTED_TYPE[what] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000
    assert "googleapis" not in answer.text and "cdn." not in answer.text
    assert "'/openapi.json'" in answer.text or '"/openapi.json"' in answer.text


def test_the_schema_and_the_oauth2_redirect_are_served_and_the_docs_stay_out_of_it(
    docs_client: httpx.Client,
) -> None:
    schema = docs_client.get("/openapi.json").json()
    assert list(schema["paths"]) == ["/hello"]
    redirect = docs_client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()


def test_an_app_that_still_has_its_cdn_docs_is_refused() -> None:
    with pytest.raises(ValueError, match=r"docs_url=None, redoc_url=None"):
        install_api_docs(FastAPI())
