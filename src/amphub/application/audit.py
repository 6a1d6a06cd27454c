"""Writing the audit log: one entry per change, inside the change's own unit of work."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from amphub.application.access import Actor
from amphub.application.uow import AuditEntry, UnitOfWork
from amphub.domain.roles import Scope


def snapshot(value: Any) -> dict[str, Any]:
    """A JSON-friendly picture of a domain value (dataclass or mapping) for the audit log."""
    raw = asdict(value) if is_dataclass(value) and not isinstance(value, type) else dict(value)
    return {key: _plain(item) for key, item in raw.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def record_change(
    uow: UnitOfWork,
    at: datetime,
    actor: Actor,
    *,
    scope: Scope | None,
    action: str,
    object_type: str,
    object_id: object,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    await uow.audit.record(
        AuditEntry(
            at=at,
            user_id=actor.user_id,
            actor=actor.name,
            operator_id=scope.operator_id if scope else None,
            team_id=scope.team_id if scope else None,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            old_value=old,
            new_value=new,
        )
    )
