"""The foundation's repositories and unit of work on SQLite and on PostgreSQL (every test
runs on both): rows become domain values, constraints hold, and the audit entry lives and
dies with the change it records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.database import session_factory
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.access import Actor
from amphub.application.tenancy import TenancyService
from amphub.application.uow import Page, Visibility
from amphub.domain.errors import InvalidValue
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import Address, ChargePointSpec, ConnectorSpec, SiteSpec
from amphub.domain.units import PhaseRotation

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def uow_factory(engine: AsyncEngine):  # type: ignore[no-untyped-def]
    sessions = session_factory(engine)
    return lambda: SqlUnitOfWork(sessions)


SITE = SiteSpec("Garage", "DK", "DK2", "Europe/Copenhagen", Address("Vej 1", "2300", "København"))


def charge_point(identity: str, serial: str) -> ChargePointSpec:
    return ChargePointSpec(
        ocpp_identity=identity,
        serial_number=serial,
        connectors=(
            ConnectorSpec(1, phases=3, max_current_a=32.0),
            ConnectorSpec(2, phases=1, phase_rotation=PhaseRotation.L2L3L1, max_current_a=16.0),
        ),
        brand="Easee",
        model="Home",
        address=Address("Ørestads Boulevard 7", "2300", "København S"),
    )


async def test_round_trip_of_the_tenancy_tree(engine: AsyncEngine) -> None:
    service = TenancyService(uow_factory(engine), FixedClock())
    system = Actor.system()
    operator = await service.create_operator(system, "Operator A")
    team = await service.create_team(system, operator.id, "Team A")
    site = await service.create_site(system, team.id, SITE)
    created = await service.create_charge_point(system, site.id, charge_point("CP-1", "SN-1"))

    loaded = await service.get_charge_point(system, created.id)
    assert loaded == created
    assert loaded.operator_id == operator.id and loaded.team_id == team.id
    assert loaded.spec.connectors[1].phase_rotation is PhaseRotation.L2L3L1
    assert loaded.created_at == NOW and loaded.created_at.tzinfo is not None
    assert (await service.get_site(system, site.id)).spec == SITE


async def test_duplicate_identity_or_serial_is_refused_naming_the_field(
    engine: AsyncEngine,
) -> None:
    service = TenancyService(uow_factory(engine), FixedClock())
    system = Actor.system()
    operator = await service.create_operator(system, "Op")
    team = await service.create_team(system, operator.id, "T")
    site = await service.create_site(system, team.id, SITE)
    await service.create_charge_point(system, site.id, charge_point("CP-1", "SN-1"))
    for spec, field in (
        (charge_point("CP-1", "SN-2"), "ocpp_identity"),
        (charge_point("CP-2", "SN-1"), "serial_number"),
    ):
        with pytest.raises(InvalidValue) as raised:
            await service.create_charge_point(system, site.id, spec)
        assert raised.value.field == field
    # and the database itself refuses, should a caller skip the check
    async with uow_factory(engine)() as uow:
        with pytest.raises(IntegrityError):
            await uow.charge_points.add(site.id, charge_point("CP-1", "SN-9"), NOW)


async def test_audit_entry_is_written_in_the_same_transaction(engine: AsyncEngine) -> None:
    factory = uow_factory(engine)
    service = TenancyService(factory, FixedClock())
    system = Actor.system("tester")
    operator = await service.create_operator(system, "Op")
    team = await service.create_team(system, operator.id, "T")
    site = await service.create_site(system, team.id, SITE)

    before = await service.audit_log(system, Page(limit=100))
    renamed = SiteSpec("Renamed", "DK", "DK1", "Europe/Copenhagen")
    await service.update_site(system, site.id, renamed)
    after = await service.audit_log(system, Page(limit=100))
    assert len(after) == len(before) + 1
    entry = after[0].entry
    assert (entry.action, entry.actor, entry.object_id) == ("site.update", "tester", str(site.id))
    assert entry.old_value is not None and entry.new_value is not None
    assert (entry.old_value["name"], entry.new_value["name"]) == ("Garage", "Renamed")
    assert (entry.old_value["bidding_zone"], entry.new_value["bidding_zone"]) == ("DK2", "DK1")

    # A unit of work that fails after writing both the change and its audit entry keeps neither.
    with pytest.raises(RuntimeError):
        async with factory() as uow:
            await uow.sites.update(site.id, SITE)
            await uow.audit.record(after[0].entry)
            raise RuntimeError("crash before commit")
    assert (await service.get_site(system, site.id)).spec == renamed
    assert len(await service.audit_log(system, Page(limit=100))) == len(after)


async def test_visibility_and_keyset_pages(engine: AsyncEngine) -> None:
    factory = uow_factory(engine)
    service = TenancyService(factory, FixedClock())
    system = Actor.system()
    op_a = await service.create_operator(system, "A")
    op_b = await service.create_operator(system, "B")
    team_a1 = await service.create_team(system, op_a.id, "A1")
    team_a2 = await service.create_team(system, op_a.id, "A2")
    team_b = await service.create_team(system, op_b.id, "B1")
    sites = {}
    for team in (team_a1, team_a2, team_b):
        for i in range(3):
            sites[(team.id, i)] = await service.create_site(
                system, team.id, SiteSpec(f"{team.name}-{i}", "DK", "DK2", "Europe/Copenhagen")
            )
    async with factory() as uow:
        whole_a = await uow.sites.list_visible(Visibility(operator_ids=(op_a.id,)), Page())
        assert {s.spec.name for s in whole_a} == {f"A{t}-{i}" for t in (1, 2) for i in range(3)}
        only_a2 = await uow.sites.list_visible(Visibility(team_ids=(team_a2.id,)), Page())
        assert {s.team_id for s in only_a2} == {team_a2.id}
        assert await uow.sites.list_visible(Visibility(), Page()) == []
        first = await uow.sites.list_visible(Visibility(everything=True), Page(limit=4))
        rest = await uow.sites.list_visible(
            Visibility(everything=True), Page(limit=10, after_id=first[-1].id)
        )
        assert len(first) == 4 and len(rest) == 5
        assert not {s.id for s in first} & {s.id for s in rest}


async def test_charge_point_search_by_serial_or_address(engine: AsyncEngine) -> None:
    service = TenancyService(uow_factory(engine), FixedClock())
    system = Actor.system()
    operator = await service.create_operator(system, "Op")
    team = await service.create_team(system, operator.id, "T")
    site = await service.create_site(system, team.id, SITE)
    await service.create_charge_point(system, site.id, charge_point("CP-1", "EH123456"))
    other = ChargePointSpec(
        "CP-2", "ZZ999", (ConnectorSpec(1),), address=Address("Strandvejen 2", "2900", "Hellerup")
    )
    await service.create_charge_point(system, site.id, other)
    by_serial = await service.list_charge_points(system, "eh123", Page())
    by_address = await service.list_charge_points(system, "hellerup", Page())
    assert [cp.spec.ocpp_identity for cp in by_serial] == ["CP-1"]
    assert [cp.spec.ocpp_identity for cp in by_address] == ["CP-2"]


async def test_memberships_and_tokens(engine: AsyncEngine) -> None:
    factory = uow_factory(engine)
    async with factory() as uow:
        operator = await uow.operators.add("Op", NOW)
        team = await uow.teams.add(operator.id, "T", NOW)
        user = await uow.users.add("a@example.com", "A", "hash", NOW)
        await uow.memberships.add(Membership(user.id, operator.id, team.id, Role.TEAM_ADMIN, True))
        await uow.memberships.add(Membership(user.id, operator.id, None, Role.OPERATOR_MANAGER))
        token = await uow.tokens.add(user.id, "d" * 64, "ci", NOW, NOW + timedelta(days=1))
        await uow.commit()
    async with factory() as uow:
        memberships = await uow.memberships.of_user(user.id)
        assert {(m.team_id, m.role, m.can_configure_charge_points) for m in memberships} == {
            (team.id, Role.TEAM_ADMIN, True),
            (None, Role.OPERATOR_MANAGER, False),
        }
        assert await uow.memberships.find(user.id, operator.id, None) is not None
        assert (await uow.tokens.find_active("d" * 64, NOW)) == token
        assert await uow.tokens.find_active("d" * 64, NOW + timedelta(days=2)) is None
        assert await uow.tokens.revoke(token.id, user.id, NOW)
        await uow.commit()
    async with factory() as uow:
        assert await uow.tokens.find_active("d" * 64, NOW) is None


async def test_datetimes_come_back_as_utc(engine: AsyncEngine) -> None:
    factory = uow_factory(engine)
    copenhagen = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 21, 13, 0, tzinfo=copenhagen)
    async with factory() as uow:
        await uow.users.add("t@example.com", "", "h", local)
        user = await uow.users.get_by_email("t@example.com")
        assert user is not None
        await uow.tokens.add(user.id, "e" * 64, "", local, None)
        await uow.commit()
    async with factory() as uow:
        (token,) = await uow.tokens.of_user(user.id)
        assert token.created_at == NOW and token.created_at.utcoffset() == timedelta(0)
        with pytest.raises(Exception, match="naive"):
            await uow.users.add("naive@example.com", "", "h", datetime(2026, 1, 1))
