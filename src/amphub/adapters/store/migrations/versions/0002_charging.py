"""charging: charger state, transactions, meter values, quarantine, id tags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:40:24.790821
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from amphub.adapters.store.tables import UtcDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_tags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id_tag", sa.String(length=36), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_id_tags_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_id_tags")),
        sa.UniqueConstraint("team_id", "id_tag", name=op.f("uq_id_tags_team_id")),
    )
    op.create_table(
        "charge_point_states",
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ocpp_version", sa.String(length=10), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("last_connected_at", UtcDateTime(), nullable=True),
        sa.Column("last_disconnected_at", UtcDateTime(), nullable=True),
        sa.Column("last_heartbeat_at", UtcDateTime(), nullable=True),
        sa.Column("boot_status", sa.String(length=16), nullable=True),
        sa.Column("boot_at", UtcDateTime(), nullable=True),
        sa.Column("boot_reason", sa.String(length=40), nullable=False),
        sa.Column("vendor", sa.String(length=50), nullable=False),
        sa.Column("model", sa.String(length=50), nullable=False),
        sa.Column("serial_number", sa.String(length=50), nullable=False),
        sa.Column("firmware_version", sa.String(length=50), nullable=False),
        sa.Column("iccid", sa.String(length=20), nullable=False),
        sa.Column("imsi", sa.String(length=20), nullable=False),
        sa.Column("meter_type", sa.String(length=25), nullable=False),
        sa.Column("meter_serial_number", sa.String(length=25), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_charge_point_states_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_charge_point_states")),
    )
    op.create_table(
        "connector_statuses",
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=50), nullable=False),
        sa.Column("info", sa.String(length=50), nullable=False),
        sa.Column("vendor_error_code", sa.String(length=255), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_connector_statuses_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "charge_point_id", "connector_id", name=op.f("pk_connector_statuses")
        ),
    )
    op.create_table(
        "security_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("tech_info", sa.Text(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_security_events_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        sa.UniqueConstraint(
            "charge_point_id", "kind", "at", name=op.f("uq_security_events_charge_point_id")
        ),
    )
    op.create_table(
        "transaction_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("transaction_ref", sa.String(length=64), nullable=False),
        sa.Column("stopped_at", UtcDateTime(), nullable=False),
        sa.Column("meter_stop_wh", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_transaction_quarantine_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_quarantine")),
        sa.UniqueConstraint(
            "charge_point_id",
            "transaction_ref",
            "stopped_at",
            name=op.f("uq_transaction_quarantine_charge_point_id"),
        ),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("ocpp_version", sa.String(length=10), nullable=False),
        sa.Column("transaction_ref", sa.String(length=64), nullable=True),
        sa.Column("start_key", sa.String(length=200), nullable=True),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("id_tag_status", sa.String(length=16), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("meter_start_wh", sa.Float(), nullable=True),
        sa.Column("meter_stop_wh", sa.Float(), nullable=True),
        sa.Column("stop_reason", sa.String(length=40), nullable=False),
        sa.Column("stop_id_tag", sa.String(length=36), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_transactions_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "charge_point_id", "ocpp_version", "transaction_ref", name="uq_transactions_ref"
        ),
        sa.UniqueConstraint("charge_point_id", "start_key", name="uq_transactions_start_key"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_transactions_charge_point_id"), "transactions", ["charge_point_id"], unique=False
    )
    op.create_index(
        "ix_transactions_id_tag_stopped_at", "transactions", ["id_tag", "stopped_at"], unique=False
    )
    op.create_table(
        "meter_values",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "charge_point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("context", sa.String(length=60), nullable=False),
        sa.Column("current_l1_a", sa.Float(), nullable=True),
        sa.Column("current_l2_a", sa.Float(), nullable=True),
        sa.Column("current_l3_a", sa.Float(), nullable=True),
        sa.Column("current_unphased_a", sa.Float(), nullable=True),
        sa.Column("offered_a", sa.Float(), nullable=True),
        sa.Column("power_w", sa.Float(), nullable=True),
        sa.Column("energy_wh", sa.Float(), nullable=True),
        sa.Column("voltage_v", sa.Float(), nullable=True),
        sa.Column("soc_percent", sa.Float(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_meter_values_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_meter_values_transaction_id_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_values")),
        sa.UniqueConstraint(
            "charge_point_id",
            "connector_id",
            "at",
            "context",
            name=op.f("uq_meter_values_charge_point_id"),
        ),
    )
    op.create_index(
        "ix_meter_values_transaction_id_at", "meter_values", ["transaction_id", "at"], unique=False
    )
    op.create_table(
        "transaction_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=10), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("trigger_reason", sa.String(length=40), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("charging_state", sa.String(length=20), nullable=True),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("energy_wh", sa.Float(), nullable=True),
        sa.Column("stopped_reason", sa.String(length=40), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_events_transaction_id_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_events")),
        sa.UniqueConstraint(
            "transaction_id", "seq_no", name=op.f("uq_transaction_events_transaction_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("transaction_events")
    op.drop_index("ix_meter_values_transaction_id_at", table_name="meter_values")
    op.drop_table("meter_values")
    op.drop_index("ix_transactions_id_tag_stopped_at", table_name="transactions")
    op.drop_index(op.f("ix_transactions_charge_point_id"), table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("transaction_quarantine")
    op.drop_table("security_events")
    op.drop_table("connector_statuses")
    op.drop_table("charge_point_states")
    op.drop_table("id_tags")
