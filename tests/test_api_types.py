"""The web app's types are the app's contract: web/src/api/openapi.json is the OpenAPI the app
serves now, and schema.d.ts is generated from it (``npm run typecheck`` holds it to the JSON)."""

from __future__ import annotations

import difflib
import itertools
from pathlib import Path

import pytest

from wayfarer.openapi_dump import main

CHECKED_IN = Path(__file__).resolve().parents[1] / "web/src/api/openapi.json"


def test_the_web_apps_openapi_json_is_what_the_app_serves(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    main()
    current = capsysbinary.readouterr().out.decode()
    checked_in = CHECKED_IN.read_text(encoding="utf-8")
    if checked_in != current:
        diff = difflib.unified_diff(
            checked_in.splitlines(),
            current.splitlines(),
            "web/src/api/openapi.json",
            "the app's OpenAPI",
            lineterm="",
        )
        pytest.fail(
            "web/src/api/openapi.json is not the app's OpenAPI: run `make api-types` (it regenerates "
            "web/src/api/schema.d.ts too) and check in both.\n" + "\n".join(itertools.islice(diff, 60)),
            pytrace=False,
        )
