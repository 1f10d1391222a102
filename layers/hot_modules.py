"""Print the layer's files that a Wayfarer cold start and first run import, one per line.

Lambda mounts the layer read-only, so Python cannot cache bytecode there: every cold start
would compile every module it imports (here that triples the import time of the app, 0.7 s
-> 2.3 s). layers/Makefile compiles the files printed here with a CPython 3.13 (the target's
bytecode); compiling only what is imported keeps the zipped layer near half the size of
compiling everything.

    python layers/hot_modules.py LAYER_SITE_DIR     # run with the project's dev environment

The set is measured, not listed by hand: the entry modules and what a run uses lazily (the
Bedrock client, BM25 research, Tavily) are imported here, and every module file under
site-packages that got imported is mapped to the same relative path in LAYER_SITE_DIR.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
from pathlib import Path

# As in Lambda: the Bedrock provider is chosen, and nothing calls the network at import. Auth as
# the stack's default AuthMode (cognito) sets it: the app refuses to start in Lambda with auth
# off, and with it on a cold start imports the JWT verifier (PyJWT, cryptography).
os.environ.update(AWS_LAMBDA_FUNCTION_NAME="hot-modules", AWS_DEFAULT_REGION="us-east-1")
os.environ.update(
    WAYFARER_AUTH_MODE="jwt",
    WAYFARER_AUTH_ISSUER="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_HotModules",
    WAYFARER_AUTH_AUDIENCE="hot-modules",
)
os.environ.pop("WAYFARER_DYNAMODB_ENDPOINT_URL", None)

ENTRY_MODULES = (
    "wayfarer.api",
    "wayfarer.lambda_handler",
    "uvicorn.main",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
    "uvicorn.loops.asyncio",
    "langchain_aws",
    "tavily",
)


def imported_site_files() -> set[Path]:
    roots = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    files = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        for root in roots:
            if Path(file).is_relative_to(root):
                files.add(Path(file).relative_to(root))
    return files


def main() -> None:
    layer = Path(sys.argv[1])
    for name in ENTRY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional speed-up module (httptools) may be absent
            print(f"hot_modules: skipped {name}: {exc}", file=sys.stderr)
    for relative in sorted(imported_site_files()):
        if (layer / relative).is_file():
            print(layer / relative)


if __name__ == "__main__":
    main()
