"""Meters, their status history and their readings.

Retention (docs/meters.md): raw readings are kept 48 h; per-minute aggregates (mean, min and
max current per phase, last energy counters) are kept for 400 days, enough for a year-on-year
chart and a billing dispute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amphub.adapters.store.tables import Base, BigId


class MeterRow(Base):
    __tablename__ = "meters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    main_fuse_a: Mapped[float] = mapped_column(Float)
    transport: Mapped[str] = mapped_column(String(16))
    timeout_s: Mapped[float] = mapped_column(Float)
    frozen_after_n: Mapped[int | None] = mapped_column(Integer)
    transport_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    status_since: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MeterStatusEventRow(Base):
    __tablename__ = "meter_status_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class MeterReadingRow(Base):
    """Raw readings, as accepted (48 h)."""

    __tablename__ = "meter_readings"
    __table_args__ = (Index("ix_meter_readings_meter_measured", "meter_id", "measured_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    measured_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(index=True)
    l1_a: Mapped[float] = mapped_column(Float)
    l2_a: Mapped[float] = mapped_column(Float)
    l3_a: Mapped[float] = mapped_column(Float)
    l1_v: Mapped[float | None] = mapped_column(Float)
    l2_v: Mapped[float | None] = mapped_column(Float)
    l3_v: Mapped[float | None] = mapped_column(Float)
    power_w: Mapped[float | None] = mapped_column(Float)
    energy_import_wh: Mapped[float | None] = mapped_column(Float)
    energy_export_wh: Mapped[float | None] = mapped_column(Float)


class MeterMinuteRow(Base):
    """Per-minute aggregates (400 days). Sums and counts, so that late batches merge."""

    __tablename__ = "meter_minutes"
    meter_id: Mapped[int] = mapped_column(
        ForeignKey("meters.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    sum_l1_a: Mapped[float] = mapped_column(Float)
    sum_l2_a: Mapped[float] = mapped_column(Float)
    sum_l3_a: Mapped[float] = mapped_column(Float)
    min_l1_a: Mapped[float] = mapped_column(Float)
    min_l2_a: Mapped[float] = mapped_column(Float)
    min_l3_a: Mapped[float] = mapped_column(Float)
    max_l1_a: Mapped[float] = mapped_column(Float)
    max_l2_a: Mapped[float] = mapped_column(Float)
    max_l3_a: Mapped[float] = mapped_column(Float)
    energy_import_wh: Mapped[float | None] = mapped_column(Float)
    energy_export_wh: Mapped[float | None] = mapped_column(Float)
