"""The permission table, exhaustively: role × configure flag × action × scope relation.

The expected table is written out by hand here, independently of amphub.domain.roles.GRANTS,
so a change to the rules has to be made twice, on purpose.
"""

from __future__ import annotations

import itertools

import pytest

from amphub.domain.errors import InvalidValue
from amphub.domain.roles import Action, Membership, Role, Scope, can_see, is_allowed, may_grant

OPERATOR, OTHER_OPERATOR, TEAM, SIBLING_TEAM = 1, 2, 10, 11

# Columns, in this order:
COLUMNS = (
    Action.VIEW,
    Action.MANAGE_OPERATOR,
    Action.MANAGE_OPERATOR_MEMBERS,
    Action.MANAGE_TEAMS,
    Action.MANAGE_TEAM_MEMBERS,
    Action.MANAGE_SITES,
    Action.CONFIGURE_CHARGE_POINTS,
    Action.OPERATE_CHARGE_POINTS,
    Action.MANAGE_POWERBANK,
)
# What each role may do inside its own scope (operator-level roles: anywhere in the operator;
# team roles: in their team). Y = allowed.
#                                          VIEW OP  OPM TMS TMM SIT CFG OPR PB
TABLE = {
    (Role.OPERATOR_ADMIN, False):   "Y    Y   Y   Y   Y   Y   Y   Y   Y",
    (Role.OPERATOR_MANAGER, False): "Y    .   .   Y   Y   Y   Y   Y   Y",
    (Role.TEAM_OWNER, False):       "Y    .   .   .   Y   Y   Y   Y   Y",
    (Role.TEAM_ADMIN, True):        "Y    .   .   .   .   Y   Y   Y   Y",
    (Role.TEAM_ADMIN, False):       "Y    .   .   .   .   .   .   Y   .",
    (Role.TEAM_MEMBER, False):      "Y    .   .   .   .   .   .   .   .",
}  # fmt: skip

SCOPES = {
    "operator-wide": Scope(OPERATOR, None),
    "own team": Scope(OPERATOR, TEAM),
    "sibling team": Scope(OPERATOR, SIBLING_TEAM),
    "foreign operator": Scope(OTHER_OPERATOR, TEAM),
    "foreign operator-wide": Scope(OTHER_OPERATOR, None),
}


def expected(role: Role, configure: bool, action: Action, where: str) -> bool:
    allowed_here = TABLE[(role, configure)].split()[COLUMNS.index(action)] == "Y"
    if where.startswith("foreign"):
        return False
    if role.is_operator_level:
        return allowed_here
    # Team roles reach their own team only, never the operator-wide scope.
    return where == "own team" and allowed_here


def membership(role: Role, configure: bool) -> Membership:
    team = None if role.is_operator_level else TEAM
    return Membership(7, OPERATOR, team, role, configure)


CASES = [
    (role, configure, action, where)
    for (role, configure), action, where in itertools.product(TABLE, COLUMNS, SCOPES)
]


def test_the_table_covers_every_role_and_action() -> None:
    assert {role for role, _ in TABLE} == set(Role)
    assert set(COLUMNS) == set(Action)
    assert len(CASES) == 6 * 9 * 5


@pytest.mark.parametrize(("role", "configure", "action", "where"), CASES)
def test_permission(role: Role, configure: bool, action: Action, where: str) -> None:
    allowed = is_allowed([membership(role, configure)], action, SCOPES[where])
    assert allowed is expected(role, configure, action, where)


def test_no_membership_allows_nothing() -> None:
    for action, scope in itertools.product(Action, SCOPES.values()):
        assert not is_allowed([], action, scope)


def test_a_second_membership_adds_rights_elsewhere_only() -> None:
    member_here = Membership(7, OPERATOR, TEAM, Role.TEAM_MEMBER)
    owner_there = Membership(7, OPERATOR, SIBLING_TEAM, Role.TEAM_OWNER)
    both = [member_here, owner_there]
    assert is_allowed(both, Action.MANAGE_SITES, Scope(OPERATOR, SIBLING_TEAM))
    assert not is_allowed(both, Action.MANAGE_SITES, Scope(OPERATOR, TEAM))
    assert can_see(both, Scope(OPERATOR, TEAM))


@pytest.mark.parametrize(
    ("granter", "role", "scope", "allowed"),
    [
        (Role.OPERATOR_ADMIN, Role.OPERATOR_ADMIN, Scope(OPERATOR), True),
        (Role.OPERATOR_ADMIN, Role.TEAM_MEMBER, Scope(OPERATOR, TEAM), True),
        (Role.OPERATOR_MANAGER, Role.OPERATOR_ADMIN, Scope(OPERATOR), False),
        (Role.OPERATOR_MANAGER, Role.OPERATOR_MANAGER, Scope(OPERATOR), False),
        (Role.OPERATOR_MANAGER, Role.TEAM_OWNER, Scope(OPERATOR, TEAM), True),
        (Role.TEAM_OWNER, Role.TEAM_ADMIN, Scope(OPERATOR, TEAM), True),
        (Role.TEAM_OWNER, Role.TEAM_ADMIN, Scope(OPERATOR, SIBLING_TEAM), False),
        (Role.TEAM_OWNER, Role.OPERATOR_MANAGER, Scope(OPERATOR), False),
        (Role.TEAM_ADMIN, Role.TEAM_MEMBER, Scope(OPERATOR, TEAM), False),
        (Role.TEAM_MEMBER, Role.TEAM_MEMBER, Scope(OPERATOR, TEAM), False),
    ],
)
def test_who_may_grant(granter: Role, role: Role, scope: Scope, allowed: bool) -> None:
    assert may_grant([membership(granter, False)], role, scope) is allowed


@pytest.mark.parametrize(
    ("role", "team_id", "configure", "field"),
    [
        (Role.OPERATOR_ADMIN, TEAM, False, "team_id"),
        (Role.TEAM_OWNER, None, False, "team_id"),
        (Role.TEAM_MEMBER, TEAM, True, "can_configure_charge_points"),
        (Role.OPERATOR_MANAGER, None, True, "can_configure_charge_points"),
    ],
)
def test_impossible_memberships_are_refused(
    role: Role, team_id: int | None, configure: bool, field: str
) -> None:
    with pytest.raises(InvalidValue) as raised:
        Membership(1, OPERATOR, team_id, role, configure)
    assert raised.value.field == field
