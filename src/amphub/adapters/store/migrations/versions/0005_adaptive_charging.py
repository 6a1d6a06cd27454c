"""adaptive charging

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:14:49.510246
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from amphub.adapters.store.tables import UtcDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planning_prices",
        sa.Column("zone", sa.String(length=16), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("eur_per_mwh", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("fetched_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "start_at", name=op.f("pk_planning_prices")),
    )
    op.create_table(
        "planning_token_defaults",
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id_tag", sa.String(length=64), nullable=False),
        sa.Column("departure_minute", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_planning_token_defaults_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "id_tag", name=op.f("pk_planning_token_defaults")),
    )
    op.create_table(
        "planning_site_tariffs",
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("price_source", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("eur_rate", sa.Float(), nullable=False),
        sa.Column("vat_percent", sa.Float(), nullable=False),
        sa.Column("fixed_per_kwh", sa.Float(), nullable=False),
        sa.Column("grid_windows", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_planning_site_tariffs_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_planning_site_tariffs")),
    )
    op.create_table(
        "planning_charge_point_defaults",
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("departure_minute", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_planning_charge_point_defaults_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_planning_charge_point_defaults")),
    )
    op.create_table(
        "planning_schedules",
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_planning_schedules_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_planning_schedules")),
    )
    op.create_table(
        "planning_session_needs",
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("departure_at", UtcDateTime(), nullable=True),
        sa.Column("energy_wh", sa.Float(), nullable=True),
        sa.Column("charge_now", sa.Boolean(), nullable=False),
        sa.Column("set_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_planning_session_needs_transaction_id_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_planning_session_needs")),
    )


def downgrade() -> None:
    op.drop_table("planning_session_needs")
    op.drop_table("planning_schedules")
    op.drop_table("planning_charge_point_defaults")
    op.drop_table("planning_site_tariffs")
    op.drop_table("planning_token_defaults")
    op.drop_table("planning_prices")
