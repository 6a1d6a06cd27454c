"""Every table module, imported once so that Base.metadata knows all tables (for Alembic's
autogenerate and for the drift test). Add a new table module here."""

from amphub.adapters.store import charging_tables, tables
from amphub.adapters.store.tables import Base

TABLE_MODULES = (tables, charging_tables)

__all__ = ["TABLE_MODULES", "Base"]
