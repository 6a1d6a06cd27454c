"""PowerBank's use cases over the real store, on SQLite and on PostgreSQL: what is kept (the
history, the terms accepted, Facility IDs, opt-outs), what is refused and audited, the DK2
rule through tenancy's listener, and the dispatch seam."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from amphub.adapters.store.database import session_factory
from amphub.adapters.store.powerbank import SqlPowerBankUnitOfWork
from amphub.application.access import Actor
from amphub.domain.charging import BootStatus, MeterReading
from amphub.domain.errors import Conflict, Forbidden, InvalidValue, NotFound
from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.powerbank.enrolment import (
    EnrolmentBasis,
    EnrolmentStart,
    FacilityIdsRequired,
    NotEligible,
    SignUpRequest,
)
from amphub.domain.roles import Role
from amphub.domain.tenancy import SiteSpec
from tests.integration.powerbank.conftest import SYSTEM, World

SE_ID = "735999000000000017"


async def test_compatibility_list_and_terms_round_trip(world: World) -> None:
    admin = await world.user(Role.OPERATOR_ADMIN)
    rule = CompatibilityRule("Zaptec", "Go", firmware_min="2.0", firmware_below="3.0")
    entry = await world.catalogue.add_compatibility(admin, world.operator_id, rule)
    assert (await world.catalogue.compatibility(admin, world.operator_id))[0].rule == rule
    with pytest.raises(Conflict):
        await world.catalogue.add_compatibility(admin, world.operator_id, rule)
    manager = await world.user(Role.OPERATOR_MANAGER)
    with pytest.raises(Forbidden):
        await world.catalogue.add_compatibility(
            manager, world.operator_id, CompatibilityRule("A", "B")
        )
    stranger = Actor(None, "stranger", ())
    with pytest.raises(NotFound):
        await world.catalogue.compatibility(stranger, world.operator_id)
    await world.catalogue.remove_compatibility(admin, world.operator_id, entry.id)
    assert await world.catalogue.compatibility(admin, world.operator_id) == []

    first = await world.catalogue.publish_terms(admin, world.operator_id, "Version one.")
    second = await world.catalogue.publish_terms(admin, world.operator_id, "Version two.")
    assert (first.version, second.version) == (1, 2)
    listed = await world.catalogue.terms(admin, world.operator_id)
    assert [t.version for t in listed] == [2, 1] and listed[0].text == "Version two."
    assert listed[0].published_at.tzinfo is not None


async def _ready(world: World) -> int:
    await world.catalogue.add_compatibility(
        SYSTEM, world.operator_id, CompatibilityRule("Easee", "Charge")
    )
    return (await world.catalogue.publish_terms(SYSTEM, world.operator_id, "Terms.")).version


async def test_bulk_sign_up_refuses_as_a_whole_then_enrols_and_keeps_history(world: World) -> None:
    terms = await _ready(world)
    dk = await world.charge_point("DK1")
    se = await world.charge_point("SE3")
    de = await world.charge_point("DE-LU")
    odd = await world.charge_point("GB", brand="Wallbox", model="Pulsar")
    owner = await world.user(Role.TEAM_OWNER)

    with pytest.raises(FacilityIdsRequired) as refused:
        await world.powerbank.sign_up_team(
            owner, world.team_id, terms, SignUpRequest(all_compatible=True)
        )
    assert "CP-2" in str(refused.value)
    team = await world.powerbank.team(owner, world.team_id)
    assert not any(s.enrolment for s in team.charge_points), "a refusal changes nothing"

    result = await world.powerbank.sign_up_team(
        owner,
        world.team_id,
        terms,
        SignUpRequest(all_compatible=True, facility_ids={se.id: "735999 000000 000017"}),
    )
    assert [s.charge_point.id for s in result.enrolled] == [dk.id, se.id]
    assert {n.status.charge_point.id for n in result.not_enrolled} == {de.id, odd.id}
    enrolment = result.enrolled[1].enrolment
    assert enrolment is not None
    assert enrolment.start.facility_id == SE_ID and enrolment.start.terms_version == terms
    assert enrolment.start.by == owner.name and enrolment.start.terms_accepted_at is not None
    assert result.enrolled[1].facts.facility_id == SE_ID

    stopped = await world.powerbank.stop(owner, se.id)
    assert stopped.enrolment is None and stopped.opt_out is not None
    (ended,) = (await world.powerbank.details(owner, se.id)).history
    assert ended.ended_at is not None and ended.ended_by == owner.name
    assert ended.end_reason == "stopped" and ended.start.at < ended.ended_at

    again = await world.powerbank.sign_up(owner, se.id, terms)
    assert again.enrolment is not None and again.opt_out is None
    assert len((await world.powerbank.details(owner, se.id)).history) == 2

    actions = [e.entry.action for e in await world.audit()]
    assert actions.count("powerbank.sign_up.refused") == 1
    assert actions.count("powerbank.enrol") == 3
    assert "powerbank.stop" in actions and "powerbank.facility_id" in actions


async def test_who_may_sign_up_and_what_is_audited_when_refused(world: World) -> None:
    terms = await _ready(world)
    cp = await world.charge_point("DK1")
    team_admin = await world.user(Role.TEAM_ADMIN)
    with pytest.raises(Forbidden, match="Team Admin with the 'configure charge points'"):
        await world.powerbank.sign_up(team_admin, cp.id, terms)
    other_team = await world.tenancy.create_team(SYSTEM, world.operator_id, "Other")
    outsider = await world.user(Role.TEAM_OWNER, team_id=other_team.id)
    with pytest.raises(NotFound):
        await world.powerbank.stop(outsider, cp.id)
    with pytest.raises(Conflict, match="version 1"):
        await world.powerbank.sign_up(await world.user(Role.TEAM_OWNER), cp.id, terms + 5)
    configured = await world.user(Role.TEAM_ADMIN, configure=True)
    status = await world.powerbank.sign_up(configured, cp.id, terms)
    assert status.enrolment is not None and status.can_manage

    refusals = [e.entry for e in await world.audit() if e.entry.action.endswith(".refused")]
    assert [(r.action, r.new_value and r.new_value["status"]) for r in refusals] == [
        ("powerbank.sign_up.refused", 403),
        ("powerbank.stop.refused", 404),
        ("powerbank.sign_up.refused", 409),
    ]
    assert refusals[0].team_id == world.team_id
    assert refusals[1].operator_id is None, "no tenant reads about an object it cannot see"


async def test_single_sign_up_of_an_ineligible_charge_point_says_why(world: World) -> None:
    terms = await _ready(world)
    odd = await world.charge_point("GB", brand="Wallbox", model="Pulsar")
    se = await world.charge_point("SE3")
    with pytest.raises(NotEligible, match="Wallbox Pulsar is not on the PowerBank"):
        await world.powerbank.sign_up(SYSTEM, odd.id, terms)
    with pytest.raises(InvalidValue, match="does not begin with 735999"):
        await world.powerbank.set_facility_id(SYSTEM, se.id, "123456123456789012")
    with pytest.raises(InvalidValue, match="only Swedish"):
        await world.powerbank.set_facility_id(SYSTEM, odd.id, SE_ID)
    await world.powerbank.set_facility_id(SYSTEM, se.id, SE_ID)
    assert (await world.powerbank.sign_up(SYSTEM, se.id, terms)).enrolment is not None


async def test_dk2_auto_enrolment_follows_registration_moves_and_never_undoes_an_opt_out(
    world: World,
) -> None:
    waiting = await world.charge_point("DK2")  # not on the list yet: stays out
    assert (await world.powerbank.status(SYSTEM, waiting.id)).enrolment is None
    terms = await _ready(world)  # adding Easee Charge lets the waiting one join
    joined = await world.powerbank.status(SYSTEM, waiting.id)
    assert joined.enrolment is not None
    assert joined.enrolment.start.basis is EnrolmentBasis.AUTOMATIC
    assert joined.enrolment.start.by_user_id is None
    assert joined.enrolment.start.terms_version is None, "no terms were published yet"
    assert "DK2 rules" in joined.enrolment.start.note

    registered = await world.charge_point("DK2")
    auto = (await world.powerbank.status(SYSTEM, registered.id)).enrolment
    assert auto is not None and auto.start.terms_version == terms

    await world.powerbank.stop(await world.user(Role.TEAM_OWNER), registered.id)
    await world.programme.reconsider([registered.id])
    await world.tenancy.update_charge_point(
        SYSTEM, registered.id, registered.spec, site_id=world.sites["DK1"]
    )
    await world.tenancy.update_charge_point(
        SYSTEM, registered.id, registered.spec, site_id=world.sites["DK2"]
    )
    assert (await world.powerbank.status(SYSTEM, registered.id)).enrolment is None

    moved = await world.charge_point("DK1")
    assert (await world.powerbank.status(SYSTEM, moved.id)).enrolment is None
    await world.tenancy.update_charge_point(
        SYSTEM, moved.id, moved.spec, site_id=world.sites["DK2"]
    )
    assert (await world.powerbank.status(SYSTEM, moved.id)).enrolment is not None

    await world.tenancy.update_charge_point(
        SYSTEM, moved.id, moved.spec, site_id=world.sites["DE-LU"]
    )
    status = await world.powerbank.status(SYSTEM, moved.id)
    assert status.enrolment is None and status.opt_out is None
    (latest,) = (await world.powerbank.details(SYSTEM, moved.id)).history
    assert "site is in DE" in (latest.end_reason or "") and latest.ended_by == "powerbank"

    rezoned = await world.charge_point("DK1")
    site = SiteSpec("Site DK1", "DK", "DK2", "Europe/Copenhagen")
    await world.tenancy.update_site(SYSTEM, world.sites["DK1"], site)
    assert (await world.powerbank.status(SYSTEM, rezoned.id)).enrolment is not None


async def test_a_boot_that_reveals_a_compatible_charger_in_dk2_enrols_it(
    world: World, engine: AsyncEngine
) -> None:
    await _ready(world)
    unknown = await world.charge_point("DK2", brand="", model="")
    assert (await world.powerbank.status(SYSTEM, unknown.id)).enrolment is None
    # What the charging service does at BootNotification: store brand and model, then say so.
    async with SqlPowerBankUnitOfWork(session_factory(engine)) as uow:
        booted = replace(unknown.spec, brand="Easee", model="Charge", firmware_version="2.1")
        await uow.charge_points.update(unknown.id, unknown.site_id, booted)
        await uow.commit()
    at = datetime(2026, 11, 22, 10, tzinfo=UTC)
    world.live.mark_connected(unknown.id, unknown.spec.ocpp_identity, "1.6", at, [(1, 3)])
    world.live.set_boot_status(unknown.id, BootStatus.ACCEPTED)
    await world.programme.aclose()  # the look-up runs in a task of the programme's own
    enrolment = (await world.powerbank.status(SYSTEM, unknown.id)).enrolment
    assert enrolment is not None and enrolment.start.basis is EnrolmentBasis.AUTOMATIC


async def test_one_open_enrolment_per_charge_point_is_enforced_by_the_database(
    world: World, engine: AsyncEngine
) -> None:
    cp = await world.charge_point("GB")
    sessions = session_factory(engine)
    at = datetime(2026, 11, 22, tzinfo=UTC)
    start = EnrolmentStart(cp.id, EnrolmentBasis.SIGN_UP, at, None, "a", 1, at, None)
    async with SqlPowerBankUnitOfWork(sessions) as uow:
        await uow.powerbank.enrol(start)
        await uow.commit()
    async with SqlPowerBankUnitOfWork(sessions) as uow:
        with pytest.raises(Conflict):
            await uow.powerbank.enrol(start)


async def test_enrolled_by_bidding_zone_with_present_power(world: World) -> None:
    await _ready(world)
    online = await world.charge_point("DK2", connectors=2)
    offline = await world.charge_point("DK2")
    elsewhere = await world.charge_point("DK1")
    await world.powerbank.sign_up(SYSTEM, elsewhere.id, 1)
    at = datetime(2026, 11, 22, 10, tzinfo=UTC)
    world.live.mark_connected(online.id, "CP-1", "1.6", at, [(1, 3), (2, 3)])
    world.live.apply_reading(online.id, 1, MeterReading(at, power_w=7_000.0))
    world.live.apply_reading(online.id, 2, MeterReading(at, power_w=3_500.0))
    world.live.apply_reading(online.id, 0, MeterReading(at, power_w=99_000.0))  # whole charger

    found = await world.programme.enrolled_by_bidding_zone("dk2")
    assert [(e.charge_point_id, e.connector_ids, e.power_w) for e in found] == [
        (online.id, (1, 2), 10_500.0),
        (offline.id, (1,), None),
    ]
    assert found[0].measured_at == at and found[0].operator_id == world.operator_id
    assert [e.charge_point_id for e in await world.programme.enrolled_by_bidding_zone("DK1")] == [
        elsewhere.id
    ]
