"""Flow tests: users played against the real Engine on real SQLite (`db`, `clock`
come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from domain.config import MarketConfig
from tests.flows.harness import Harness

ADMIN_ID = 900


@pytest.fixture
def config() -> MarketConfig:
    return MarketConfig(admin_ids=frozenset({ADMIN_ID}))


@pytest.fixture
def h(db, clock, config) -> Harness:
    return Harness(db, clock, config)
