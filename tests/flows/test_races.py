"""Races the database settles by aborting a transaction are not the person's
problem: the engine runs the update again (handlers/retry.py), so both people
get their normal answer, never "Something went wrong" (PostgreSQL; SQLite runs
one writer at a time, so two steps cannot deadlock there)."""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy as sa

from domain.entities import User
from handlers.context import Context
from handlers.retry import Busy, is_race, lost_connection, mark_commit_failed, retrying
from handlers.routing import Router
from tests.flows.harness import Harness

ROW_A, ROW_B = 7001, 7002


def crossing_router(both_hold_one: asyncio.Barrier, attempts: list[str]) -> Router:
    """Two commands that lock the same two rows in opposite orders; on their first
    attempt each waits until the other holds its first row, so they deadlock."""
    router = Router()

    async def lock_in_order(ctx: Context, first: int, second: int, name: str) -> None:
        attempts.append(name)
        await ctx.uow.users.get_for_update(first)
        if attempts.count(name) == 1:
            await asyncio.wait_for(both_hold_one.wait(), timeout=10)
        await ctx.uow.users.get_for_update(second)
        await ctx.reply(f"{name} done")

    @router.command("ab")
    async def ab(ctx: Context) -> None:
        await lock_in_order(ctx, ROW_A, ROW_B, "ab")

    @router.command("ba")
    async def ba(ctx: Context) -> None:
        await lock_in_order(ctx, ROW_B, ROW_A, "ba")

    return router


async def test_a_deadlock_is_run_again_and_both_people_get_their_answer(
    any_db, clock, config, caplog
) -> None:
    if any_db.dialect == "sqlite":
        pytest.skip("SQLite runs one writer at a time: two steps cannot deadlock")
    async with any_db.uow() as uow:
        for row in (ROW_A, ROW_B):
            await uow.users.add(User(id=row, name=f"row {row}", created_at=clock.now()))
        await uow.commit()
    attempts: list[str] = []
    barrier = asyncio.Barrier(2)
    h = Harness(any_db, clock, config, router=crossing_router(barrier, attempts))
    ann, bob = h.person("Ann"), h.person("Bob")

    with caplog.at_level(logging.INFO, logger="handlers.retry"):
        await asyncio.gather(h.send(ann, "/ab"), h.send(bob, "/ba"))

    # PostgreSQL aborted one of them (deadlock detected); it ran again and finished.
    assert sorted(attempts) in (["ab", "ab", "ba"], ["ab", "ba", "ba"])
    assert "lost a race" in caplog.text
    assert h.last(ann).text == "ab done"
    assert h.last(bob).text == "ba done"


class Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_race_lost_every_time_is_busy_not_a_crash() -> None:
    """Bounded: after the last attempt the person is asked to try again."""
    tries = 0

    async def always_loses() -> None:
        nonlocal tries
        tries += 1
        raise RuntimeError("wrapped") from Deadlock("deadlock detected")

    with pytest.raises(Busy):
        await retrying(always_loses, "test")
    assert tries == 4
    assert is_race(RuntimeError("x")) is False


def dropping_router(attempts: list[int]) -> Router:
    """A command whose first attempt loses its connection half-way (the server
    ends the session, as a restart does)."""
    router = Router()

    @router.command("drop")
    async def drop(ctx: Context) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            await ctx.uow.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        await ctx.reply("done")

    return router


async def test_a_connection_lost_before_the_commit_is_run_again(any_db, clock, config) -> None:
    """The server rolled the first attempt back; the person gets the normal answer
    once, not "Something went wrong"."""
    if any_db.dialect == "sqlite":
        pytest.skip("an embedded database has no connection to lose")
    attempts: list[int] = []
    h = Harness(any_db, clock, config, router=dropping_router(attempts))
    ann = h.person("Ann")
    await h.send(ann, "/drop")
    assert len(attempts) == 2
    assert h.texts(ann) == ["done"]


class Dropped(Exception):
    connection_invalidated = True


async def test_a_connection_lost_while_committing_is_not_run_again() -> None:
    """Whether that commit took effect is unknown: never a second time."""
    tries = 0

    async def commit_drops() -> None:
        nonlocal tries
        tries += 1
        error = RuntimeError("commit failed")
        mark_commit_failed(error)
        raise error from Dropped()

    with pytest.raises(RuntimeError, match="commit failed"):
        await retrying(commit_drops, "test")
    assert tries == 1
    assert lost_connection(Dropped()) is True
    assert lost_connection(RuntimeError("x")) is False
