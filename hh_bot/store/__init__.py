"""Persistence: the ``Store`` protocol (``interface.py``), its SQLite and PostgreSQL backends,
the SQL they share, and one migration sequence for both (``migrate.py``)."""
