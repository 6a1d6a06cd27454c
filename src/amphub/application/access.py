"""Who is asking, and the two checks every use case makes on the object it touches."""

from __future__ import annotations

from dataclasses import dataclass

from amphub.application.uow import Visibility
from amphub.domain.errors import Forbidden, NotFound
from amphub.domain.roles import Action, Membership, Scope, can_see, is_allowed


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated user with the memberships loaded for this request, or the system
    (the CLI run by whoever operates the server; it may do anything and is audited as such)."""

    user_id: int | None
    name: str
    memberships: tuple[Membership, ...] = ()
    is_system: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, name=name, is_system=True)

    def operator_ids(self) -> list[int]:
        return sorted({membership.operator_id for membership in self.memberships})

    def visibility(self) -> Visibility:
        if self.is_system:
            return Visibility(everything=True)
        return Visibility(
            operator_ids=tuple(
                sorted({m.operator_id for m in self.memberships if m.role.is_operator_level})
            ),
            team_ids=tuple(sorted({m.team_id for m in self.memberships if m.team_id is not None})),
        )

    def sees_whole_operator(self, operator_id: int) -> bool:
        return self.is_system or any(
            m.operator_id == operator_id and m.role.is_operator_level for m in self.memberships
        )


def require_visible(actor: Actor, scope: Scope, kind: str, ident: object) -> None:
    """An object the actor may not see does not exist for them (the API answers 404).

    The operator itself (a scope without a team) is known to every member of it, at any level.
    """
    if actor.is_system:
        return
    if scope.team_id is None and scope.operator_id in actor.operator_ids():
        return
    if not can_see(actor.memberships, scope):
        raise NotFound(kind, ident)


def require(actor: Actor, action: Action, scope: Scope, kind: str, ident: object) -> None:
    """404 if the actor cannot see the object, 403 if it can but may not do this."""
    if actor.is_system:
        return
    require_visible(actor, scope, kind, ident)
    if not is_allowed(actor.memberships, action, scope):
        raise Forbidden(f"your role does not allow '{action.value}' on this {kind}")
