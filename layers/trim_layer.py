"""Trim an installed dependency layer (``python/`` of DepsLayer) of what Lambda never loads.

Run by ``layers/Makefile`` after the cross-platform install, and by ``bench/layer_size.py``.
Every rule removes only files that the interpreter does not import at run time or that no
code reads (type stubs, tests, C headers, build-host scripts, debug symbols), plus one
unused alternative backend. ``*.dist-info`` stays whole: ``importlib.metadata`` reads
METADATA, entry_points.txt (opentelemetry finds its context this way) and RECORD
(``packages_distributions()``), and langchain's version lookups go through it.

boto3/botocore stay in the layer although the Python runtime ships them: the runtime's copy
is older than the lock and changes without notice, and the checkpointer and ChatBedrockConverse
rely on the locked API shapes. What goes instead is the service models of the ~420 AWS
services the app never calls (see BOTOCORE_SERVICES).

Usage: python3 trim_layer.py SITE_DIR [--json]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Directory names that hold a package's own test suite, never imported by the package.
TEST_DIRS = frozenset({"tests", "test"})
# Sources and build inputs for C/Cython extensions: only a compiler reads them.
BUILD_ONLY_SUFFIXES = frozenset({".pyi", ".h", ".c", ".pxd", ".pyx", ".a"})
# botocore service models kept in the layer; every other service's JSON goes (about 14 MB
# zipped of the 16 MB botocore weighs). A client for a service missing here fails with
# botocore's UnknownServiceError, so tests/test_template.py checks that every
# ``client("...")``/``resource("...")`` in the wayfarer package names one of these.
BOTOCORE_SERVICES = frozenset(
    {
        # the app: checkpoints and their S3 offload, the model
        "dynamodb",
        "s3",
        "bedrock-runtime",
        "bedrock",
        # botocore's own credential providers (assume-role, SSO, `aws login`)
        "sts",
        "sso",
        "sso-oidc",
        "signin",
        # langchain-aws / langgraph-checkpoint-aws features within reach of the app
        "bedrock-agent-runtime",
        "bedrock-agentcore",
        "sagemaker-runtime",
        # Powertools utilities (parameters, secrets, app config) and Lambda-side clients
        "ssm",
        "secretsmanager",
        "appconfigdata",
        "kms",
        "cloudwatch",
        "logs",
        "xray",
        "lambda",
        # wayfarer.local_cognito (make dev AUTH=cognito, the tests); a few KB, never called in Lambda
        "cognito-idp",
    }
)
# Installed because a dependency declares them, never imported by the app: numpy (~6 MB
# zipped) is langchain-aws's, for its vector stores and embeddings; ChatBedrockConverse and
# everything Wayfarer imports run without it (tests/test_template.py imports the app, the
# Bedrock model and every module of the package from the trimmed layer and checks that numpy
# stayed out).
UNUSED_PACKAGES = ("numpy", "numpy.libs", "numpy-*.dist-info")
# llvm-strip reads any ELF target; aarch64-linux-gnu-strip is binutils' cross tool.
STRIP_TOOLS = ("llvm-strip", "aarch64-linux-gnu-strip")


@dataclass
class Rule:
    name: str
    why: str
    files: int = 0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, path: Path) -> None:
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and not child.is_symlink():
                    self.files += 1
                    self.bytes += child.stat().st_size
        else:
            self.files += 1
            self.bytes += path.stat().st_size


def _remove(rule: Rule, path: Path) -> None:
    rule.count(path)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _package_dirs(site: Path) -> Iterator[Path]:
    """Top-level package directories (dist-info and the scripts dir excluded)."""
    for entry in sorted(site.iterdir()):
        if entry.is_dir() and not entry.name.endswith(".dist-info") and entry.name != "bin":
            yield entry


def trim_bytecode(site: Path, rule: Rule) -> None:
    for path in sorted(site.rglob("__pycache__")):
        if path.is_dir():
            _remove(rule, path)
    for path in sorted(site.rglob("*.py[co]")):
        _remove(rule, path)


def trim_tests(site: Path, rule: Rule) -> None:
    for package in _package_dirs(site):
        for path in sorted(package.rglob("*")):
            if path.is_dir() and path.name in TEST_DIRS and path.exists():
                _remove(rule, path)


def trim_build_only_files(site: Path, rule: Rule) -> None:
    for package in _package_dirs(site):
        for path in sorted(package.rglob("*")):
            if path.is_file() and path.suffix in BUILD_ONLY_SUFFIXES:
                _remove(rule, path)


def trim_scripts(site: Path, rule: Rule) -> None:
    # Console scripts written by the install: their shebang names the build machine's
    # interpreter and /opt/python/bin is not on Lambda's PATH.
    scripts = site / "bin"
    if scripts.is_dir():
        _remove(rule, scripts)


def trim_dev_tools(site: Path, rule: Rule) -> None:
    # numpy.f2py (Fortran wrapper generator) and the PyInstaller hook are build-time tools;
    # numpy imports f2py only on attribute access.
    for relative in ("numpy/f2py", "numpy/_pyinstaller", "numpy/random/_examples"):
        path = site / relative
        if path.exists():
            _remove(rule, path)


def trim_botocore_examples(site: Path, rule: Rule) -> None:
    # examples-1.json only feeds botocore's docstring generator.
    data = site / "botocore" / "data"
    if data.is_dir():
        for path in sorted(data.rglob("examples-1.json")):
            _remove(rule, path)


def trim_botocore_services(site: Path, rule: Rule) -> None:
    data = site / "botocore" / "data"
    if not data.is_dir():
        return
    # Top-level files (endpoints.json, partitions.json, _retry.json, ...) are always kept.
    for path in sorted(data.iterdir()):
        if path.is_dir() and path.name not in BOTOCORE_SERVICES:
            _remove(rule, path)


def trim_unused_packages(site: Path, rule: Rule) -> None:
    for pattern in UNUSED_PACKAGES:
        for path in sorted(site.glob(pattern)):
            _remove(rule, path)


def trim_zstandard_cffi(site: Path, rule: Rule) -> None:
    # zstandard imports its C extension first and falls back to CFFI only if that fails;
    # the wheel ships both (each ~11 MB with debug info). Keep the C one.
    package = site / "zstandard"
    if not (package.is_dir() and any(package.glob("backend_c.*.so"))):
        return
    for path in sorted(package.glob("_cffi.*.so")) + sorted(package.glob("backend_cffi.py")):
        _remove(rule, path)


def _strip_tool() -> str | None:
    for tool in STRIP_TOOLS:
        found = shutil.which(tool)
        if found:
            return found
    return None


def strip_native(site: Path, rule: Rule) -> None:
    # Debug info and the static symbol table of shared objects; .dynsym (what the loader
    # and PyInit_* lookups use) is kept by --strip-unneeded.
    tool = _strip_tool()
    if tool is None:
        rule.notes.append(f"skipped: none of {', '.join(STRIP_TOOLS)} on PATH")
        return
    for path in sorted(site.rglob("*.so*")):
        if not path.is_file() or path.is_symlink() or not _is_elf(path):
            continue
        before = path.stat().st_size
        subprocess.run([tool, "--strip-unneeded", str(path)], check=True)
        saved = before - path.stat().st_size
        if saved > 0:
            rule.files += 1
            rule.bytes += saved


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


RULES: list[tuple[str, str, Callable[[Path, Rule], None]]] = [
    ("bytecode", "__pycache__/*.pyc: /opt is read-only, and these would be the build host's", trim_bytecode),
    ("tests", "packages' own test suites (numpy, regex, certifi, ...)", trim_tests),
    (
        "build-only files",
        "*.pyi stubs, C headers/sources, Cython .pxd/.pyx, static .a libs",
        trim_build_only_files,
    ),
    ("scripts", "bin/ console scripts with the build host's shebang", trim_scripts),
    ("dev tools", "numpy.f2py, numpy._pyinstaller, numpy.random._examples", trim_dev_tools),
    ("botocore examples", "botocore/data/**/examples-1.json (docstrings only)", trim_botocore_examples),
    ("botocore services", "service models outside BOTOCORE_SERVICES", trim_botocore_services),
    ("unused packages", "numpy: only langchain-aws's vector stores use it", trim_unused_packages),
    ("zstandard cffi backend", "unused fallback; the C backend is imported first", trim_zstandard_cffi),
    ("native debug symbols", "llvm-strip --strip-unneeded on ELF shared objects", strip_native),
]


def trim(site: Path) -> list[Rule]:
    if not site.is_dir():
        raise SystemExit(f"trim_layer: {site} is not a directory; run the layer install first")
    done = []
    for name, why, apply in RULES:
        rule = Rule(name=name, why=why)
        apply(site, rule)
        done.append(rule)
    return done


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rules = trim(Path(args[0]))
    if "--json" in argv:
        print(json.dumps([rule.__dict__ for rule in rules]))
    else:
        for rule in rules:
            note = f" ({'; '.join(rule.notes)})" if rule.notes else ""
            print(f"trimmed {rule.name}: {rule.files} files, {rule.bytes / 1e6:.1f} MB{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
