"""Audit the locked dependencies: pip-audit on the app's Python runtime set, npm audit on the
web app's production set. Fails on a known vulnerability (any for Python: PyPI's advisories
carry no severity; critical for npm). Where the advisory data cannot be reached (no network,
or a registry mirror without the audit API), it says so loudly and names what was not
audited, rather than pass in silence or fail on an outage.

    python .ci/audit.py PIP_AUDIT_JSON NPM_AUDIT_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def python_findings(report: dict) -> tuple[list[str], int, int]:
    deps = report.get("dependencies", [])
    found = [f"{d['name']} {d['version']}: {v['id']}" for d in deps for v in d.get("vulns", [])]
    skipped = sum(1 for d in deps if "skip_reason" in d)
    return found, skipped, len(deps)


def npm_findings(report: dict) -> tuple[list[str], str | None]:
    if "vulnerabilities" not in report:
        return [], str(report.get("message") or report.get("error", {}).get("summary") or "no answer")
    critical = [name for name, v in report["vulnerabilities"].items() if v.get("severity") == "critical"]
    return critical, None


def main() -> int:
    pip_report = json.loads(Path(sys.argv[1]).read_text() or "{}")
    npm_report = json.loads(Path(sys.argv[2]).read_text() or "{}")
    failed = False
    found, skipped, total = python_findings(pip_report)
    if found:
        failed = True
        print("pip-audit: known vulnerabilities:\n  " + "\n  ".join(found))
    if skipped:
        print(f"pip-audit: NOT AUDITED: {skipped} of {total} Python packages (advisory data unreachable)")
    else:
        print(f"pip-audit: {total} Python packages audited, {len(found)} vulnerable")
    critical, unreachable = npm_findings(npm_report)
    if critical:
        failed = True
        print("npm audit: critical vulnerabilities in " + ", ".join(critical))
    elif unreachable:
        print(f"npm audit: NOT AUDITED: the registry's audit API answered: {unreachable}")
    else:
        print("npm audit: no critical vulnerability in web/'s production dependencies")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
