"""powerbank: compatibility list, terms versions, facility ids, opt-outs, enrolments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:09:55.408648
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from amphub.adapters.store.tables import UtcDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "powerbank_compatibility",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("operator_id", BIG_ID, nullable=False),
        sa.Column("brand", sa.String(length=50), nullable=False),
        sa.Column("model", sa.String(length=50), nullable=False),
        sa.Column("firmware_min", sa.String(length=50), nullable=True),
        sa.Column("firmware_below", sa.String(length=50), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_powerbank_compatibility_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_powerbank_compatibility")),
    )
    op.create_index(
        op.f("ix_powerbank_compatibility_operator_id"),
        "powerbank_compatibility",
        ["operator_id"],
        unique=False,
    )
    op.create_table(
        "powerbank_terms",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("operator_id", BIG_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_powerbank_terms_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_powerbank_terms")),
        sa.UniqueConstraint("operator_id", "version", name=op.f("uq_powerbank_terms_operator_id")),
    )
    op.create_table(
        "powerbank_enrolments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("charge_point_id", BIG_ID, nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("enrolled_at", UtcDateTime(), nullable=False),
        sa.Column("enrolled_by_user_id", BIG_ID, nullable=True),
        sa.Column("enrolled_by", sa.String(length=254), nullable=False),
        sa.Column("terms_version", sa.Integer(), nullable=True),
        sa.Column("terms_accepted_at", UtcDateTime(), nullable=True),
        sa.Column("facility_id", sa.String(length=18), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("ended_by_user_id", BIG_ID, nullable=True),
        sa.Column("ended_by", sa.String(length=254), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_powerbank_enrolments_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_user_id"],
            ["users.id"],
            name=op.f("fk_powerbank_enrolments_ended_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_user_id"],
            ["users.id"],
            name=op.f("fk_powerbank_enrolments_enrolled_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_powerbank_enrolments")),
    )
    op.create_index(
        op.f("ix_powerbank_enrolments_charge_point_id"),
        "powerbank_enrolments",
        ["charge_point_id"],
        unique=False,
    )
    # At most one open enrolment per charge point (a partial unique index, both databases).
    op.create_index(
        "uq_powerbank_enrolments_open",
        "powerbank_enrolments",
        ["charge_point_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "powerbank_facility_ids",
        sa.Column("charge_point_id", BIG_ID, nullable=False),
        sa.Column("facility_id", sa.String(length=18), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_powerbank_facility_ids_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_powerbank_facility_ids")),
    )
    op.create_table(
        "powerbank_opt_outs",
        sa.Column("charge_point_id", BIG_ID, nullable=False),
        sa.Column("opted_out_at", UtcDateTime(), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("opted_out_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_powerbank_opt_outs_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_powerbank_opt_outs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_powerbank_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("powerbank_opt_outs")
    op.drop_table("powerbank_facility_ids")
    op.drop_index("uq_powerbank_enrolments_open", table_name="powerbank_enrolments")
    op.drop_index(
        op.f("ix_powerbank_enrolments_charge_point_id"), table_name="powerbank_enrolments"
    )
    op.drop_table("powerbank_enrolments")
    op.drop_table("powerbank_terms")
    op.drop_index(
        op.f("ix_powerbank_compatibility_operator_id"), table_name="powerbank_compatibility"
    )
    op.drop_table("powerbank_compatibility")
