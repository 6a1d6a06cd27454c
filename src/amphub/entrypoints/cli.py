"""The `amphub` command: serve, migrate, demo, admin tasks. Thin: settings → bootstrap → a
service call."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from amphub import __version__
from amphub.adapters.store.database import migrate as run_migrations
from amphub.application.access import Actor
from amphub.application.charging.credentials import add_charge_point, set_charge_point_password
from amphub.application.site_equipment import MeterSpec
from amphub.application.uow import Page
from amphub.bootstrap import Container, build
from amphub.domain.errors import DomainError
from amphub.domain.metering import MeterTransport
from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import Address, SiteSpec
from amphub.settings import Settings, load_settings
from amphub_sim.cli import sim_app

app = typer.Typer(help="amphub: an open charge point management system.", no_args_is_help=True)
admin = typer.Typer(help="Administration: operators, users, memberships.", no_args_is_help=True)
app.add_typer(admin, name="admin")
meter = typer.Typer(help="Measurement devices: register, new PIN, list.", no_args_is_help=True)
app.add_typer(meter, name="meter")
charge_point = typer.Typer(help="Charge points: register, new OCPP password.", no_args_is_help=True)
app.add_typer(charge_point, name="charge-point")
app.add_typer(sim_app, name="sim")
powerbank = typer.Typer(
    help="PowerBank: an operator's compatibility list and terms.", no_args_is_help=True
)
app.add_typer(powerbank, name="powerbank")
compat = typer.Typer(help="Compatible brands and models: add, remove, list.", no_args_is_help=True)
powerbank.add_typer(compat, name="compat")
terms = typer.Typer(help="Terms and conditions: publish a new version.", no_args_is_help=True)
powerbank.add_typer(terms, name="terms")

T = TypeVar("T")
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML settings file (same keys as the AMPHUB_* variables)"),
]


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error


def _run(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
    async def main() -> T:
        container = build(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    try:
        return asyncio.run(main())
    except DomainError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"amphub {__version__}")


@app.command()
def migrate(config: ConfigOption = None) -> None:
    """Create or upgrade the database schema to the latest revision."""
    settings = _settings(config)
    run_migrations(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="HTTP address")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
    ssl_cert: Annotated[
        Path | None, typer.Option("--ssl-cert", help="TLS certificate (PEM)")
    ] = None,
    ssl_key: Annotated[Path | None, typer.Option("--ssl-key", help="TLS private key (PEM)")] = None,
) -> None:
    """Run the HTTP API and portal."""
    settings = _settings(config, http_host=host, http_port=port, ssl_cert=ssl_cert, ssl_key=ssl_key)
    from amphub.entrypoints.server import run_server

    run_server(settings)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    database: Annotated[Path, typer.Option(help="SQLite file of the demo")] = Path(
        "var/demo.sqlite3"
    ),
    simulate: Annotated[
        bool, typer.Option(help="run the simulated 63 A site (12 chargers, a meter) live")
    ] = True,
    speed: Annotated[
        float, typer.Option(help="how much faster than real time the cars run")
    ] = 60.0,
) -> None:
    """Start amphub on a SQLite file with a seeded demo operator, team and site, and a
    simulated site charging live against it (OCPP and an HTTP meter)."""
    from amphub.entrypoints.demo import run_demo

    run_demo(port=port, database=database, simulate=simulate, speed=speed)


@admin.command("create-operator")
def create_operator(
    name: str,
    admin_email: Annotated[
        str | None, typer.Option("--admin", help="make this existing user its Operator Admin")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create an operator."""

    async def work(container: Container) -> None:
        operator = await container.tenancy.create_operator(Actor.system("cli"), name)
        typer.echo(f"operator {operator.id}: {operator.name}")
        if admin_email:
            await _grant(container, admin_email, operator.id, None, Role.OPERATOR_ADMIN, False)

    _run(_settings(config), work)


@admin.command("create-team")
def create_team(
    name: str,
    operator: Annotated[int, typer.Option(help="operator id")],
    config: ConfigOption = None,
) -> None:
    """Create a team in an operator."""

    async def work(container: Container) -> None:
        team = await container.tenancy.create_team(Actor.system("cli"), operator, name)
        typer.echo(f"team {team.id}: {team.name}")

    _run(_settings(config), work)


