"""meters and load balancing groups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 23:41:13.149758
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from amphub.adapters.store.tables import UtcDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("main_fuse_a", sa.Float(), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("frozen_after_n", sa.Integer(), nullable=True),
        sa.Column("transport_settings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_since", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_meters_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meters")),
        sa.UniqueConstraint("serial", name=op.f("uq_meters_serial")),
    )
    op.create_index(op.f("ix_meters_site_id"), "meters", ["site_id"], unique=False)
    op.create_table(
        "lb_groups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("identifier", sa.String(length=32), nullable=False),
        sa.Column("total_a", sa.Float(), nullable=False),
        sa.Column("power_distribution", sa.String(length=16), nullable=False),
        sa.Column(
            "master_charge_point_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("placement", sa.String(length=32), nullable=False),
        sa.Column("dynamic_buffer_a", sa.Float(), nullable=False),
        sa.Column("fail_safe_a", sa.Float(), nullable=False),
        sa.Column("meter_timeout_s", sa.Float(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["master_charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_lb_groups_master_charge_point_id_charge_points"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["meters.id"],
            name=op.f("fk_lb_groups_meter_id_meters"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_lb_groups_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lb_groups")),
        sa.UniqueConstraint("identifier", name=op.f("uq_lb_groups_identifier")),
    )
    op.create_index(op.f("ix_lb_groups_meter_id"), "lb_groups", ["meter_id"], unique=False)
    op.create_index(op.f("ix_lb_groups_site_id"), "lb_groups", ["site_id"], unique=False)
    op.create_table(
        "meter_minutes",
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("minute", UtcDateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("sum_l1_a", sa.Float(), nullable=False),
        sa.Column("sum_l2_a", sa.Float(), nullable=False),
        sa.Column("sum_l3_a", sa.Float(), nullable=False),
        sa.Column("min_l1_a", sa.Float(), nullable=False),
        sa.Column("min_l2_a", sa.Float(), nullable=False),
        sa.Column("min_l3_a", sa.Float(), nullable=False),
        sa.Column("max_l1_a", sa.Float(), nullable=False),
        sa.Column("max_l2_a", sa.Float(), nullable=False),
        sa.Column("max_l3_a", sa.Float(), nullable=False),
        sa.Column("energy_import_wh", sa.Float(), nullable=True),
        sa.Column("energy_export_wh", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["meters.id"],
            name=op.f("fk_meter_minutes_meter_id_meters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meter_id", "minute", name=op.f("pk_meter_minutes")),
    )
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measured_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("l1_a", sa.Float(), nullable=False),
        sa.Column("l2_a", sa.Float(), nullable=False),
        sa.Column("l3_a", sa.Float(), nullable=False),
        sa.Column("l1_v", sa.Float(), nullable=True),
        sa.Column("l2_v", sa.Float(), nullable=True),
        sa.Column("l3_v", sa.Float(), nullable=True),
        sa.Column("power_w", sa.Float(), nullable=True),
        sa.Column("energy_import_wh", sa.Float(), nullable=True),
        sa.Column("energy_export_wh", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["meters.id"],
            name=op.f("fk_meter_readings_meter_id_meters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_readings")),
    )
    op.create_index(
        "ix_meter_readings_meter_measured",
        "meter_readings",
        ["meter_id", "measured_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_meter_readings_received_at"), "meter_readings", ["received_at"], unique=False
    )
    op.create_table(
        "meter_status_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["meters.id"],
            name=op.f("fk_meter_status_events_meter_id_meters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_status_events")),
    )
    op.create_index(
        op.f("ix_meter_status_events_meter_id"), "meter_status_events", ["meter_id"], unique=False
    )
    op.create_table(
        "lb_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("fail_safe", sa.Boolean(), nullable=False),
        sa.Column("available_l1_a", sa.Float(), nullable=False),
        sa.Column("available_l2_a", sa.Float(), nullable=False),
        sa.Column("available_l3_a", sa.Float(), nullable=False),
        sa.Column("building_l1_a", sa.Float(), nullable=True),
        sa.Column("building_l2_a", sa.Float(), nullable=True),
        sa.Column("building_l3_a", sa.Float(), nullable=True),
        sa.Column("charging_l1_a", sa.Float(), nullable=False),
        sa.Column("charging_l2_a", sa.Float(), nullable=False),
        sa.Column("charging_l3_a", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["lb_groups.id"],
            name=op.f("fk_lb_decisions_group_id_lb_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lb_decisions")),
    )
    op.create_index("ix_lb_decisions_group_at", "lb_decisions", ["group_id", "at"], unique=False)
    op.create_table(
        "lb_subgroups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("limit_a", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["lb_groups.id"],
            name=op.f("fk_lb_subgroups_group_id_lb_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["lb_subgroups.id"],
            name=op.f("fk_lb_subgroups_parent_id_lb_subgroups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lb_subgroups")),
    )
    op.create_index(op.f("ix_lb_subgroups_group_id"), "lb_subgroups", ["group_id"], unique=False)
    op.create_table(
        "lb_group_members",
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subgroup_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_lb_group_members_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["lb_groups.id"],
            name=op.f("fk_lb_group_members_group_id_lb_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subgroup_id"],
            ["lb_subgroups.id"],
            name=op.f("fk_lb_group_members_subgroup_id_lb_subgroups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_lb_group_members")),
    )
    op.create_index(
        op.f("ix_lb_group_members_group_id"), "lb_group_members", ["group_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_lb_group_members_group_id"), table_name="lb_group_members")
    op.drop_table("lb_group_members")
    op.drop_index(op.f("ix_lb_subgroups_group_id"), table_name="lb_subgroups")
    op.drop_table("lb_subgroups")
    op.drop_index("ix_lb_decisions_group_at", table_name="lb_decisions")
    op.drop_table("lb_decisions")
    op.drop_index(op.f("ix_meter_status_events_meter_id"), table_name="meter_status_events")
    op.drop_table("meter_status_events")
    op.drop_index(op.f("ix_meter_readings_received_at"), table_name="meter_readings")
    op.drop_index("ix_meter_readings_meter_measured", table_name="meter_readings")
    op.drop_table("meter_readings")
    op.drop_table("meter_minutes")
    op.drop_index(op.f("ix_lb_groups_site_id"), table_name="lb_groups")
    op.drop_index(op.f("ix_lb_groups_meter_id"), table_name="lb_groups")
    op.drop_table("lb_groups")
    op.drop_index(op.f("ix_meters_site_id"), table_name="meters")
    op.drop_table("meters")
