"""Who may do what, where (SPEC §1, R-ROLE-1).

A user holds memberships. A membership is either at operator level (Operator Admin, Operator
Manager: it reaches every team of that operator) or at team level (Team Owner, Team Admin,
Team Member: that team only). A Team Admin may additionally hold the *configure charge
points* permission.

Every action is asked about a *scope*: the operator, and the team if the object belongs to
one. The rules are one table, :data:`GRANTS`, read by :func:`is_allowed`; entry points never
decide on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from amphub.domain.errors import InvalidValue


class Role(StrEnum):
    OPERATOR_ADMIN = "operator_admin"
    OPERATOR_MANAGER = "operator_manager"
    TEAM_OWNER = "team_owner"
    TEAM_ADMIN = "team_admin"
    TEAM_MEMBER = "team_member"

    @property
    def is_operator_level(self) -> bool:
        return self in (Role.OPERATOR_ADMIN, Role.OPERATOR_MANAGER)


class Action(StrEnum):
    VIEW = "view"
    """Read the objects in scope: sites, charge points, groups, meters, sessions, audit."""
    MANAGE_OPERATOR = "manage_operator"
    """Rename the operator, maintain operator-wide data (e.g. the PowerBank compatibility list)."""
    MANAGE_OPERATOR_MEMBERS = "manage_operator_members"
    """Grant or revoke operator-level roles."""
    MANAGE_TEAMS = "manage_teams"
    """Create, rename and delete teams."""
    MANAGE_TEAM_MEMBERS = "manage_team_members"
    """Grant or revoke team-level roles."""
    MANAGE_SITES = "manage_sites"
    """Create, edit and delete sites."""
    CONFIGURE_CHARGE_POINTS = "configure_charge_points"
    """Add, edit and remove charge points and connectors, load balancing groups and meters."""
    OPERATE_CHARGE_POINTS = "operate_charge_points"
    """Send commands: remote start/stop, reset, trigger message."""
    MANAGE_POWERBANK = "manage_powerbank"
    """Sign charge points up for PowerBank, or stop their participation."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an action applies: an operator, and one of its teams unless operator-wide."""

    operator_id: int
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    user_id: int
    operator_id: int
    team_id: int | None
    role: Role
    can_configure_charge_points: bool = False

    def __post_init__(self) -> None:
        if self.role.is_operator_level and self.team_id is not None:
            raise InvalidValue("team_id", f"{self.role.value} is an operator-level role")
        if not self.role.is_operator_level and self.team_id is None:
            raise InvalidValue("team_id", f"{self.role.value} needs a team")
        if self.can_configure_charge_points and self.role is not Role.TEAM_ADMIN:
            raise InvalidValue(
                "can_configure_charge_points",
                "only a Team Admin holds this as a separate permission",
            )

    def covers(self, scope: Scope) -> bool:
        """Does this membership reach the scope at all?"""
        if self.operator_id != scope.operator_id:
            return False
        if self.role.is_operator_level:
            return True
        return scope.team_id is not None and scope.team_id == self.team_id


_TEAM_CONFIGURE: frozenset[Action] = frozenset(
    {
        Action.VIEW,
        Action.MANAGE_SITES,
        Action.CONFIGURE_CHARGE_POINTS,
        Action.OPERATE_CHARGE_POINTS,
        Action.MANAGE_POWERBANK,
    }
)

# (role, configure flag) -> actions it grants, wherever the membership covers the scope.
GRANTS: dict[tuple[Role, bool], frozenset[Action]] = {
    (Role.OPERATOR_ADMIN, False): frozenset(Action),
    (Role.OPERATOR_MANAGER, False): frozenset(Action)
    - {Action.MANAGE_OPERATOR, Action.MANAGE_OPERATOR_MEMBERS},
    (Role.TEAM_OWNER, False): _TEAM_CONFIGURE | {Action.MANAGE_TEAM_MEMBERS},
    (Role.TEAM_ADMIN, True): _TEAM_CONFIGURE,
    (Role.TEAM_ADMIN, False): frozenset({Action.VIEW, Action.OPERATE_CHARGE_POINTS}),
    (Role.TEAM_MEMBER, False): frozenset({Action.VIEW}),
}

# Actions that only make sense at operator level: a team-level role never gets them, even
# though its team lies inside the operator.
OPERATOR_WIDE_ACTIONS: frozenset[Action] = frozenset(
    {Action.MANAGE_OPERATOR, Action.MANAGE_OPERATOR_MEMBERS, Action.MANAGE_TEAMS}
)


def actions_of(membership: Membership) -> frozenset[Action]:
    return GRANTS[(membership.role, membership.can_configure_charge_points)]


def is_allowed(memberships: Iterable[Membership], action: Action, scope: Scope) -> bool:
    """True when one of the memberships grants ``action`` on ``scope``."""
    for membership in memberships:
        if not membership.covers(scope):
            continue
        if action in OPERATOR_WIDE_ACTIONS and not membership.role.is_operator_level:
            continue
        if action in actions_of(membership):
            return True
    return False


def can_see(memberships: Iterable[Membership], scope: Scope) -> bool:
    """Whether the object exists for this user at all (if not, the API answers 404)."""
    return is_allowed(memberships, Action.VIEW, scope)


def may_grant(memberships: Iterable[Membership], role: Role, scope: Scope) -> bool:
    """Whether a user may grant ``role`` on ``scope``: operator roles need operator-member
    rights, team roles need team-member rights on that team."""
    if role.is_operator_level:
        return is_allowed(memberships, Action.MANAGE_OPERATOR_MEMBERS, Scope(scope.operator_id))
    return scope.team_id is not None and is_allowed(memberships, Action.MANAGE_TEAM_MEMBERS, scope)
