"""The sign-up of one charge point, exhaustively: role × country × compatibility × Facility ID.

The expected outcome is written out here from the seed and SPEC §6, independently of the
rules in amphub.domain.powerbank: who may act (Operator Admin, Operator Manager, Team Owner,
Team Admin with "configure charge points"), where (DK, SE, GB, IE), what (on the list, with
its firmware in range), and in Sweden a Facility ID of 18 digits beginning 735999.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.powerbank.compatibility import CompatibilityRule
from amphub.domain.powerbank.eligibility import ChargePointFacts, Problem, may_manage
from amphub.domain.powerbank.enrolment import (
    FacilityIdsRequired,
    SignUpRequest,
    plan_sign_up,
)
from amphub.domain.roles import Membership, Role, Scope

OPERATOR, TEAM, CP = 1, 10, 100

ROLES: dict[str, Membership | None] = {
    "operator admin": Membership(7, OPERATOR, None, Role.OPERATOR_ADMIN),
    "operator manager": Membership(7, OPERATOR, None, Role.OPERATOR_MANAGER),
    "team owner": Membership(7, OPERATOR, TEAM, Role.TEAM_OWNER),
    "team admin + configure": Membership(7, OPERATOR, TEAM, Role.TEAM_ADMIN, True),
    "team admin": Membership(7, OPERATOR, TEAM, Role.TEAM_ADMIN),
    "team member": Membership(7, OPERATOR, TEAM, Role.TEAM_MEMBER),
    "owner of another team": Membership(7, OPERATOR, TEAM + 1, Role.TEAM_OWNER),
    "admin of another operator": Membership(7, OPERATOR + 1, None, Role.OPERATOR_ADMIN),
    "nobody": None,
}
MAY_ACT = {"operator admin", "operator manager", "team owner", "team admin + configure"}

COUNTRIES = ("DK", "SE", "GB", "IE", "DE", "NO", "FI", "US")
PROGRAMME = {"DK", "SE", "GB", "IE"}

RULES = (
    CompatibilityRule("Easee", "Charge"),
    CompatibilityRule("Zaptec", "Go", firmware_min="2.0", firmware_below="3.0"),
    CompatibilityRule("Zaptec", "Go", firmware_min="4.1"),
)
# name: (brand, model, firmware, compatible?)
CHARGERS = {
    "listed, any firmware": ("Easee", "Charge", "", True),
    "listed, other spelling": ("EASEE", " charge ", "9", True),
    "firmware in the first range": ("Zaptec", "Go", "2.10.3", True),
    "firmware at a lower bound": ("Zaptec", "Go", "v4.1.0", True),
    "firmware between ranges": ("Zaptec", "Go", "3.0", False),
    "firmware below every range": ("Zaptec", "Go", "1.9.9", False),
    "firmware unknown": ("Zaptec", "Go", "", False),
    "firmware not a version": ("Zaptec", "Go", "beta", False),
    "model not listed": ("Easee", "Home", "1.0", False),
    "brand not reported yet": ("", "", "", False),
}


@dataclass(frozen=True)
class Fid:
    text: str | None
    typed: bool  # typed into the form (else: stored earlier)
    valid: bool


FACILITY_IDS = {
    "none": Fid(None, False, False),
    "stored valid": Fid("735999000000000001", False, True),
    "typed valid": Fid("735999123456789012", True, True),
    "typed with spaces": Fid(" 735999 123 456 789 012 ", True, True),
    "typed 17 digits": Fid("73599912345678901", True, False),
    "typed 19 digits": Fid("7359991234567890123", True, False),
    "typed wrong prefix": Fid("735998123456789012", True, False),
    "typed letters": Fid("735999ABC456789012", True, False),
    "typed empty": Fid("", True, False),
}


def expected(role: str, country: str, charger: str, fid: Fid) -> object:
    if role not in MAY_ACT:
        return "forbidden"
    if fid.typed and country != "SE":
        return "refused: only Swedish charge points have a Facility ID"
    if country == "SE" and not fid.valid:
        return "refused: Facility ID"
    problems = set()
    if country not in PROGRAMME:
        problems.add(Problem.COUNTRY)
    if not CHARGERS[charger][3]:
        problems.add(Problem.INCOMPATIBLE)
    return frozenset(problems) if problems else "enrolled"


def actual(role: str, country: str, charger: str, fid: Fid) -> object:
    membership = ROLES[role]
    if not may_manage([membership] if membership else [], Scope(OPERATOR, TEAM)):
        return "forbidden"
    brand, model, firmware, _ = CHARGERS[charger]
    facts = ChargePointFacts(
        charge_point_id=CP,
        label="CP-1",
        country=country,
        bidding_zone="X",
        brand=brand,
        model=model,
        firmware_version=firmware,
        facility_id=fid.text if not fid.typed else None,
    )
    typed = {CP: fid.text} if fid.typed and fid.text is not None else {}
    request = SignUpRequest(selected=(CP,), facility_ids=typed)
    try:
        plan = plan_sign_up(request, [facts], RULES)
    except FacilityIdsRequired as refusal:
        named = [m.charge_point_id for m in refusal.missing] == [CP] and "CP-1" in refusal.message
        return "refused: Facility ID" if named else f"refused without naming CP-1: {refusal}"
    except InvalidValue as refusal:
        return f"refused: {refusal.message.split(': ', 1)[1]}"
    if plan.enrol:
        assert [item.charge_point_id for item in plan.enrol] == [CP]
        if country == "SE":
            assert plan.enrol[0].facility_id == "".join((fid.text or "").split())
        return "enrolled"
    (item,) = plan.not_enrolled
    return frozenset(reason.problem for reason in item.reasons)


CASES = list(itertools.product(ROLES, COUNTRIES, CHARGERS, FACILITY_IDS))


def test_the_table_is_complete() -> None:
    assert len(CASES) == 9 * 8 * 10 * 9


# One test per country and charger, each checking every role × Facility ID (a test per cell
# would spend most of its time in pytest, not in the rules).
@pytest.mark.parametrize(("country", "charger"), list(itertools.product(COUNTRIES, CHARGERS)))
def test_sign_up(country: str, charger: str) -> None:
    wrong = [
        f"{role} / {fid}: got {got}, expected {want}"
        for role, fid in itertools.product(ROLES, FACILITY_IDS)
        if (got := actual(role, country, charger, FACILITY_IDS[fid]))
        != (want := expected(role, country, charger, FACILITY_IDS[fid]))
    ]
    assert not wrong, "\n".join(wrong)
