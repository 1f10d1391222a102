"""The deployment: template.yaml, the dependency layer and the function artifacts.

Everything here runs without an AWS account or Docker: sam validate --lint, cfn-lint and
checkov read the template; `sam build` really builds (the layer through layers/Makefile, a
cross-platform install from PyPI); the built layer is inspected file by file; and a twin of the
trimmed layer for this machine's CPython 3.13 imports the whole app. Each AWS tool runs from its
own locked uv project under layers/tools/.

Run alone: `uv run pytest tests/test_template.py` (or `-m template`; `-m "not template"` skips).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml
from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from langgraph_checkpoint_aws import DynamoDBSaver

from wayfarer import snapstart
from wayfarer.settings import Settings

pytestmark = pytest.mark.template

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"
EVENTS = REPO_ROOT / "events"
PACKAGE = REPO_ROOT / "functions" / "agent" / "wayfarer"
ELF_MACHINE_AARCH64 = 183
ZIPPED_LAYER_LIMIT = 35_000_000
UNZIPPED_TOTAL_LIMIT = 250 * 1024 * 1024  # Lambda: function code plus all layers

# ------------------------------------------------------------------ helpers


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as plain dicts."""


def _construct_cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template() -> dict[str, Any]:
    with TEMPLATE.open() as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=CfnLoader)
    return loaded


def referenced_names(node: Any) -> set[str]:
    """Logical ids a piece of template refers to (Ref, GetAtt, ${Name} / ${Name.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
            found |= referenced_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced_names(item)
    return found


NO_VALUE = object()


def parameter_values(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    """Every parameter's value for a deploy: its default unless overridden."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    unknown = set(overrides) - set(values)
    assert not unknown, f"not template parameters: {unknown}"
    return {**values, **overrides}


def holds(expr: Any, values: dict[str, str], conditions: dict[str, Any]) -> bool:
    """A condition function (Fn::Equals/Not/And/Or, Condition) evaluated on parameter values."""
    ((function, argument),) = expr.items()
    if function == "Condition":
        return holds(conditions[argument], values, conditions)
    if function == "Fn::Equals":
        left, right = (values[a["Ref"]] if isinstance(a, dict) else str(a) for a in argument)
        return left == right
    if function == "Fn::Not":
        return not holds(argument[0], values, conditions)
    if function == "Fn::Or":
        return any(holds(a, values, conditions) for a in argument)
    if function == "Fn::And":
        return all(holds(a, values, conditions) for a in argument)
    raise AssertionError(f"no evaluator for {function}")


