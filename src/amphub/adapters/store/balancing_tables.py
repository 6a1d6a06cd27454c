"""Load balancing groups: settings, sub-groups (a tree), members, and recorded decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from amphub.adapters.store.tables import Base, BigId


class GroupRow(Base):
    __tablename__ = "lb_groups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(32), unique=True)
    total_a: Mapped[float] = mapped_column(Float)
    power_distribution: Mapped[str] = mapped_column(String(16))
    master_charge_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("charge_points.id", ondelete="SET NULL")
    )
    meter_id: Mapped[int | None] = mapped_column(
        ForeignKey("meters.id", ondelete="RESTRICT"), index=True
    )
    placement: Mapped[str] = mapped_column(String(32))
    dynamic_buffer_a: Mapped[float] = mapped_column(Float)
    fail_safe_a: Mapped[float] = mapped_column(Float)
    meter_timeout_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]


class SubGroupRow(Base):
    __tablename__ = "lb_subgroups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("lb_groups.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("lb_subgroups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    limit_a: Mapped[float] = mapped_column(Float)


class GroupMemberRow(Base):
    """A charge point in a group (all its connectors). The primary key makes "at most one
    group per charge point" a database fact, not only a check."""

    __tablename__ = "lb_group_members"
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("lb_groups.id", ondelete="CASCADE"), index=True
    )
    subgroup_id: Mapped[int | None] = mapped_column(
        ForeignKey("lb_subgroups.id", ondelete="SET NULL")
    )


class DecisionRow(Base):
    """One balancing decision: inputs, outputs and binding constraints, for charts and
    audit. Kept every cycle for 48 h, then one per minute (see docs/balancing.md)."""

    __tablename__ = "lb_decisions"
    __table_args__ = (Index("ix_lb_decisions_group_at", "group_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("lb_groups.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    fail_safe: Mapped[bool]
    available_l1_a: Mapped[float] = mapped_column(Float)
    available_l2_a: Mapped[float] = mapped_column(Float)
    available_l3_a: Mapped[float] = mapped_column(Float)
    building_l1_a: Mapped[float | None] = mapped_column(Float)
    building_l2_a: Mapped[float | None] = mapped_column(Float)
    building_l3_a: Mapped[float | None] = mapped_column(Float)
    charging_l1_a: Mapped[float] = mapped_column(Float)
    charging_l2_a: Mapped[float] = mapped_column(Float)
    charging_l3_a: Mapped[float] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
