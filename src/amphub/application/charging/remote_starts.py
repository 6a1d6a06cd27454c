"""Id tags amphub itself asked a charger to start with (RemoteStart / RequestStart).

The charger answers such a start with a StartTransaction or TransactionEvent carrying the
tag; amphub authorised it already, so the tag is accepted for that charger for a short
while even if it is not on the team's allow list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from amphub.domain.charging import normalise_id_tag


class RemoteStarts:
    def __init__(self, validity: timedelta = timedelta(minutes=2)) -> None:
        self._validity = validity
        self._until: dict[tuple[int, str], datetime] = {}

    def remember(self, charge_point_id: int, id_tag: str, now: datetime) -> None:
        self._forget_expired(now)
        self._until[(charge_point_id, normalise_id_tag(id_tag))] = now + self._validity

    def is_pending(self, charge_point_id: int, id_tag: str, now: datetime) -> bool:
        until = self._until.get((charge_point_id, normalise_id_tag(id_tag)))
        return until is not None and now < until

    def _forget_expired(self, now: datetime) -> None:
        for key in [key for key, until in self._until.items() if until <= now]:
            del self._until[key]
