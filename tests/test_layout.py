"""The layout the README promises: imports point down the layers, and no module grows into a grab-bag."""

import ast
from pathlib import Path

import pytest

from orchestration.lib.core.paths import PROJECT_ROOT

PACKAGES = ("orchestration", "schemas")
MAX_LINES = 450

# module prefix → prefixes of our own modules it may import (besides itself and anything third-party)
ALLOWED = {
    "schemas": ("schemas",),
    "orchestration.lib.core": ("orchestration.lib.core", "schemas"),
    "orchestration.lib.tiktok_api": ("orchestration.lib.tiktok_api", "orchestration.lib.core"),
    "orchestration.lib.studio": ("orchestration.lib.studio", "orchestration.lib.core", "schemas"),
    "orchestration.lib.api": (
        "orchestration.lib.api",
        "orchestration.lib.core",
        "orchestration.lib.tiktok_api",
        "schemas",
    ),
    "orchestration.lib.live": ("orchestration.lib.live", "orchestration.lib.core", "schemas"),
    "orchestration.lib.marts": ("orchestration.lib.marts", "orchestration.lib.core"),
    "orchestration.lib.alerts": ("orchestration.lib.alerts", "orchestration.lib.core"),
    # the HTML report reads published marts only: no Dagster, no warehouse code beyond core
    "orchestration.lib.report": ("orchestration.lib.report", "orchestration.lib.core"),
    "orchestration.defs": ("orchestration.defs", "orchestration.lib", "schemas"),
    "orchestration.definitions": ("orchestration.defs", "orchestration.lib"),
    # the run summary the CLI prints: what the data holds and what the run did
    "orchestration.cli_summary": ("orchestration.cli_summary", "orchestration.lib"),
    "orchestration.cli": (
        "orchestration.cli",
        "orchestration.cli_summary",
        "orchestration.definitions",
        "orchestration.lib",
        "orchestration.live_recorder",
    ),
    # and the collector's policy, set before anything else is imported (lib/core/collector.py)
    "orchestration.__main__": ("orchestration.cli", "orchestration.lib.core.collector"),
    "orchestration.devtools": ("orchestration", "schemas"),
    # The optional LIVE recorder (the `live` extra): only the CLI reaches it, the pipeline never does.
    "orchestration.live_recorder": ("orchestration.live_recorder", "orchestration.lib.core"),
}


def _modules():
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT).with_suffix("")
            name = ".".join(part for part in relative.parts if part != "__init__")
            yield name, path


def _own_imports(name: str, path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")[: -node.level] if not path.name == "__init__.py" else name.split(".")
                imported.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
            elif node.module:
                imported.add(node.module)
    return {m for m in imported if m.split(".")[0] in PACKAGES}


def _rule(name: str) -> tuple[str, ...]:
    matches = [prefix for prefix in ALLOWED if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} has no layer in ALLOWED: add it deliberately"
    return ALLOWED[max(matches, key=len)]


@pytest.mark.parametrize(("name", "path"), list(_modules()), ids=[name for name, _ in _modules()])
def test_imports_point_down_the_layers(name, path):
    imports = _own_imports(name, path)
    allowed = _rule(name) if imports else ()
    for imported in sorted(imports):
        assert any(imported == a or imported.startswith(a + ".") for a in allowed), f"{name} imports {imported}"


def test_runtime_never_imports_devtools():
    offenders = [
        name
        for name, path in _modules()
        if not name.startswith("orchestration.devtools")
        and any(m.startswith("orchestration.devtools") for m in _own_imports(name, path))
    ]
    assert offenders == []


def test_no_module_is_a_grab_bag():
    long = {
        name: n for name, path in _modules() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_cli_imports_the_live_recorder():
    offenders = [
        name
        for name, path in _modules()
        if not name.startswith("orchestration.live_recorder")
        and name != "orchestration.cli"
        and any(m.startswith("orchestration.live_recorder") for m in _own_imports(name, path))
    ]
    assert offenders == []
