"""Tables of the OCPP central system: what chargers reported, transactions, meter values.

Every natural key a retried message could repeat is a unique constraint, so a retry finds
its row instead of adding one: a 1.6 StartTransaction by its ``start_key``, a 2.0.1
TransactionEvent by (transaction, seqNo), a meter value by (charger, connector, timestamp,
context), a StopTransaction for an unknown id by (charger, id, timestamp) in the quarantine.

Transaction ids come from the database (SQLite AUTOINCREMENT, a PostgreSQL identity), so
they never repeat, not even after the newest transaction was deleted and the server
restarted. Rows of a charge point go with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from amphub.adapters.store.tables import Base, BigId

_CHARGE_POINT_FK = "charge_points.id"


class ChargePointStateRow(Base):
    """The charger's connection and what its last BootNotification said."""

    __tablename__ = "charge_point_states"
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"), primary_key=True
    )
    ocpp_version: Mapped[str | None] = mapped_column(String(10))
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    last_connected_at: Mapped[datetime | None]
    last_disconnected_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    boot_status: Mapped[str | None] = mapped_column(String(16))
    boot_at: Mapped[datetime | None]
    boot_reason: Mapped[str] = mapped_column(String(40), default="")
    vendor: Mapped[str] = mapped_column(String(50), default="")
    model: Mapped[str] = mapped_column(String(50), default="")
    serial_number: Mapped[str] = mapped_column(String(50), default="")
    firmware_version: Mapped[str] = mapped_column(String(50), default="")
    iccid: Mapped[str] = mapped_column(String(20), default="")
    imsi: Mapped[str] = mapped_column(String(20), default="")
    meter_type: Mapped[str] = mapped_column(String(25), default="")
    meter_serial_number: Mapped[str] = mapped_column(String(25), default="")


class ConnectorStatusRow(Base):
    """The newest status of each connector (0: the charger as a whole)."""

    __tablename__ = "connector_statuses"
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"), primary_key=True
    )
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str] = mapped_column(String(50), default="")
    info: Mapped[str] = mapped_column(String(50), default="")
    vendor_error_code: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime]
    received_at: Mapped[datetime]


class TransactionRow(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint(
            "charge_point_id", "ocpp_version", "transaction_ref", name="uq_transactions_ref"
        ),
        UniqueConstraint("charge_point_id", "start_key", name="uq_transactions_start_key"),
        Index("ix_transactions_id_tag_stopped_at", "id_tag", "stopped_at"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"), index=True
    )
    connector_id: Mapped[int] = mapped_column(Integer)
    ocpp_version: Mapped[str] = mapped_column(String(10))
    transaction_ref: Mapped[str | None] = mapped_column(String(64))
    """The id the charger uses: our id as text for 1.6, the charger's own for 2.0.1."""
    start_key: Mapped[str | None] = mapped_column(String(200))
    """1.6 only: what makes a retried StartTransaction the same one."""
    id_tag: Mapped[str | None] = mapped_column(String(36))
    id_tag_status: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    meter_start_wh: Mapped[float | None] = mapped_column(Float)
    meter_stop_wh: Mapped[float | None] = mapped_column(Float)
    stop_reason: Mapped[str] = mapped_column(String(40), default="")
    stop_id_tag: Mapped[str | None] = mapped_column(String(36))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """2.0.1: the order-free fold of the events (see amphub.domain.charging.merge_event)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TransactionEventRow(Base):
    """A 2.0.1 TransactionEvent; (transaction, seqNo) is the deduplication key."""

    __tablename__ = "transaction_events"
    __table_args__ = (UniqueConstraint("transaction_id", "seq_no"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    trigger_reason: Mapped[str] = mapped_column(String(40))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    charging_state: Mapped[str | None] = mapped_column(String(20))
    id_tag: Mapped[str | None] = mapped_column(String(36))
    energy_wh: Mapped[float | None] = mapped_column(Float)
    stopped_reason: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[datetime]


class MeterValueRow(Base):
    """One timestamp of one connector, in base units; per-phase currents are on the
    charger's phases."""

    __tablename__ = "meter_values"
    __table_args__ = (
        UniqueConstraint("charge_point_id", "connector_id", "at", "context"),
        Index("ix_meter_values_transaction_id_at", "transaction_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_point_id: Mapped[int] = mapped_column(ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL")
    )
    at: Mapped[datetime]
    context: Mapped[str] = mapped_column(String(60), default="")
    current_l1_a: Mapped[float | None] = mapped_column(Float)
    current_l2_a: Mapped[float | None] = mapped_column(Float)
    current_l3_a: Mapped[float | None] = mapped_column(Float)
    current_unphased_a: Mapped[float | None] = mapped_column(Float)
    offered_a: Mapped[float | None] = mapped_column(Float)
    power_w: Mapped[float | None] = mapped_column(Float)
    energy_wh: Mapped[float | None] = mapped_column(Float)
    voltage_v: Mapped[float | None] = mapped_column(Float)
    soc_percent: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime]


class TransactionQuarantineRow(Base):
    """A StopTransaction for a transaction amphub does not know, kept for reconciliation."""

    __tablename__ = "transaction_quarantine"
    __table_args__ = (UniqueConstraint("charge_point_id", "transaction_ref", "stopped_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_point_id: Mapped[int] = mapped_column(ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"))
    transaction_ref: Mapped[str] = mapped_column(String(64))
    stopped_at: Mapped[datetime]
    meter_stop_wh: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(40), default="")
    id_tag: Mapped[str | None] = mapped_column(String(36))
    received_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")


class IdTagRow(Base):
    """A team's allow list of id tags (RFID cards, app tokens), upper-cased."""

    __tablename__ = "id_tags"
    __table_args__ = (UniqueConstraint("team_id", "id_tag"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    id_tag: Mapped[str] = mapped_column(String(36))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None]
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]


class SecurityEventRow(Base):
    __tablename__ = "security_events"
    __table_args__ = (UniqueConstraint("charge_point_id", "kind", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_point_id: Mapped[int] = mapped_column(ForeignKey(_CHARGE_POINT_FK, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime]
    tech_info: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
