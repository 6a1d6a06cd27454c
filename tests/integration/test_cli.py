"""The `amphub` command on a real SQLite file: migrate, admin tasks, errors, --help."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from amphub.adapters.store.database import create_engine, session_factory
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.domain.roles import Role
from amphub.entrypoints.cli import app
from tests.support.live import TEST_SECRET

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "AMPHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        "AMPHUB_SECRET_KEY": TEST_SECRET,
        "AMPHUB_FAST_HASHING": "1",
    }


def memberships_of(url: str, email: str) -> list[tuple[int | None, Role]]:
    async def read() -> list[tuple[int | None, Role]]:
        engine = create_engine(url)
        try:
            async with SqlUnitOfWork(session_factory(engine)) as uow:
                user = await uow.users.get_by_email(email)
                assert user is not None
                return [(m.team_id, m.role) for m in await uow.memberships.of_user(user.id)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_admin_flow(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    result = runner.invoke(
        app, ["admin", "create-user", "ops@example.com", "--password", "a long password"], env=env
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["admin", "create-operator", "Nordic CPO", "--admin", "ops@example.com"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "operator 1: Nordic CPO" in result.output
    result = runner.invoke(
        app, ["admin", "create-user", "tech@example.com", "--password", "another long one"], env=env
    )
    result = runner.invoke(
        app,
        [
            "admin",
            "add-member",
            "tech@example.com",
            "--role",
            "operator_manager",
            "--operator",
            "1",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert memberships_of(env["AMPHUB_DATABASE_URL"], "tech@example.com") == [
        (None, Role.OPERATOR_MANAGER)
    ]


def test_site_and_meter_registration(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    assert runner.invoke(app, ["admin", "create-operator", "Op"], env=env).exit_code == 0
    result = runner.invoke(app, ["admin", "create-team", "Garages", "--operator", "1"], env=env)
    assert "team 1" in result.output, result.output
    result = runner.invoke(
        app,
        ["admin", "create-site", "Garage", "--team", "1", "--country", "SE",
         "--bidding-zone", "SE3", "--time-zone", "Europe/Stockholm"],
        env=env,
    )  # fmt: skip
    assert "site 1" in result.output, result.output
    bad = runner.invoke(
        app,
        ["admin", "create-site", "X", "--team", "1", "--country", "SE",
         "--bidding-zone", "DK2", "--time-zone", "Europe/Stockholm"],
        env=env,
    )  # fmt: skip
    assert bad.exit_code == 1 and "bidding_zone" in bad.output
    result = runner.invoke(app, ["meter", "add", "--site", "1", "--main-fuse", "35"], env=env)
    assert result.exit_code == 0, result.output
    serial = re.search(r"serial number: (AMH-\S+)", result.output)
    pin = re.search(r"PIN: (\d{8})", result.output)
    assert serial and pin
    listing = runner.invoke(app, ["meter", "list"], env=env)
    assert serial.group(1) in listing.output and "NEVER_SEEN" in listing.output
    assert pin.group(1) not in listing.output
    again = runner.invoke(app, ["meter", "set-pin", "1"], env=env)
    assert again.exit_code == 0 and serial.group(1) in again.output
    result = runner.invoke(
        app,
        ["charge-point", "add", "CP-CLI-1", "--site", "1", "--connectors", "2", "--phases", "1"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output)
    assert password and 16 <= len(password.group(1)) <= 40
    assert "/ocpp/CP-CLI-1" in result.output
    again = runner.invoke(app, ["charge-point", "set-password", "CP-CLI-1"], env=env)
    new = re.search(r"password: (\S+)", again.output)
    assert again.exit_code == 0 and new and new.group(1) != password.group(1)
    unknown = runner.invoke(app, ["charge-point", "set-password", "NOPE"], env=env)
    assert unknown.exit_code == 1 and "not found" in unknown.output
    duplicate = runner.invoke(app, ["charge-point", "add", "CP-CLI-1", "--site", "1"], env=env)
    assert duplicate.exit_code == 1 and "ocpp_identity" in duplicate.output
    modbus = runner.invoke(
        app, ["meter", "add", "--site", "1", "--main-fuse", "35", "--transport", "modbus"], env=env
    )
    assert modbus.exit_code == 1 and "host" in modbus.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["admin", "create-user", "not-an-email", "--password", "a long password"], "email"),
        (["admin", "create-user", "x@example.com", "--password", "short"], "password"),
        (
            ["admin", "add-member", "x@example.com", "--role", "overlord", "--operator", "1"],
            "overlord",
        ),
        (
            [
                "admin",
                "add-member",
                "nobody@example.com",
                "--role",
                "team_owner",
                "--operator",
                "1",
            ],
            "no user",
        ),
    ],
)
def test_bad_input_is_a_clear_error(env: dict[str, str], args: list[str], message: str) -> None:
    runner.invoke(app, ["migrate"], env=env)
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert message in result.output


def test_a_server_without_a_secret_refuses_to_start(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["migrate"], env={**env, "AMPHUB_SECRET_KEY": ""})
    assert result.exit_code == 2
    assert "AMPHUB_SECRET_KEY" in result.output


def test_settings_file(tmp_path: Path, env: dict[str, str]) -> None:
    other = tmp_path / "from-file.sqlite3"
    config = tmp_path / "amphub.toml"
    config.write_text(
        f'database_url = "sqlite+aiosqlite:///{other}"\nsecret_key = "{TEST_SECRET}"\n'
    )
    result = runner.invoke(
        app,
        ["migrate", "--config", str(config)],
        env={"AMPHUB_DATABASE_URL": None, "AMPHUB_SECRET_KEY": None},
    )
    assert result.exit_code == 0, result.output
    assert other.exists()


def every_command() -> list[list[str]]:
    """Every command and sub-command of the CLI, walked from the app itself."""
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        if hasattr(command, "commands"):  # a group (typer ships its own click)
            for name, child in command.commands.items():
                walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_the_walk_finds_the_commands() -> None:
    assert ["meter", "add"] in every_command()
    assert len(every_command()) > 12


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
