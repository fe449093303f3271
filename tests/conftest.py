"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import required_postgres


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the module (skipped where PostgreSQL is not installed)."""
    with required_postgres() as url:
        yield url
