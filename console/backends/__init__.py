"""The store's engines: SQLite (console/store.py, the default) and PostgreSQL (postgres.py, the regency ledger)."""
