"""Who may join where: programme countries, Swedish Facility IDs, compatibility; and who
may sign charge points up or stop them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from amphub.domain.errors import InvalidValue
from amphub.domain.powerbank.compatibility import (
    Compatibility,
    CompatibilityRule,
    check_compatibility,
)
from amphub.domain.roles import Action, Membership, Scope, is_allowed

PROGRAMME_COUNTRIES: frozenset[str] = frozenset({"DK", "SE", "GB", "IE"})
"""Where PowerBank runs: Denmark, Sweden, the UK and Ireland (seed 001)."""

AUTO_ENROL_ZONES: frozenset[str] = frozenset({"DK2"})
"""Bidding zones whose charge points are enrolled without being asked (Denmark East)."""

FACILITY_ID_COUNTRY = "SE"
FACILITY_ID_PREFIX = "735999"
FACILITY_ID_DIGITS = 18

MANAGE_REFUSAL = (
    "only an Operator Admin, an Operator Manager, a Team Owner, or a Team Admin with the "
    "'configure charge points' permission may sign charge points up for PowerBank or stop "
    "their participation"
)

# -- who ------------------------------------------------------------------------------------


def may_manage(memberships: Iterable[Membership], scope: Scope) -> bool:
    """May these memberships sign up, or stop, a charge point in ``scope``?"""
    return is_allowed(memberships, Action.MANAGE_POWERBANK, scope)


# -- Facility ID (Sweden) --------------------------------------------------------------------


def facility_id_problem(text: str) -> str | None:
    """Why ``text`` is not a Swedish Facility ID (anläggnings-ID: 18 digits beginning
    735999), or None if it is one. Spaces between digit groups are allowed."""
    compact = "".join(text.split())
    if not compact:
        return "the Facility ID is empty"
    if not re.fullmatch(r"[0-9]+", compact):
        return f"{text.strip()!r} is not a Facility ID: it may hold only the digits 0-9"
    faults = []
    if len(compact) != FACILITY_ID_DIGITS:
        faults.append(f"it has {len(compact)} digits instead of {FACILITY_ID_DIGITS}")
    if not compact.startswith(FACILITY_ID_PREFIX):
        faults.append(f"it does not begin with {FACILITY_ID_PREFIX}")
    if faults:
        return (
            f"{text.strip()!r} is not a Swedish Facility ID: {' and '.join(faults)} "
            f"(a Facility ID is {FACILITY_ID_DIGITS} digits beginning {FACILITY_ID_PREFIX})"
        )
    return None


def validate_facility_id(text: str) -> str:
    """The Facility ID without spaces, or :class:`InvalidValue` saying what is wrong."""
    problem = facility_id_problem(text)
    if problem is not None:
        raise InvalidValue("facility_id", problem)
    return "".join(text.split())


# -- eligibility ------------------------------------------------------------------------------


class Problem(StrEnum):
    COUNTRY = "country"
    INCOMPATIBLE = "incompatible"
    FACILITY_ID_MISSING = "facility_id_missing"
    FACILITY_ID_INVALID = "facility_id_invalid"


FACILITY_ID_PROBLEMS = frozenset({Problem.FACILITY_ID_MISSING, Problem.FACILITY_ID_INVALID})


@dataclass(frozen=True, slots=True)
class Reason:
    problem: Problem
    message: str


@dataclass(frozen=True, slots=True)
class ChargePointFacts:
    """What the rules need to know of one charge point; ``label`` names it in messages."""

    charge_point_id: int
    label: str
    country: str
    bidding_zone: str
    brand: str
    model: str
    firmware_version: str
    facility_id: str | None = None
    """The stored Facility ID, if any."""
    enrolled: bool = False
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class Eligibility:
    compatibility: Compatibility
    reasons: tuple[Reason, ...]

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def has(self, problems: frozenset[Problem]) -> bool:
        return any(reason.problem in problems for reason in self.reasons)


def needs_facility_id(facts: ChargePointFacts) -> bool:
    return facts.country == FACILITY_ID_COUNTRY


def assess(
    facts: ChargePointFacts, rules: Iterable[CompatibilityRule], facility_id: str | None = None
) -> Eligibility:
    """Every reason the charge point may not join now; ``facility_id`` (typed in the
    sign-up form) takes the place of the stored one."""
    reasons: list[Reason] = []
    if facts.country not in PROGRAMME_COUNTRIES:
        reasons.append(
            Reason(
                Problem.COUNTRY,
                f"PowerBank runs in Denmark, Sweden, the UK and Ireland; "
                f"{facts.label}'s site is in {facts.country}",
            )
        )
    compatibility = check_compatibility(facts.brand, facts.model, facts.firmware_version, rules)
    if not compatibility.compatible:
        reasons.append(Reason(Problem.INCOMPATIBLE, compatibility.reason))
    if needs_facility_id(facts):
        given = facility_id if facility_id is not None else facts.facility_id
        if given is None or not given.strip():
            reasons.append(
                Reason(
                    Problem.FACILITY_ID_MISSING,
                    f"{facts.label} is in Sweden and needs a Facility ID "
                    f"({FACILITY_ID_DIGITS} digits beginning {FACILITY_ID_PREFIX}) first",
                )
            )
        elif (problem := facility_id_problem(given)) is not None:
            reasons.append(Reason(Problem.FACILITY_ID_INVALID, f"{facts.label}: {problem}"))
    return Eligibility(compatibility, tuple(reasons))