@admin.command("create-site")
def create_site(
    name: str,
    team: Annotated[int, typer.Option(help="team id")],
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2, e.g. DK")],
    bidding_zone: Annotated[str, typer.Option(help="day-ahead bidding zone, e.g. DK2")],
    time_zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Copenhagen")],
    street: Annotated[str, typer.Option(help="street and number")] = "",
    postal_code: Annotated[str, typer.Option(help="postal code")] = "",
    city: Annotated[str, typer.Option(help="city")] = "",
    config: ConfigOption = None,
) -> None:
    """Create a charging site in a team."""

    async def work(container: Container) -> None:
        spec = SiteSpec(name, country, bidding_zone, time_zone, Address(street, postal_code, city))
        site = await container.tenancy.create_site(Actor.system("cli"), team, spec)
        typer.echo(f"site {site.id}: {site.spec.name}")

    _run(_settings(config), work)


@admin.command("create-user")
def create_user(
    email: str,
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            help="the password; asked for (hidden) when not given", envvar="AMPHUB_NEW_PASSWORD"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create a user who can log in."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)

    async def work(container: Container) -> None:
        user = await container.auth.create_user(Actor.system("cli"), email, name, password)
        typer.echo(f"user {user.id}: {user.email}")

    _run(_settings(config), work)


async def _grant(
    container: Container,
    email: str,
    operator_id: int,
    team_id: int | None,
    role: Role,
    can_configure: bool,
) -> None:
    async with container.unit_of_work() as uow:
        user = await uow.users.get_by_email(email.strip().lower())
    if user is None:
        raise typer.BadParameter(f"no user with e-mail {email}")
    membership = Membership(user.id, operator_id, team_id, role, can_configure)
    await container.tenancy.add_member(Actor.system("cli"), membership)
    scope = f"team {team_id}" if team_id is not None else f"operator {operator_id}"
    typer.echo(f"{email} is now {role.value} of {scope}")


@admin.command("add-member")
def add_member(
    email: str,
    role: Annotated[Role, typer.Option(help="the role to grant")],
    operator: Annotated[int, typer.Option(help="operator id")],
    team: Annotated[int | None, typer.Option(help="team id, for team roles")] = None,
    configure_charge_points: Annotated[
        bool, typer.Option(help="Team Admin only: may configure charge points")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Grant a role to a user, at operator level or in one team."""

    async def work(container: Container) -> None:
        await _grant(container, email, operator, team, role, configure_charge_points)

    _run(_settings(config), work)


@meter.command("add")
def meter_add(
    site: Annotated[int, typer.Option(help="site id")],
    main_fuse: Annotated[float, typer.Option("--main-fuse", help="main fuse size per phase (A)")],
    transport: Annotated[MeterTransport, typer.Option(help="how readings arrive")] = (
        MeterTransport.HTTP
    ),
    name: Annotated[str, typer.Option(help="a name people recognise")] = "",
    timeout: Annotated[float, typer.Option(help="INACTIVE after this many silent seconds")] = 30.0,
    modbus_host: Annotated[str | None, typer.Option(help="Modbus TCP: host")] = None,
    modbus_port: Annotated[int, typer.Option(help="Modbus TCP: port")] = 502,
    modbus_unit: Annotated[int, typer.Option(help="Modbus TCP: unit id")] = 1,
    register_map: Annotated[
        str | None, typer.Option(help="Modbus TCP: register map, e.g. eastron_sdm630")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Register a meter; prints its serial number and PIN (the PIN only this once)."""
    settings: dict[str, object] = {}
    if transport is MeterTransport.MODBUS:
        settings = {
            "host": modbus_host, "port": modbus_port, "unit_id": modbus_unit,
            "register_map": register_map,
        }  # fmt: skip
    spec = MeterSpec(name, main_fuse, transport, timeout, transport_settings=settings)

    async def work(container: Container) -> None:
        created = await container.meters.register(Actor.system("cli"), site, spec)
        typer.echo(f"meter {created.meter.id}\nserial number: {created.meter.serial}")
        typer.echo(f"PIN: {created.pin}   (shown once: note it now)")

    _run(_settings(config), work)


@meter.command("set-pin")
def meter_set_pin(meter_id: int, config: ConfigOption = None) -> None:
    """Generate a new PIN for a meter (the old one stops working); prints it once."""

    async def work(container: Container) -> None:
        created = await container.meters.regenerate_pin(Actor.system("cli"), meter_id)
        typer.echo(f"serial number: {created.meter.serial}\nPIN: {created.pin}")

    _run(_settings(config), work)


@meter.command("list")
def meter_list(
    site: Annotated[int | None, typer.Option(help="only this site")] = None,
    config: ConfigOption = None,
) -> None:
    """List registered meters with their status."""

    async def work(container: Container) -> None:
        for item in await container.meters.list_meters(Actor.system("cli"), site, Page(200)):
            typer.echo(
                f"{item.id}\t{item.serial}\t{item.spec.transport.value}\t{item.status.value}"
                f"\tsite {item.site_id}\t{item.spec.name}"
            )

    _run(_settings(config), work)


@charge_point.command("add")
def charge_point_add(
    identity: Annotated[str, typer.Argument(help="the OCPP identity the charger connects with")],
    site: Annotated[int, typer.Option(help="site id")],
    connectors: Annotated[int, typer.Option(help="number of connectors")] = 1,
    phases: Annotated[int, typer.Option(help="phases wired per connector: 1 or 3")] = 3,
    max_amps: Annotated[float, typer.Option(help="maximum current per connector (A)")] = 32.0,
    serial: Annotated[
        str | None, typer.Option(help="serial number (default: the identity)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Register a charge point; prints its OCPP password once."""

    async def work(container: Container) -> None:
        created = await add_charge_point(
            container.tenancy, container.charge_point_passwords, Actor.system("cli"),
            identity=identity, site_id=site, connectors=connectors, phases=phases,
            max_current_a=max_amps, serial_number=serial,
        )  # fmt: skip
        endpoint = f"ws://{container.settings.ocpp_host}:{container.settings.ocpp_port}/ocpp"
        typer.echo(f"charge point {created.charge_point.id}: {identity}")
        typer.echo(f"OCPP endpoint: {endpoint}/{identity}  (HTTP Basic, security profile 1)")
        typer.echo(f"password: {created.password}   (shown once: note it now)")

    _run(_settings(config), work)


@charge_point.command("set-password")
def charge_point_set_password(
    identity: Annotated[str, typer.Argument(help="the charger's OCPP identity")],
    config: ConfigOption = None,
) -> None:
    """Generate a new OCPP password for a charge point; prints it once."""

    async def work(container: Container) -> None:
        password = await set_charge_point_password(
            container.tenancy, container.charging_store, container.charge_point_passwords,
            Actor.system("cli"), identity,
        )  # fmt: skip
        typer.echo(f"password: {password}   (shown once: give it to the charger)")

    _run(_settings(config), work)


OperatorOption = Annotated[int, typer.Option(help="operator id")]


@compat.command("list")
def compat_list(operator: OperatorOption, config: ConfigOption = None) -> None:
    """List the operator's compatible brands and models."""

    async def work(container: Container) -> None:
        actor = Actor.system("cli")
        for entry in await container.powerbank_catalogue.compatibility(actor, operator):
            rule = entry.rule
            typer.echo(f"{entry.id}\t{rule.brand}\t{rule.model}\tfirmware {rule.describe_range()}")

    _run(_settings(config), work)


@compat.command("add")
def compat_add(
    operator: OperatorOption,
    brand: Annotated[str, typer.Option(help="as the charger reports it, e.g. Easee")],
    model: Annotated[str, typer.Option(help="as the charger reports it, e.g. Charge")],
    firmware_min: Annotated[
        str | None, typer.Option(help="compatible from this firmware version on")
    ] = None,
    firmware_below: Annotated[
        str | None, typer.Option(help="compatible below this firmware version")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Add a brand and model (optionally a firmware range) to the compatibility list."""

    async def work(container: Container) -> None:
        rule = CompatibilityRule(brand, model, firmware_min, firmware_below)
        entry = await container.powerbank_catalogue.add_compatibility(
            Actor.system("cli"), operator, rule
        )
        typer.echo(f"compatibility entry {entry.id}: {rule.brand} {rule.model}, "
                   f"firmware {rule.describe_range()}")  # fmt: skip

    _run(_settings(config), work)


@compat.command("remove")
def compat_remove(entry_id: int, operator: OperatorOption, config: ConfigOption = None) -> None:
    """Remove an entry (charge points enrolled under it stay enrolled, flagged)."""

    async def work(container: Container) -> None:
        await container.powerbank_catalogue.remove_compatibility(
            Actor.system("cli"), operator, entry_id
        )
        typer.echo(f"compatibility entry {entry_id} removed")

    _run(_settings(config), work)


@terms.command("publish")
def terms_publish(
    operator: OperatorOption,
    file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="the terms as text (UTF-8)")
    ],
    config: ConfigOption = None,
) -> None:
    """Publish a new version of the terms; sign-ups must accept it from now on."""
    text = file.read_text(encoding="utf-8")

    async def work(container: Container) -> None:
        published = await container.powerbank_catalogue.publish_terms(
            Actor.system("cli"), operator, text
        )
        typer.echo(f"terms version {published.version} published for operator {operator}")

    _run(_settings(config), work)


def main() -> None:
    logging.basicConfig(level=os.environ.get("AMPHUB_LOG_LEVEL", "INFO"))
    app()
