"""`amphub powerbank …` on a real SQLite file: the compatibility list and terms publishing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from amphub.entrypoints.cli import app
from tests.support.live import TEST_SECRET

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "AMPHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        "AMPHUB_SECRET_KEY": TEST_SECRET,
        "AMPHUB_FAST_HASHING": "1",
    }
    assert runner.invoke(app, ["migrate"], env=values).exit_code == 0
    result = runner.invoke(app, ["admin", "create-operator", "Nordic CPO"], env=values)
    assert "operator 1" in result.output
    return values


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["powerbank", *args], env=env)
    return result.exit_code, result.output


def test_compatibility_list_maintenance(env: dict[str, str]) -> None:
    add = ("compat", "add", "--operator", "1")
    code, out = invoke(env, *add, "--brand", "Easee", "--model", "Charge")
    assert code == 0 and "compatibility entry 1: Easee Charge, firmware any" in out, out
    code, out = invoke(
        env, "compat", "add", "--operator", "1", "--brand", "Zaptec", "--model", "Go",
        "--firmware-min", "2.0", "--firmware-below", "3.0",
    )  # fmt: skip
    assert code == 0, out
    code, out = invoke(env, *add, "--brand", "easee", "--model", "CHARGE")
    assert code == 1 and "on the list already" in out
    code, out = invoke(
        env, "compat", "add", "--operator", "1", "--brand", "X", "--model", "Y",
        "--firmware-min", "newest",
    )  # fmt: skip
    assert code == 1 and "firmware_min: 'newest' is not a version number" in out
    code, out = invoke(env, "compat", "list", "--operator", "1")
    assert out.splitlines() == [
        "1\tEasee\tCharge\tfirmware any",
        "2\tZaptec\tGo\tfirmware 2.0 up to (not including) 3.0",
    ]
    assert invoke(env, "compat", "remove", "1", "--operator", "1")[0] == 0
    assert invoke(env, "compat", "remove", "1", "--operator", "1")[0] == 1
    assert invoke(env, "compat", "list", "--operator", "2")[0] == 1  # no such operator


def test_terms_publish(env: dict[str, str], tmp_path: Path) -> None:
    terms = tmp_path / "terms.md"
    terms.write_text("PowerBank terms, første udgave.\n", encoding="utf-8")
    code, out = invoke(env, "terms", "publish", "--operator", "1", "--file", str(terms))
    assert code == 0 and "terms version 1 published for operator 1" in out, out
    code, out = invoke(env, "terms", "publish", "--operator", "1", "--file", str(terms))
    assert "terms version 2" in out
    terms.write_text("   \n", encoding="utf-8")
    code, out = invoke(env, "terms", "publish", "--operator", "1", "--file", str(terms))
    assert code == 1 and "must not be empty" in out
