"""The PowerBank rules one by one: firmware versions, the compatibility list, Facility IDs,
bulk sign-up, stopping, the DK2 rule, terms."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.domain.errors import Conflict, InvalidValue
from amphub.domain.powerbank.compatibility import (
    CompatibilityRule,
    check_compatibility,
    parse_version,
)
from amphub.domain.powerbank.eligibility import (
    ChargePointFacts,
    Problem,
    facility_id_problem,
    validate_facility_id,
)
from amphub.domain.powerbank.enrolment import (
    FacilityIdsRequired,
    PlacementAction,
    SignUpRequest,
    TermsVersion,
    after_placement,
    check_acceptance,
    plan_sign_up,
    plan_stop,
    validate_terms_text,
)

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
EASEE = CompatibilityRule("Easee", "Charge")
RULES = (EASEE,)


def facts(cp_id: int, country: str = "DK", **changes: object) -> ChargePointFacts:
    base = ChargePointFacts(
        charge_point_id=cp_id,
        label=f"CP-{cp_id}",
        country=country,
        bidding_zone={"DK": "DK1", "SE": "SE3", "GB": "GB", "IE": "IE", "DE": "DE-LU"}[country],
        brand="Easee",
        model="Charge",
        firmware_version="1.0",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- firmware versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("4.1.0", (4, 1)),
        ("4.1", (4, 1)),
        ("v4.10.2-rc1", (4, 10, 2)),
        ("EVB_1.10.5", (1, 10, 5)),
        ("3.3.0.36", (3, 3, 0, 36)),
        ("0", (0,)),
        ("0.0.0", (0,)),
        ("beta", None),
        ("", None),
    ],
)
def test_parse_version(text: str, parsed: tuple[int, ...] | None) -> None:
    assert parse_version(text) == parsed


@settings(max_examples=200)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=4),
    st.lists(st.integers(0, 300), min_size=1, max_size=4),
)
def test_versions_order_part_by_part_as_numbers(a: list[int], b: list[int]) -> None:
    def key(parts: list[int]) -> list[int]:
        padded = parts + [0] * (4 - len(parts))
        return padded

    left = parse_version(".".join(map(str, a)))
    right = parse_version(".".join(map(str, b)))
    assert left is not None and right is not None
    assert (left < right) == (key(a) < key(b))
    assert (left == right) == (key(a) == key(b))


# -- compatibility list ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"brand": " "}, "brand"),
        ({"model": ""}, "model"),
        ({"brand": "x" * 51}, "brand"),
        ({"firmware_min": "new"}, "firmware_min"),
        ({"firmware_below": "x"}, "firmware_below"),
        ({"firmware_min": "3.0", "firmware_below": "3.0.0"}, "firmware_below"),
        ({"firmware_min": "3.1", "firmware_below": "3.0"}, "firmware_below"),
    ],
)
def test_bad_rules_name_their_field(changes: dict[str, str], field: str) -> None:
    values = {"brand": "Zaptec", "model": "Go"} | changes
    with pytest.raises(InvalidValue) as raised:
        CompatibilityRule(**values)
    assert raised.value.field == field


def test_rule_values_are_normalised() -> None:
    rule = CompatibilityRule("  Zaptec ", "Go  Pro", firmware_min=" ", firmware_below=" 5.0 ")
    assert (rule.brand, rule.model, rule.firmware_min, rule.firmware_below) == (
        "Zaptec",
        "Go Pro",
        None,
        "5.0",
    )


@pytest.mark.parametrize(
    ("brand", "model", "firmware", "compatible", "words"),
    [
        ("", "Go", "1", False, "unknown until the charger reports them"),
        ("Wallbox", "Pulsar", "1", False, "Wallbox Pulsar is not on the PowerBank compatib"),
        ("zaptec", "GO", "2.5", True, "on the compatibility list"),
        ("Zaptec", "Go", "3.0.0", False, "outside the compatible versions (2.0 up to (not "),
        ("Zaptec", "Go", "", False, "this one's firmware is unknown"),
        ("Zaptec", "Go", "rc", False, "this one's firmware is 'rc'"),
        ("Zaptec", "Go", "4.1", True, "with firmware 4.1 is on"),
        ("Zaptec", "Go", "17", True, "on the compatibility list"),
    ],
)
def test_compatibility_says_why(
    brand: str, model: str, firmware: str, compatible: bool, words: str
) -> None:
    rules = [
        CompatibilityRule("Zaptec", "Go", firmware_min="2.0", firmware_below="3.0"),
        CompatibilityRule("Zaptec", "Go", firmware_min="4.1"),
    ]
    result = check_compatibility(brand, model, firmware, rules)
    assert result.compatible is compatible
    assert words in result.reason


# -- Facility ID ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("735999123456789012", None),
        ("735999 123456 789012", None),
        ("", "empty"),
        ("735999-123456789012", "only the digits 0-9"),
        ("７３５９９９123456789012", "only the digits 0-9"),  # full-width digits are not 0-9
        ("73599912345678901", "17 digits instead of 18"),
        ("7359991234567890123", "19 digits instead of 18"),
        ("123456123456789012", "does not begin with 735999"),
        ("12345", "5 digits instead of 18 and it does not begin with 735999"),
    ],
)
def test_facility_id(text: str, words: str | None) -> None:
    problem = facility_id_problem(text)
    if words is None:
        assert problem is None
        assert validate_facility_id(text) == "".join(text.split())
    else:
        assert problem is not None and words in problem
        with pytest.raises(InvalidValue) as raised:
            validate_facility_id(text)
        assert raised.value.field == "facility_id"


# -- bulk sign-up -----------------------------------------------------------------------------

TEAM = (
    facts(1, "DK"),
    facts(2, "SE", facility_id="735999000000000002"),
    facts(3, "SE"),  # compatible, no Facility ID
    facts(4, "SE", brand="Wallbox", model="Pulsar"),  # incompatible, no Facility ID
    facts(5, "DE"),
    facts(6, "GB", enrolled=True),
    facts(7, "IE", opted_out=True),
    facts(8, "DK", brand=""),
)


def test_all_compatible_refuses_as_a_whole_naming_each_swede_without_id() -> None:
    team = (*TEAM, facts(9, "SE"))
    with pytest.raises(FacilityIdsRequired) as raised:
        plan_sign_up(SignUpRequest(all_compatible=True), team, RULES)
    assert [m.charge_point_id for m in raised.value.missing] == [3, 9]
    assert "CP-3" in raised.value.message and "CP-9" in raised.value.message
    assert "CP-4" not in raised.value.message  # incompatible: flagged, not demanded


def test_all_compatible_enrols_the_eligible_and_flags_every_other_one() -> None:
    plan = plan_sign_up(
        SignUpRequest(all_compatible=True, facility_ids={3: "735999 000000 000003"}), TEAM, RULES
    )
    assert [(e.charge_point_id, e.facility_id, e.withdraws_opt_out) for e in plan.enrol] == [
        (1, None, False),
        (2, "735999000000000002", False),
        (3, "735999000000000003", False),
        (7, None, True),
    ]
    assert plan.already_enrolled == (6,)
    flagged = {n.charge_point_id: {r.problem for r in n.reasons} for n in plan.not_enrolled}
    assert flagged == {
        4: {Problem.INCOMPATIBLE, Problem.FACILITY_ID_MISSING},
        5: {Problem.COUNTRY},
        8: {Problem.INCOMPATIBLE},
    }
    assert plan.facility_ids == ((3, "735999000000000003"),)


def test_a_selection_demands_an_id_of_every_selected_swede() -> None:
    with pytest.raises(FacilityIdsRequired) as raised:
        plan_sign_up(SignUpRequest(selected=(1, 3, 4)), TEAM, RULES)
    assert [m.charge_point_id for m in raised.value.missing] == [3, 4]
    assert "nothing was signed up" in raised.value.message


def test_a_selection_enrols_only_what_was_selected() -> None:
    plan = plan_sign_up(SignUpRequest(selected=(2, 5, 6)), TEAM, RULES)
    assert [e.charge_point_id for e in plan.enrol] == [2]
    assert [n.charge_point_id for n in plan.not_enrolled] == [5]
    assert plan.already_enrolled == (6,)


def test_an_invalid_typed_id_refuses_even_for_an_incompatible_charge_point() -> None:
    with pytest.raises(FacilityIdsRequired) as raised:
        typed = {3: "735999000000000003", 4: "42"}
        plan_sign_up(SignUpRequest(all_compatible=True, facility_ids=typed), TEAM, RULES)
    assert [m.charge_point_id for m in raised.value.missing] == [4]
    assert "2 digits instead of 18" in raised.value.message


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        (SignUpRequest(selected=(1, 99)), "charge_point_ids", "99 is not in this team"),
        (
            SignUpRequest(selected=(1,), facility_ids={2: "735999000000000002"}),
            "facility_ids",
            "not being signed up",
        ),
        (
            SignUpRequest(selected=(1,), facility_ids={1: "735999000000000002"}),
            "facility_ids",
            "only Swedish",
        ),
    ],
)
def test_bad_requests_name_their_field(request_: SignUpRequest, field: str, words: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        plan_sign_up(request_, TEAM, RULES)
    assert raised.value.field == field and words in raised.value.message


@pytest.mark.parametrize(
    "changes", [{}, {"all_compatible": True, "selected": (1,)}, {"selected": (1, 1)}]
)
def test_a_request_is_all_or_a_selection(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        SignUpRequest(**changes)  # type: ignore[arg-type]


# -- stop and the DK2 rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enrolled", "opted_out"), list(itertools.product((False, True), repeat=2))
)
def test_a_stop_ends_and_is_remembered(enrolled: bool, opted_out: bool) -> None:
    plan = plan_stop(facts(1, enrolled=enrolled, opted_out=opted_out))
    assert plan.end_enrolment is enrolled
    assert plan.record_opt_out is not opted_out


ZONES = {"DK2": "DK", "DK1": "DK", "SE3": "SE", "GB": "GB", "DE-LU": "DE"}


@pytest.mark.parametrize(
    ("zone", "enrolled", "opted_out", "compatible", "facility_id"),
    list(
        itertools.product(
            ZONES, (False, True), (False, True), (False, True), (None, "735999000000000001")
        )
    ),
)
def test_the_dk2_rule(
    zone: str, enrolled: bool, opted_out: bool, compatible: bool, facility_id: str | None
) -> None:
    country = ZONES[zone]
    subject = replace(
        facts(1, country),
        bidding_zone=zone,
        enrolled=enrolled,
        opted_out=opted_out,
        brand="Easee" if compatible else "Wallbox",
        facility_id=facility_id,
    )
    decision = after_placement(subject, RULES)
    if enrolled:
        leaves = country == "DE" or (country == "SE" and facility_id is None)
        assert decision.action is (PlacementAction.END if leaves else PlacementAction.NONE)
        if leaves:
            assert "CP-1" in decision.reason
    elif zone == "DK2" and not opted_out and compatible:
        assert decision.action is PlacementAction.ENROL
        assert decision.reason == "enrolled by the system under the programme's DK2 rules"
    else:
        assert decision.action is PlacementAction.NONE


# -- terms ---------------------------------------------------------------------------------------


def test_terms_acceptance() -> None:
    current = TermsVersion(1, 3, "text", NOW, "admin")
    assert check_acceptance(3, current) is current
    with pytest.raises(Conflict, match=r"version 3 .* is current"):
        check_acceptance(2, current)
    with pytest.raises(Conflict, match="no PowerBank terms"):
        check_acceptance(1, None)


def test_terms_text() -> None:
    assert validate_terms_text("  Terms.  ") == "Terms."
    for bad in ("", "   ", "x" * 100_001):
        with pytest.raises(InvalidValue):
            validate_terms_text(bad)
