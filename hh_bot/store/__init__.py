"""Persistence: the SQLite store, its transactions, job rows and migrations."""
