"""Shared set-up for the use-case tests: users in the roles a story needs."""

from __future__ import annotations

import pytest

from domain.config import MarketConfig
from domain.entities import User

ADMIN = 1
CLIENT = 100
FREELANCER = 200
OTHER_FREELANCER = 201
STRANGER = 300


@pytest.fixture
def config() -> MarketConfig:
    return MarketConfig(admin_ids=frozenset({ADMIN}), weekly_pitch_quota=3)


async def add_users(db, clock) -> None:
    async with db.uow() as uow:
        for uid, is_client, is_freelancer in [
            (ADMIN, False, False),
            (CLIENT, True, False),
            (FREELANCER, False, True),
            (OTHER_FREELANCER, True, True),
            (STRANGER, False, False),
        ]:
            await uow.users.add(
                User(
                    id=uid,
                    name=f"user{uid}",
                    is_client=is_client,
                    is_freelancer=is_freelancer,
                    created_at=clock.now(),
                )
            )
        await uow.commit()


@pytest.fixture
async def users(any_db, clock):
    await add_users(any_db, clock)
    return any_db


@pytest.fixture
async def sqlite_users(db, clock):
    await add_users(db, clock)
    return db
