"""The dependency direction of DESIGN.md, checked on the source: domain → stdlib (and numpy);
application → domain; adapters never import each other; nothing below entry points imports
them."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import amphub

PACKAGE_ROOT = Path(amphub.__file__).parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
DOMAIN_MAY_USE = {"numpy"}
"""Pure computation the domain may use besides the standard library (arrays, no I/O)."""


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        if "migrations" in parts:
            continue  # Alembic scripts belong to the store adapter and load by path
        yield ".".join(parts), path


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


ALL = list(modules())


def test_the_walk_sees_every_layer() -> None:
    layers = {layer(name) for name, _ in ALL}
    assert {"domain", "application", "adapters", "entrypoints"} <= layers


@pytest.mark.parametrize(("module", "path"), [m for m in ALL if layer(m[0]) == "domain"])
def test_domain_imports_only_the_standard_library(module: str, path: Path) -> None:
    bad = {
        name
        for name in imports_of(path)
        if not name.startswith("amphub.domain")
        and name.split(".")[0] not in STDLIB | DOMAIN_MAY_USE
    }
    bad |= {name for name in imports_of(path) if name.split(".")[0] == "asyncio"}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize(("module", "path"), [m for m in ALL if layer(m[0]) == "application"])
def test_application_imports_domain_and_itself_only(module: str, path: Path) -> None:
    bad = {
        name
        for name in imports_of(path)
        if (
            name.startswith("amphub")
            and not name.startswith(("amphub.domain", "amphub.application"))
        )
        or (not name.startswith("amphub") and name.split(".")[0] not in STDLIB)
    }
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize(("module", "path"), [m for m in ALL if layer(m[0]) == "adapters"])
def test_adapters_never_import_each_other(module: str, path: Path) -> None:
    own = ".".join(module.split(".")[:3])
    bad = {
        name
        for name in imports_of(path)
        if (name.startswith("amphub.adapters.") and not name.startswith(own))
        or name.startswith(("amphub.entrypoints", "amphub.bootstrap"))
    }
    assert not bad, f"{module} imports {sorted(bad)}"


SIM_ROOT = PACKAGE_ROOT.parent / "amphub_sim"


@pytest.mark.parametrize("path", sorted(SIM_ROOT.rglob("*.py")), ids=lambda p: p.name)
def test_the_simulator_speaks_only_wire_protocols(path: Path) -> None:
    """amphub_sim is a device, not a part of amphub: of amphub it may use only the pure
    domain values (units, schedules), never the services, adapters or wiring."""
    bad = {
        name
        for name in imports_of(path)
        if name.startswith("amphub.") and not name.startswith("amphub.domain")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
