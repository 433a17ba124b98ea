"""What the backends' drivers raise when the database fails, for code outside ``hh_bot/store/``
that must ride out a failing store (e.g. the poll planner's memory) without naming a driver."""

from __future__ import annotations

import sqlite3

import asyncpg

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
