"""The app's OpenAPI as the JSON the web app's types are generated from (``make api-types``).

    python -m wayfarer.openapi_dump > web/src/api/openapi.json

Keys sorted and indented, so the checked-in file diffs line by line. Built from the settings'
defaults, not the environment: a ``WAYFARER_*`` variable in the shell must not change the file."""

from __future__ import annotations

import json
import sys

from wayfarer.api import create_app
from wayfarer.settings import Settings


def openapi_json() -> str:
    """The OpenAPI document, as written to web/src/api/openapi.json."""
    schema = create_app(Settings.model_construct()).openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.buffer.write(openapi_json().encode())


if __name__ == "__main__":
    main()