def resolve_ifs(node: Any, truth: dict[str, bool]) -> Any:
    """The node with each Fn::If replaced by its chosen branch; AWS::NoValue drops the key."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            return resolve_ifs(when_true if truth[name] else when_false, truth)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        resolved = {key: resolve_ifs(value, truth) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}
    if isinstance(node, list):
        return [v for v in (resolve_ifs(item, truth) for item in node) if v is not NO_VALUE]
    return node


def deployed(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """What a deploy with these parameters creates: Globals, Resources and Outputs whose
    condition holds, with every Fn::If resolved."""
    values = parameter_values(template, **overrides)
    truth = {
        name: holds(expr, values, template["Conditions"]) for name, expr in template["Conditions"].items()
    }
    sections = {
        section: {
            name: item
            for name, item in template[section].items()
            if "Condition" not in item or truth[item["Condition"]]
        }
        for section in ("Resources", "Outputs")
    }
    stack: dict[str, Any] = resolve_ifs({"Globals": template["Globals"], **sections}, truth)
    return stack


def failed_rule_assertions(template: dict[str, Any], **overrides: str) -> list[str]:
    """The AssertDescription of each CloudFormation Rule assertion these parameters break."""
    values = parameter_values(template, **overrides)
    failures = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not holds(rule["RuleCondition"], values, template["Conditions"]):
            continue
        failures += [
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not holds(a["Assert"], values, template["Conditions"])
        ]
    return failures


def site_config(outputs: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    """web/dist/config.json as `make deploy` writes it from these stack outputs (the same
    script, printed from the Makefile)."""
    script = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval=print-site-config-py: ; @printf '%s\\n' \"$$site_config_py\"",
            "print-site-config-py",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "json.dump" in script, script
    described = json.dumps([{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()])
    target = tmp_path / "config.json"
    subprocess.run(
        [sys.executable, "-c", script, str(target)], input=described, text=True, check=True, cwd=tmp_path
    )
    loaded: dict[str, Any] = json.loads(target.read_text())
    return loaded


def uv_binary() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found:
        return found
    fallback = Path.home() / ".local" / "bin" / "uv"
    if fallback.exists():
        return str(fallback)
    pytest.fail("uv is not installed: run `make setup`")


def tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


def run_tool(tool: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """A command of one of the locked tool projects under layers/tools/."""
    command = [uv_binary(), "run", "--frozen", "--project", f"layers/tools/{tool}", *args]
    return subprocess.run(
        command, cwd=REPO_ROOT, env=tool_env(), capture_output=True, text=True, timeout=timeout
    )


def load_trim_layer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim_layer", REPO_ROOT / "layers" / "trim_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["trim_layer"] = module
    spec.loader.exec_module(module)
    return module


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    assert header[4] == 2, f"{path} is not 64-bit"
    return int.from_bytes(header[18:20], "little")


def cpython_313() -> str | None:
    """A CPython 3.13 interpreter on this machine, if there is one."""
    candidates = [os.environ.get("WAYFARER_PYTHON313", ""), shutil.which("python3.13") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"))]
    candidates += ["/usr/bin/python3.13", "/usr/local/bin/python3.13"]
    for candidate in filter(None, candidates):
        try:
            answer = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == "True":
            return candidate
    return None


def app_boto3_services() -> set[str]:
    """Services the app creates boto3 clients/resources for, read from its source."""
    pattern = re.compile(
        r"""(?:\.client|\.resource)\(\s*["']([a-z0-9-]+)["']|service_name\s*=\s*["']([a-z0-9-]+)["']"""
    )
    services: set[str] = set()
    for source in PACKAGE.rglob("*.py"):
        for match in pattern.finditer(source.read_text()):
            services.add(match.group(1) or match.group(2))
    return services


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` into a fresh directory; answers that directory."""
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = run_tool("sam", "sam", "build", "--build-dir", str(build_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir


@pytest.fixture(scope="module")
def layer(built: Path) -> Path:
    site = built / "DepsLayer" / "python"
    assert site.is_dir(), f"no python/ in the built layer: {sorted(p.name for p in built.iterdir())}"
    return site


# ------------------------------------------------------------------ tools


def test_sam_validate_lint_accepts_the_template() -> None:
    result = run_tool("sam", "sam", "validate", "--lint", "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_reports_nothing() -> None:
    result = run_tool("cfn-lint", "cfn-lint", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_fails_no_check_and_every_skip_carries_a_reason() -> None:
    result = run_tool(
        "checkov", "checkov", "--file", str(TEMPLATE), "--output", "json", "--skip-download", "--compact"
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    passed = [c for r in reports for c in r["results"]["passed_checks"]]
    assert not failed, [(c["check_id"], c["resource"]) for c in failed]
    assert result.returncode == 0, result.stderr
    assert len(passed) > 20, "checkov scanned too little: did it read the template?"
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"


# ------------------------------------------------------------------ the built layer


def test_layer_is_built_for_cpython_313_on_arm64(layer: Path) -> None:
    pydantic_core = list((layer / "pydantic_core").glob("_pydantic_core.*.so"))
    assert [p.name for p in pydantic_core] == ["_pydantic_core.cpython-313-aarch64-linux-gnu.so"]
    assert elf_machine(pydantic_core[0]) == ELF_MACHINE_AARCH64
    for extension in layer.rglob("*.so"):
        assert "x86_64" not in extension.name and "cpython-311" not in extension.name, extension
        assert elf_machine(extension) == ELF_MACHINE_AARCH64, extension


def test_stripped_extensions_still_export_their_init_and_library_paths(layer: Path) -> None:
    """trim_layer.py strips debug symbols; the loader needs .dynsym (PyInit_*) and RPATH."""
    nm, readelf = shutil.which("llvm-nm"), shutil.which("llvm-readelf")
    if nm is None or readelf is None:
        pytest.skip("llvm-nm/llvm-readelf not installed")
    for extension in layer.rglob("*.cpython-313-aarch64-linux-gnu.so"):
        module = extension.name.split(".")[0]
        exported = subprocess.run(
            [nm, "-D", "--defined-only", str(extension)], capture_output=True, text=True
        )
        assert f" PyInit_{module}\n" in exported.stdout, f"{extension} lost PyInit_{module}"
    # The stable-ABI extension (cryptography's Rust core, behind the bearer-token check) too.
    (rust,) = (layer / "cryptography" / "hazmat" / "bindings").glob("_rust.abi3.so")
    exported = subprocess.run([nm, "-D", "--defined-only", str(rust)], capture_output=True, text=True)
    assert " PyInit__rust\n" in exported.stdout
    assert not list(layer.glob("*.libs")), "a .libs folder would need its RPATH checked here"


def test_layer_holds_every_runtime_package_with_its_metadata(layer: Path) -> None:
    for module in (
        "fastapi/__init__.py",
        "starlette/__init__.py",
        "uvicorn/__init__.py",
        "mangum/__init__.py",
        "langgraph/graph/__init__.py",  # langgraph is a namespace package
        "langgraph/checkpoint/base/__init__.py",
        "langchain_core/__init__.py",
        "langchain_aws/__init__.py",
        "langgraph_checkpoint_aws/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "pydantic/__init__.py",
        "pydantic_settings/__init__.py",
        "boto3/__init__.py",
        "botocore/__init__.py",
        "tavily/__init__.py",
        "jwt/__init__.py",  # PyJWT: the bearer-token check (bm25s left with 465b004)
        "cryptography/__init__.py",  # its RS256 keys
    ):
        assert (layer / module).is_file(), f"{module} is missing from the layer"
    assert not (layer / "numpy").exists(), "numpy is trimmed: nothing the app imports needs it"
    # importlib.metadata (langchain's version lookups, opentelemetry's entry points) reads these.
    for dist in ("langgraph", "langchain_aws", "langchain_core", "opentelemetry_api"):
        (info,) = layer.glob(f"{dist}-*.dist-info")
        assert (info / "METADATA").is_file() and (info / "RECORD").is_file()
    assert list(layer.glob("opentelemetry_api-*.dist-info/entry_points.txt"))


def test_layer_has_no_tests_stubs_or_dev_tools(layer: Path) -> None:
    assert not [p for p in layer.rglob("*") if p.is_dir() and p.name in ("tests", "test")]
    assert not [p for p in layer.rglob("*") if p.suffix == ".pyi"]
    assert not (layer / "bin").exists()
    for dev_only in (
        "pytest",
        "_pytest",
        "moto",
        "mypy",
        "ruff",
        "cfnlint",
        "checkov",
        "samcli",
        "httpx_sse",
    ):
        assert not (layer / dev_only).exists(), f"dev-only {dev_only} is in the layer"
    assert not (layer / "wayfarer").exists(), "the app belongs in the function, not the layer"


def test_layer_ships_target_bytecode_only_for_what_a_cold_start_imports(layer: Path) -> None:
    """/opt is read-only in Lambda: without shipped .pyc every cold start recompiles."""
    pycs = list(layer.rglob("*.pyc"))
    assert pycs, "no bytecode in the layer: is a CPython 3.13 on this machine? (layers/Makefile PY313)"
    assert all(p.name.endswith(".cpython-313.pyc") and p.parent.name == "__pycache__" for p in pycs)
    for hot in ("fastapi/applications.py", "langgraph/pregel/main.py", "langchain_aws/__init__.py"):
        source = layer / hot
        assert (source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc").is_file(), hot
    cold = layer / "langchain_core" / "language_models" / "fake_chat_models.py"  # never imported by the app
    assert not (cold.parent / "__pycache__" / f"{cold.stem}.cpython-313.pyc").exists()


def test_layer_zip_is_at_most_35_mb_and_everything_fits_lambda(built: Path, layer: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(layer.rglob("*")):
            if path.is_file():
                archive.write(path, Path("python") / path.relative_to(layer))
    assert buffer.getbuffer().nbytes <= ZIPPED_LAYER_LIMIT, f"{buffer.getbuffer().nbytes / 1e6:.1f} MB zipped"
    unzipped = sum(p.stat().st_size for p in (built / "DepsLayer").rglob("*") if p.is_file())
    unzipped += sum(p.stat().st_size for p in (built / "StreamFunction").rglob("*") if p.is_file())
    # The Lambda Web Adapter layer adds about 5 MB.
    assert unzipped + 10 * 1024 * 1024 < UNZIPPED_TOTAL_LIMIT


def test_function_artifacts_hold_an_executable_run_sh_and_the_package(built: Path) -> None:
    for function in ("StreamFunction", "ApiFunction"):
        root = built / function
        run_sh = root / "run.sh"
        assert run_sh.is_file() and os.access(run_sh, os.X_OK), f"{function}: run.sh not executable"
        assert run_sh.read_text().startswith("#!/bin/sh\n")
        for module in ("__init__.py", "api.py", "lambda_handler.py", "settings.py"):
            assert (root / "wayfarer" / module).is_file(), f"{function}: wayfarer/{module} missing"
        shipped = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        source = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*")}
        package = {p for p in source if p.endswith((".py", ".json"))}
        assert {p for p in shipped if "__pycache__" not in p} == {"run.sh"} | package, function
    built_template = yaml.load((built / "template.yaml").read_text(), Loader=CfnLoader)
    resources = built_template["Resources"]
    assert resources["StreamFunction"]["Properties"]["Handler"] == "run.sh"
    assert resources["ApiFunction"]["Properties"]["Handler"] == "wayfarer.lambda_handler.handler"


def test_function_artifacts_ship_unchecked_cpython_313_bytecode_for_every_module(built: Path) -> None:
    """/var/task is read-only in Lambda: a module shipped as source is compiled by every
    process that imports it. Each module has its .pyc for the runtime, and no other bytecode
    (the dev tree's, for another interpreter) comes along."""
    for function in ("StreamFunction", "ApiFunction"):
        package = built / function / "wayfarer"
        modules = sorted(package.rglob("*.py"))
        assert len(modules) > 30, f"{function}: {len(modules)} modules"
        pycs = set(package.rglob("*.pyc"))
        expected = {m.parent / "__pycache__" / f"{m.stem}.cpython-313.pyc" for m in modules}
        assert pycs == expected, (
            f"{function}: no bytecode? (a CPython 3.13: layers/python313.mk) "
            f"missing {sorted(map(str, expected - pycs))[:3]}, extra {sorted(map(str, pycs - expected))[:3]}"
        )
        for pyc in pycs:
            flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
            assert flags == 0b01, f"{pyc}: flags {flags:#b}, not an unchecked hash-based .pyc"


def test_run_sh_starts_the_app_factory_under_uvicorn_on_port() -> None:
    script = (REPO_ROOT / "functions" / "agent" / "run.sh").read_text()
    assert re.search(r'exec "\$python" -m uvicorn --factory wayfarer\.api:create_app', script)
    assert '--port "${PORT:-8080}"' in script
    assert "/opt/python" in script
    result = subprocess.run(
        ["sh", "-n", str(REPO_ROOT / "functions" / "agent" / "run.sh")], capture_output=True
    )
    assert result.returncode == 0, result.stderr


def test_trimmed_layer_twin_imports_the_whole_app_on_cpython_313(tmp_path: Path) -> None:
    """The arm64 layer cannot run here, so the same lock and the same trim are installed for
    this machine (x86_64, CPython 3.13) and every wayfarer module is imported against it:
    a trim rule that removed something the app loads fails here."""
    python = cpython_313()
    if python is None:
        pytest.skip("no CPython 3.13 on this machine (set WAYFARER_PYTHON313 to one)")
    site = tmp_path / "python"
    install = subprocess.run(
        [
            "make",
            "-s",
            "-f",
            str(REPO_ROOT / "layers" / "Makefile"),
            "install",
            f"DEST={site}",
            "PYTHON_PLATFORM=x86_64-manylinux_2_28",
            f"UV={uv_binary()}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    trim = subprocess.run(
        [sys.executable, str(REPO_ROOT / "layers" / "trim_layer.py"), str(site)],
        capture_output=True,
        text=True,
    )
    assert trim.returncode == 0, trim.stderr
    services = sorted(app_boto3_services() | {"dynamodb", "s3", "bedrock-runtime", "bedrock"})
    probe = f"""
import importlib, importlib.metadata, pkgutil, sys
sys.path[:0] = [{str(PACKAGE.parent)!r}, {str(site)!r}]
import wayfarer
for module in pkgutil.walk_packages(wayfarer.__path__, "wayfarer."):
    if module.name != "wayfarer.lambda_handler":  # builds AWS clients at import
        importlib.import_module(module.name)
import mangum, uvicorn, zstandard, boto3, jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from langchain_aws import ChatBedrockConverse
from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from langgraph_checkpoint_aws import DynamoDBSaver
from wayfarer.api import create_app
create_app()
assert zstandard.backend == "cext", zstandard.backend
assert "numpy" not in sys.modules  # trimmed from the layer: nothing the app runs imports it
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
token = jwt.encode({{"sub": "x"}}, key, algorithm="RS256")
assert jwt.decode(token, key.public_key(), algorithms=["RS256"])["sub"] == "x"
session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
for service in {services!r}:
    session.client(service)
print(importlib.metadata.version("langchain-aws"), importlib.metadata.version("langgraph"))
"""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(r"\d+\.\d+", result.stdout.strip()), result.stdout


# ------------------------------------------------------------------ template structure


def test_stream_function_streams_through_the_web_adapter(template: dict[str, Any]) -> None:
    stream = template["Resources"]["StreamFunction"]["Properties"]
    assert stream["Handler"] == "run.sh"
    assert stream["FunctionUrlConfig"]["InvokeMode"] == "RESPONSE_STREAM"
    assert stream["FunctionUrlConfig"]["AuthType"] == {"Fn::If": ["AuthIam", "AWS_IAM", "NONE"]}
    env = stream["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/health"
    assert str(env["PORT"]) == "8080"
    assert len(stream["Layers"]) == 2  # the dependencies and the Lambda Web Adapter
    adapter = template["Mappings"]["LambdaWebAdapter"]["arm64"]
    assert (adapter["Account"], adapter["Layer"]) == ("753240598075", "LambdaAdapterLayerArm64")
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Timeout"] == 900


def test_both_functions_restore_from_a_snapstart_snapshot_behind_their_alias(
    template: dict[str, Any],
) -> None:
    """SnapStart needs published versions: each deploy publishes one behind the alias `live`,
    the function URLs (SAM puts them on the alias) and their public grants name the alias, and
    the adapter relays the snapshot's lifecycle to the paths the app answers."""
    functions = template["Globals"]["Function"]
    assert functions["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert functions["AutoPublishAlias"] == "live"
    assert functions["Runtime"] == "python3.13"  # SnapStart for Python starts at 3.13
    for name in ("StreamFunction", "ApiFunction"):
        assert "SnapStart" not in template["Resources"][name]["Properties"], name  # no override
    grants = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    assert {g["Properties"]["FunctionName"]["Ref"] for g in grants} == {
        "StreamFunction.Alias",
        "ApiFunction.Alias",
    }
    env = template["Resources"]["StreamFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH"] == snapstart.BEFORE_CHECKPOINT_PATH
    assert env["AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH"] == snapstart.AFTER_RESTORE_PATH
    adapter = template["Mappings"]["LambdaWebAdapter"]["arm64"]
    assert int(adapter["Version"]) >= 30  # adapter 1.1.0, the first with the SnapStart hooks


def test_api_function_is_buffered_mangum_without_the_adapter(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    assert api["Handler"] == "wayfarer.lambda_handler.handler"
    assert api["FunctionUrlConfig"]["InvokeMode"] == "BUFFERED"
    assert api["Layers"] == [{"Ref": "DepsLayer"}]
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in api.get("Environment", {}).get("Variables", {})


def test_function_urls_admit_only_the_site_origin(template: dict[str, Any]) -> None:
    for name in ("StreamFunction", "ApiFunction"):
        cors = template["Resources"][name]["Properties"]["FunctionUrlConfig"]["Cors"]
        assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${SiteDistribution.DomainName}"}]
        assert "*" not in cors["AllowMethods"] and "*" not in cors["AllowHeaders"]
    assert "WAYFARER_CORS_ORIGINS" not in template["Globals"]["Function"]["Environment"]["Variables"]


def test_no_dependency_cycle_between_site_and_functions(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    site_side = referenced_names(
        [
            resources[n]
            for n in ("SiteBucket", "SiteOriginAccessControl", "SiteSecurityHeaders", "SiteDistribution")
        ]
    )
    assert not site_side & {"StreamFunction", "ApiFunction", "FunctionRole", "DepsLayer"}, site_side


def test_checkpoint_table_has_the_saver_key_schema_and_ttl(template: dict[str, Any]) -> None:
    table = template["Resources"]["CheckpointTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("PK", "S"),
        ("SK", "S"),
        ("owner", "S"),  # the owner-updated index
        ("updated_at", "S"),
    }
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_app_environment_names_are_fields_of_the_settings(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    names = {k.removeprefix("WAYFARER_").lower() for k in env if k.startswith("WAYFARER_")}
    assert names == {
        "model_provider",
        "bedrock_model_id",
        "research_provider",
        "tavily_api_key",
        "table_name",
        "offload_bucket",
        "ttl_days",
        "deadline_margin_seconds",
        "auth_mode",
        "auth_issuer",
        "auth_audience",
        "auth_jwks_url",
        "auth_allow_none_in_lambda",
    }
    assert names <= set(Settings.model_fields), names - set(Settings.model_fields)
    assert env["WAYFARER_MODEL_PROVIDER"] == "bedrock"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"} <= set(env)


def test_iam_names_its_resources_and_wildcards_only_xray(template: dict[str, Any]) -> None:
    policies = template["Resources"]["FunctionRole"]["Properties"]["Policies"]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    actions_seen: set[str] = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions_seen.update(actions)
        assert not [a for a in actions if "*" in a], actions
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if "*" in resources:
            # X-Ray has no resource-level permissions: the one unavoidable wildcard.
            assert all(a.startswith("xray:") for a in actions), actions
    assert {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"} <= actions_seen
    assert not [
        a for a in actions_seen if a.startswith(("dynamodb:Scan", "dynamodb:Create", "s3:PutLifecycle"))
    ]


def test_bedrock_grant_covers_a_model_id_and_an_inference_profile(template: dict[str, Any]) -> None:
    policies = template["Resources"]["FunctionRole"]["Properties"]["Policies"]
    (bedrock,) = [p for p in policies if p["PolicyName"] == "bedrock"]
    arns = json.dumps(bedrock["PolicyDocument"]["Statement"][0]["Resource"])
    assert "inference-profile/${ModelId}" in arns
    assert "foundation-model/${ModelId}" in arns
    assert "bedrock:*::foundation-model/${Vendor}.${Model}" in arns


def test_public_url_permissions_exist_only_when_the_urls_are_public(template: dict[str, Any]) -> None:
    assert template["Conditions"]["PublicUrls"] == {"Fn::Not": [{"Condition": "AuthIam"}]}
    public = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"}
    assert len(public) == 4
    for resource in public.values():
        assert resource["Condition"] == "PublicUrls"
        assert resource["Properties"]["Principal"] == "*"
    for mode in ("cognito", "jwt", "none"):
        assert set(public) <= set(deployed(template, AuthMode=mode)["Resources"]), mode
    assert not set(public) & set(deployed(template, AuthMode="iam")["Resources"])


# ------------------------------------------------------------------ auth (AuthMode)

COGNITO_ISSUER = {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}
AUTH_ENVIRONMENT = {
    # AuthMode: (WAYFARER_AUTH_MODE, _ISSUER, _AUDIENCE, _ALLOW_NONE_IN_LAMBDA); None = not set
    "cognito": ("jwt", COGNITO_ISSUER, {"Ref": "UserPoolClient"}, None),
    "jwt": ("jwt", {"Ref": "JwtIssuer"}, {"Ref": "JwtAudience"}, None),
    "iam": ("none", None, None, "true"),
    "none": ("none", None, None, "true"),
}


def test_auth_mode_defaults_to_cognito_and_replaces_auth_type(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert "AuthType" not in parameters
    assert parameters["AuthMode"]["Default"] == "cognito"
    assert parameters["AuthMode"]["AllowedValues"] == ["cognito", "jwt", "iam", "none"]
    assert parameters["JwtIssuer"]["Default"] == parameters["JwtAudience"]["Default"] == ""
    assert parameters["JwtJwksUrl"]["Default"] == ""
    assert parameters["AllowSelfSignUp"]["Default"] == "false"
    assert "spend cap" in parameters["ReservedConcurrency"]["Description"]


@pytest.mark.parametrize("mode", list(AUTH_ENVIRONMENT))
def test_function_urls_check_sigv4_only_in_iam_mode(template: dict[str, Any], mode: str) -> None:
    resources = deployed(template, AuthMode=mode)["Resources"]
    for name in ("StreamFunction", "ApiFunction"):
        auth_type = resources[name]["Properties"]["FunctionUrlConfig"]["AuthType"]
        assert auth_type == ("AWS_IAM" if mode == "iam" else "NONE"), (name, auth_type)


@pytest.mark.parametrize("mode", list(AUTH_ENVIRONMENT))
def test_both_functions_get_the_auth_settings_of_the_mode(template: dict[str, Any], mode: str) -> None:
    stack = deployed(template, AuthMode=mode)
    env = stack["Globals"]["Function"]["Environment"]["Variables"]
    names = ("MODE", "ISSUER", "AUDIENCE", "ALLOW_NONE_IN_LAMBDA")
    assert tuple(env.get(f"WAYFARER_AUTH_{name}") for name in names) == AUTH_ENVIRONMENT[mode]
    assert "WAYFARER_AUTH_JWKS_URL" not in env  # the app's default, {issuer}/.well-known/jwks.json
    for name in ("StreamFunction", "ApiFunction"):  # Globals only: no function overrides them
        own = stack["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
        assert not [key for key in own if key.startswith("WAYFARER_AUTH_")], name


@pytest.mark.parametrize("mode", list(AUTH_ENVIRONMENT))
def test_a_jwks_url_is_passed_only_in_jwt_mode(template: dict[str, Any], mode: str) -> None:
    jwks = "https://issuer.example.com/oauth2/v1/keys"
    env = deployed(template, AuthMode=mode, JwtJwksUrl=jwks)["Globals"]["Function"]["Environment"][
        "Variables"
    ]
    assert env.get("WAYFARER_AUTH_JWKS_URL") == ({"Ref": "JwtJwksUrl"} if mode == "jwt" else None)


@pytest.mark.parametrize("mode", ["jwt", "iam", "none"])
def test_only_cognito_mode_creates_or_names_the_user_pool(template: dict[str, Any], mode: str) -> None:
    cognito = deployed(template, AuthMode="cognito")
    assert {"UserPool", "UserPoolClient"} <= set(cognito["Resources"])
    stack = deployed(template, AuthMode=mode)
    assert not {"UserPool", "UserPoolClient"} & set(stack["Resources"])
    assert not referenced_names(stack) & {"UserPool", "UserPoolClient"}


def test_user_pool_signs_in_by_email_with_a_strong_password(template: dict[str, Any]) -> None:
    pool = template["Resources"]["UserPool"]
    assert pool["Type"] == "AWS::Cognito::UserPool"
    assert pool["Condition"] == "AuthCognito"
    assert template["Conditions"]["AuthCognito"] == {"Fn::Equals": [{"Ref": "AuthMode"}, "cognito"]}
    properties = pool["Properties"]
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}
    assert properties["AutoVerifiedAttributes"] == ["email"]
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[f"Require{kind}"] is True for kind in ("Uppercase", "Lowercase", "Numbers", "Symbols"))
    assert properties["MfaConfiguration"] in ("OFF", "OPTIONAL")
    # A deploy never deletes the accounts (make destroy does, explicitly).
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert "delete-user-pool" in (REPO_ROOT / "Makefile").read_text()


@pytest.mark.parametrize(("self_sign_up", "admin_only"), [("false", True), ("true", False)])
def test_only_admins_create_users_unless_self_sign_up_is_allowed(
    template: dict[str, Any], self_sign_up: str, admin_only: bool
) -> None:
    pool = deployed(template, AllowSelfSignUp=self_sign_up)["Resources"]["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is admin_only


def test_app_client_is_public_with_password_srp_and_refresh(template: dict[str, Any]) -> None:
    client = template["Resources"]["UserPoolClient"]
    assert client["Type"] == "AWS::Cognito::UserPoolClient"
    assert client["Condition"] == "AuthCognito"
    properties = client["Properties"]
    assert properties["UserPoolId"] == {"Ref": "UserPool"}
    assert properties["GenerateSecret"] is False
    assert sorted(properties["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    units = properties["TokenValidityUnits"]
    assert (properties["AccessTokenValidity"], units["AccessToken"]) == (1, "hours")
    assert (properties["RefreshTokenValidity"], units["RefreshToken"]) == (30, "days")
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in properties  # no hosted UI, no redirect URLs to keep safe


def test_jwt_mode_refuses_to_deploy_without_issuer_and_audience(template: dict[str, Any]) -> None:
    issuer = "https://issuer.example.com/"
    assert len(failed_rule_assertions(template, AuthMode="jwt")) == 2
    (missing,) = failed_rule_assertions(template, AuthMode="jwt", JwtIssuer=issuer)
    assert "JwtAudience" in missing
    (missing,) = failed_rule_assertions(template, AuthMode="jwt", JwtAudience="api")
    assert "JwtIssuer" in missing
    assert failed_rule_assertions(template, AuthMode="jwt", JwtIssuer=issuer, JwtAudience="api") == []
    for mode in ("cognito", "iam", "none"):
        assert failed_rule_assertions(template, AuthMode=mode) == [], mode
    assert re.fullmatch(template["Parameters"]["JwtIssuer"]["AllowedPattern"], issuer)
    assert not re.fullmatch(template["Parameters"]["JwtIssuer"]["AllowedPattern"], "http://issuer")


@pytest.mark.parametrize(
    ("mode", "auth_outputs"),
    [
        ("cognito", {"AuthMode", "AuthIssuer", "UserPoolId", "UserPoolClientId", "AuthRegion"}),
        ("jwt", {"AuthMode", "AuthIssuer"}),
        ("iam", {"AuthMode"}),
        ("none", {"AuthMode"}),
    ],
)
def test_outputs_tell_the_site_how_to_sign_in(
    template: dict[str, Any], mode: str, auth_outputs: set[str]
) -> None:
    outputs = deployed(template, AuthMode=mode)["Outputs"]
    auth = {"AuthMode", "AuthIssuer", "UserPoolId", "UserPoolClientId", "AuthRegion"}
    assert set(outputs) & auth == auth_outputs
    assert outputs["AuthMode"]["Value"] == {"Ref": "AuthMode"}
    if mode == "cognito":
        assert outputs["AuthIssuer"]["Value"] == COGNITO_ISSUER
        assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
        assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
        assert outputs["AuthRegion"]["Value"] == {"Ref": "AWS::Region"}
    if mode == "jwt":
        assert outputs["AuthIssuer"]["Value"] == {"Ref": "JwtIssuer"}


def test_deploy_writes_the_cognito_sign_in_into_config_json(tmp_path: Path) -> None:
    urls = {
        "ApiUrl": "https://api.lambda-url.us-east-1.on.aws/",
        "StreamUrl": 'https://stream.lambda-url.us-east-1.on.aws/?"quoted"',
        "SiteUrl": "https://d111.cloudfront.net",
    }
    cognito = {
        "AuthMode": "cognito",
        "AuthIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc",
        "UserPoolId": "eu-west-1_Abc",
        "UserPoolClientId": "4example",
        "AuthRegion": "eu-west-1",
    }
    assert site_config({**urls, **cognito}, tmp_path) == {
        "apiUrl": urls["ApiUrl"],
        "streamUrl": urls["StreamUrl"],  # escaped in the file, intact when parsed
        "auth": {
            "type": "cognito",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_Abc",
            "clientId": "4example",
        },
    }
    for other in ({"AuthMode": "jwt", "AuthIssuer": "https://issuer.example.com/"}, {"AuthMode": "iam"}):
        assert site_config({**urls, **other}, tmp_path) == {
            "apiUrl": urls["ApiUrl"],
            "streamUrl": urls["StreamUrl"],
        }


def test_function_urls_let_the_site_send_its_token_and_read_retry_after(template: dict[str, Any]) -> None:
    client = (REPO_ROOT / "web" / "src" / "api" / "client.ts").read_text()
    methods_used = set(re.findall(r"""(?:request\(|method:\s*)['"]([A-Z]+)['"]""", client))
    assert {"GET", "POST", "DELETE"} <= methods_used, methods_used
    for name in ("StreamFunction", "ApiFunction"):
        cors = template["Resources"][name]["Properties"]["FunctionUrlConfig"]["Cors"]
        assert set(cors["AllowMethods"]) == methods_used, name
        assert {"authorization", "content-type", "last-event-id"} <= set(cors["AllowHeaders"]), name
        assert {"retry-after", "content-location", "location"} <= set(cors["ExposeHeaders"]), name
    csp = template["Resources"]["SiteSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    connect_src = csp["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "https://cognito-idp.${AWS::Region}.amazonaws.com" in connect_src  # sign-in (InitiateAuth)


def test_table_indexes_each_users_threads_by_last_update(template: dict[str, Any]) -> None:
    table = template["Resources"]["CheckpointTable"]["Properties"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": "owner-updated",
        "KeySchema": [
            {"AttributeName": "owner", "KeyType": "HASH"},
            {"AttributeName": "updated_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    policies = template["Resources"]["FunctionRole"]["Properties"]["Policies"]
    statements = [
        s for p in policies if p["PolicyName"] == "checkpoints" for s in p["PolicyDocument"]["Statement"]
    ]
    assert {
        "Action": "dynamodb:Query",
        "Resource": {"Fn::Sub": "${CheckpointTable.Arn}/index/owner-updated"},
    } in [{k: s[k] for k in ("Action", "Resource")} for s in statements]


def test_every_boto3_client_of_the_app_keeps_its_service_model_in_the_layer() -> None:
    kept = load_trim_layer().BOTOCORE_SERVICES
    used = app_boto3_services()
    assert used, "found no boto3 client in the app: is the pattern still right?"
    assert used <= kept, f"add {sorted(used - kept)} to BOTOCORE_SERVICES in layers/trim_layer.py"


@pytest.fixture
def offload_bucket(moto_endpoint: str, template: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """A bucket on moto with the template's lifecycle rules, at the default TtlDays."""
    ttl_days = int(template["Parameters"]["TtlDays"]["Default"])
    rules = []
    for rule in template["Resources"]["OffloadBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]:
        rule_id = (
            rule["Id"]["Fn::Sub"].replace("${TtlDays}", str(ttl_days))
            if isinstance(rule["Id"], dict)
            else rule["Id"]
        )
        api_rule: dict[str, Any] = {"ID": rule_id, "Status": rule["Status"]}
        if "TagFilters" in rule:
            (tag,) = rule["TagFilters"]
            api_rule["Filter"] = {"Tag": {"Key": tag["Key"], "Value": str(ttl_days)}}
            api_rule["Expiration"] = {"Days": ttl_days}
        else:
            api_rule["Filter"] = {"Prefix": ""}
            api_rule["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(api_rule)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"wf-lifecycle-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    yield name, ttl_days


def lifecycle_rule_ids(moto_endpoint: str, bucket: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    return sorted(r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])


def saver_on(moto_endpoint: str, bucket: str, ttl_days: int) -> DynamoDBSaver:
    return DynamoDBSaver(
        table_name="unused",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        ttl_seconds=ttl_days * 86400,
        s3_offload_config={"bucket_name": bucket, "endpoint_url": moto_endpoint},
    )


def test_saver_finds_the_template_lifecycle_rule_and_leaves_the_bucket_alone(
    moto_endpoint: str, offload_bucket: tuple[str, int]
) -> None:
    """The role has no s3:PutLifecycleConfiguration: the saver must find its rule ready-made."""
    bucket, ttl_days = offload_bucket
    before = lifecycle_rule_ids(moto_endpoint, bucket)
    saver_on(moto_endpoint, bucket, ttl_days)
    assert lifecycle_rule_ids(moto_endpoint, bucket) == before
    # With another TTL the saver would write its own rule, which the role cannot do in AWS.
    saver_on(moto_endpoint, bucket, ttl_days + 1)
    assert lifecycle_rule_ids(moto_endpoint, bucket) == sorted(
        [*before, f"root-ttl-expiration-{ttl_days + 1}d"]
    )


@pytest.mark.parametrize("event_file", sorted(EVENTS.glob("*.json")), ids=lambda p: p.stem)
def test_event_is_a_function_url_payload_v2(event_file: Path) -> None:
    """What `sam local invoke ApiFunction -e events/<name>.json` sends; tests/test_lambda_entries.py
    feeds them to the handler."""
    event = json.loads(event_file.read_text())
    parsed = LambdaFunctionUrlModel(**event)
    assert parsed.version == "2.0" and parsed.routeKey == "$default"
    assert parsed.isBase64Encoded is False
    assert parsed.requestContext.http.path == parsed.rawPath
    assert parsed.requestContext.domainName.endswith(".lambda-url.us-east-1.on.aws")
    if parsed.requestContext.http.method == "POST":
        assert event["headers"]["content-type"] == "application/json"
        assert int(event["headers"]["content-length"]) == len(event["body"].encode())
    if parsed.rawQueryString:
        assert parsed.queryStringParameters == dict(p.split("=", 1) for p in parsed.rawQueryString.split("&"))
