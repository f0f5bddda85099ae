"""The gateway's own PostgreSQL database: tables and the queries on them (the only place importing SQLAlchemy)."""
