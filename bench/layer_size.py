"""How big DepsLayer is, before and after trimming, and where the bytes are.

Installs the locked runtime dependencies for Lambda (CPython 3.13, arm64) with the same
`layers/Makefile install` that `sam build` runs, reusing the install while uv.lock is
unchanged, then trims a copy with layers/trim_layer.py and prints:

- unzipped and zipped MB before and after (zipped as `sam build`/`sam deploy` zip: deflate),
- the 15 largest top-level packages after trimming,
- what each trim rule removed.

Run: uv run python -m bench.layer_size
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYERS = REPO_ROOT / "layers"
CACHE = LAYERS / "build" / "bench"
ZIPPED_TARGET_MB = 35.0
# Lambda's limit for a function and all its layers, unzipped.
UNZIPPED_LIMIT_MB = 250.0


def load_trim_layer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim_layer", LAYERS / "trim_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["trim_layer"] = module  # dataclasses resolve the module by name
    spec.loader.exec_module(module)
    return module


def untrimmed_install() -> tuple[Path, bool]:
    """The untrimmed layer for the current uv.lock; (path, reused)."""
    lock_digest = hashlib.sha256((REPO_ROOT / "uv.lock").read_bytes()).hexdigest()[:16]
    make_digest = hashlib.sha256((LAYERS / "Makefile").read_bytes()).hexdigest()[:8]
    site = CACHE / f"{lock_digest}-{make_digest}" / "python"
    if site.is_dir() and any(site.iterdir()):
        return site, True
    if CACHE.exists():
        shutil.rmtree(CACHE)
    subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", str(LAYERS / "Makefile"), "install", f"DEST={site}"],
        check=True,
    )
    return site, False


def unzipped_bytes(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_bytes(site: Path) -> int:
    """Size of the layer zip (entries under python/), deflated like SAM's packager."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(site.rglob("*")):
            if path.is_file():
                archive.write(path, Path("python") / path.relative_to(site))
    return buffer.getbuffer().nbytes


def package_sizes(site: Path) -> Counter[str]:
    """Bytes per top-level name; *.dist-info folded into one line, numpy.libs into numpy."""
    sizes: Counter[str] = Counter()
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        top = path.relative_to(site).parts[0]
        if top.endswith(".dist-info"):
            top = "(all *.dist-info)"
        elif top.endswith(".libs"):
            top = top.removesuffix(".libs")
        elif top.endswith(".py"):
            top = top.removesuffix(".py")
        sizes[top] += path.stat().st_size
    return sizes


def mb(size: float) -> str:
    return f"{size / 1e6:7.1f}"


def main() -> int:
    trim_layer = load_trim_layer()
    untrimmed, reused = untrimmed_install()
    trimmed = untrimmed.parent.parent / "trimmed" / "python"
    if trimmed.parent.exists():
        shutil.rmtree(trimmed.parent)
    shutil.copytree(untrimmed, trimmed, symlinks=True)
    rules = trim_layer.trim(trimmed)
    trimmed_only = (unzipped_bytes(trimmed), zipped_bytes(trimmed))
    # Then the bytecode step of `sam build` (layers/Makefile), on the same copy.
    subprocess.run(
        ["make", "--no-print-directory", "-f", str(LAYERS / "Makefile"), "bytecode", f"DEST={trimmed}"],
        check=True,
    )

    before = (unzipped_bytes(untrimmed), zipped_bytes(untrimmed))
    after = (unzipped_bytes(trimmed), zipped_bytes(trimmed))

    print(f"DepsLayer (CPython 3.13, arm64) from uv.lock; install {'reused' if reused else 'fresh'}")
    print()
    print(f"{'':18} {'unzipped MB':>12} {'zipped MB':>10}")
    print(f"{'untrimmed':18} {mb(before[0]):>12} {mb(before[1]):>10}")
    print(f"{'trimmed':18} {mb(trimmed_only[0]):>12} {mb(trimmed_only[1]):>10}")
    print(f"{'+ bytecode (shipped)':18} {mb(after[0]):>12} {mb(after[1]):>10}")
    print(
        f"{'target / limit':18} {f'< {UNZIPPED_LIMIT_MB:.0f}':>12} {f'<= {ZIPPED_TARGET_MB:.0f}':>10}"
        "   (250 MB unzipped is Lambda's limit for code plus layers)"
    )
    print()
    print("Largest packages after trimming")
    print(f"{'package':28} {'MB':>7}")
    for name, size in package_sizes(trimmed).most_common(15):
        print(f"{name:28} {mb(size)}")
    print()
    print("What was trimmed")
    print(f"{'rule':24} {'files':>6} {'MB':>7}  why")
    for rule in rules:
        note = f" [{'; '.join(rule.notes)}]" if rule.notes else ""
        print(f"{rule.name:24} {rule.files:>6} {mb(rule.bytes)}  {rule.why}{note}")
    total = sum(rule.bytes for rule in rules)
    print(f"{'total':24} {sum(rule.files for rule in rules):>6} {mb(total)}")
    ok = after[1] / 1e6 <= ZIPPED_TARGET_MB and after[0] / 1e6 < UNZIPPED_LIMIT_MB
    print()
    print("within target" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
