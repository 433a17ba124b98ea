"""The suite's PostgreSQL server: a server that can't start is a clear failure, never a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg_server import PostgresUnavailable, start


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should go")
    with pytest.raises(PostgresUnavailable, match="attempts failed: "):
        start(blocker)
