"""Balancing decisions in SQL: for the live chart, history and audit.

Retention: 30 days (docs/balancing.md). The controller already thins what it sends (on
change, else at most every 10 s); ``history`` thins further to the points a chart can show.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amphub.adapters.store.balancing_tables import DecisionRow
from amphub.application.balancing.ports import DecisionRecord
from amphub.domain.balancing.decision import Binding, ConnectorDecision
from amphub.domain.balancing.model import ConnectorKey
from amphub.domain.units import Phase, PhaseCurrents

RETENTION = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)


def _detail(decisions: dict[ConnectorKey, ConnectorDecision]) -> dict[str, Any]:
    return {
        str(key): {
            "limit_a": d.limit_a,
            "binding": d.binding.value,
            "node_id": d.node_id,
            "phase": None if d.phase is None else int(d.phase),
            "detail": d.detail,
        }
        for key, d in decisions.items()
    }


def _decisions(detail: dict[str, Any]) -> dict[ConnectorKey, ConnectorDecision]:
    found: dict[ConnectorKey, ConnectorDecision] = {}
    for text, d in detail.items():
        charge_point_id, _, connector_id = text.rpartition("/")
        found[ConnectorKey(charge_point_id, int(connector_id))] = ConnectorDecision(
            d["limit_a"],
            Binding(d["binding"]),
            d["node_id"],
            None if d["phase"] is None else Phase(d["phase"]),
            d["detail"],
        )
    return found


class SqlDecisionRecorder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._last_prune: datetime | None = None

    async def record(self, record: DecisionRecord) -> None:
        building = record.building_load
        async with self._sessions() as session, session.begin():
            session.add(
                DecisionRow(
                    group_id=record.group_id,
                    at=record.at,
                    fail_safe=record.fail_safe,
                    available_l1_a=record.available.l1_a,
                    available_l2_a=record.available.l2_a,
                    available_l3_a=record.available.l3_a,
                    building_l1_a=None if building is None else building.l1_a,
                    building_l2_a=None if building is None else building.l2_a,
                    building_l3_a=None if building is None else building.l3_a,
                    charging_l1_a=record.charging.l1_a,
                    charging_l2_a=record.charging.l2_a,
                    charging_l3_a=record.charging.l3_a,
                    detail={
                        "delivered": list(record.delivered.as_tuple()),
                        "connectors": _detail(dict(record.decisions)),
                    },
                )
            )
            if self._last_prune is None or record.at - self._last_prune >= PRUNE_EVERY:
                await session.execute(
                    delete(DecisionRow).where(DecisionRow.at < record.at - RETENTION)
                )
                self._last_prune = record.at

    async def history(
        self, group_id: int, since: datetime, until: datetime, max_points: int
    ) -> Sequence[DecisionRecord]:
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(DecisionRow)
                    .where(
                        DecisionRow.group_id == group_id,
                        DecisionRow.at >= since,
                        DecisionRow.at <= until,
                    )
                    .order_by(DecisionRow.at)
                )
            )
        step = max(1, -(-len(rows) // max(max_points, 1)))
        return [_record(row) for row in rows[::step]]


def _record(row: DecisionRow) -> DecisionRecord:
    building = (
        None
        if row.building_l1_a is None
        else PhaseCurrents(row.building_l1_a, row.building_l2_a or 0.0, row.building_l3_a or 0.0)
    )
    return DecisionRecord(
        group_id=row.group_id,
        at=row.at,
        fail_safe=row.fail_safe,
        available=PhaseCurrents(row.available_l1_a, row.available_l2_a, row.available_l3_a),
        building_load=building,
        charging=PhaseCurrents(row.charging_l1_a, row.charging_l2_a, row.charging_l3_a),
        delivered=PhaseCurrents(*row.detail.get("delivered", (0.0, 0.0, 0.0))),
        decisions=_decisions(row.detail.get("connectors", {})),
    )
