"""PowerBank: the operator's compatibility list and terms versions; per charge point its
Facility ID, its opt-out, and the history of its enrolments (never deleted, only ended)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from amphub.adapters.store.tables import Base, BigId


class PowerBankCompatibilityRow(Base):
    __tablename__ = "powerbank_compatibility"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    brand: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(50))
    firmware_min: Mapped[str | None] = mapped_column(String(50))
    firmware_below: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]


class PowerBankTermsRow(Base):
    __tablename__ = "powerbank_terms"
    __table_args__ = (UniqueConstraint("operator_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(254))


class PowerBankFacilityIdRow(Base):
    __tablename__ = "powerbank_facility_ids"
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    facility_id: Mapped[str] = mapped_column(String(18))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(254))


class PowerBankOptOutRow(Base):
    """A user stopped this charge point: the DK2 rule leaves it alone until a user signs it
    up again (which deletes this row, audited)."""

    __tablename__ = "powerbank_opt_outs"
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opted_out_by: Mapped[str] = mapped_column(String(254))


class PowerBankEnrolmentRow(Base):
    """One period of participation. At most one per charge point is open (``ended_at`` is
    NULL): the partial unique index makes a second concurrent sign-up fail, not duplicate."""

    __tablename__ = "powerbank_enrolments"
    __table_args__ = (
        Index(
            "uq_powerbank_enrolments_open",
            "charge_point_id",
            unique=True,
            sqlite_where=sql_text("ended_at IS NULL"),
            postgresql_where=sql_text("ended_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_point_id: Mapped[int] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), index=True
    )
    basis: Mapped[str] = mapped_column(String(16))
    enrolled_at: Mapped[datetime]
    enrolled_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    enrolled_by: Mapped[str] = mapped_column(String(254))
    terms_version: Mapped[int | None] = mapped_column(Integer)
    terms_accepted_at: Mapped[datetime | None]
    facility_id: Mapped[str | None] = mapped_column(String(18))
    note: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None]
    ended_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    ended_by: Mapped[str | None] = mapped_column(String(254))
    end_reason: Mapped[str | None] = mapped_column(Text)
