"""The store: SQLAlchemy 2 (async) tables, repositories behind the application's ports,
Alembic migrations. SQLite by default, PostgreSQL with asyncpg at scale."""
