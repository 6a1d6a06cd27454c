"""Every table module, imported once so that Base.metadata knows all tables (for Alembic's
autogenerate and for the drift test). Add a new table module here."""

from amphub.adapters.store import (
    balancing_tables,
    charging_tables,
    metering_tables,
    planning_tables,
    powerbank_tables,
    tables,
)
from amphub.adapters.store.tables import Base

TABLE_MODULES = (
    tables,
    charging_tables,
    metering_tables,
    balancing_tables,
    powerbank_tables,
    planning_tables,
)

__all__ = ["TABLE_MODULES", "Base"]
