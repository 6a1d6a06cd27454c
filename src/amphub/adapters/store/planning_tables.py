"""Adaptive charging: weekly schedules, site tariffs, need defaults (per charge point, per
id tag), needs set for a session, and the day-ahead price cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amphub.adapters.store.tables import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ScheduleRow(Base):
    __tablename__ = "planning_schedules"
    charge_point_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool]
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class SiteTariffRow(Base):
    __tablename__ = "planning_site_tariffs"
    site_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    price_source: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    eur_rate: Mapped[float] = mapped_column(Float)
    vat_percent: Mapped[float] = mapped_column(Float)
    fixed_per_kwh: Mapped[float] = mapped_column(Float)
    grid_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class ChargePointNeedDefaultRow(Base):
    __tablename__ = "planning_charge_point_defaults"
    charge_point_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    departure_minute: Mapped[int]
    energy_wh: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]


class TokenNeedDefaultRow(Base):
    """A driver's default, by the id tag their sessions start with (tags are upper-cased,
    as on the team's allow list)."""

    __tablename__ = "planning_token_defaults"
    team_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    id_tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    departure_minute: Mapped[int]
    energy_wh: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]


class SessionNeedRow(Base):
    __tablename__ = "planning_session_needs"
    transaction_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    departure_at: Mapped[datetime | None]
    energy_wh: Mapped[float | None] = mapped_column(Float)
    charge_now: Mapped[bool]
    set_at: Mapped[datetime]


class PriceRow(Base):
    """The price cache: one day-ahead price per zone and delivery start (hourly or 15-min)."""

    __tablename__ = "planning_prices"
    zone: Mapped[str] = mapped_column(String(16), primary_key=True)
    start_at: Mapped[datetime] = mapped_column(primary_key=True)
    end_at: Mapped[datetime]
    eur_per_mwh: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[datetime]
