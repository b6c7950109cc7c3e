"""The scale-out test (issue 17, docs/scale-out.md): three PostgreSQL-backed Gigbot
processes behind HAProxy, the Bot API emulator enforcing Telegram's limits and
delivering its webhook through the balancer; 200 people act at once, one process is
killed with SIGKILL in the middle and restarted, and later another one restarted
gracefully (SIGTERM: a rolling restart).

At the end: every update applied exactly once and each person's in update_id order,
every reply delivered once (only those in flight at the kill may go twice: counted and
printed), no 429, the ledger balanced, and no one-second window above Telegram's 30.

`make scale-test` runs it alone (with -s, to see the figures); `make test` runs it too.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import defaultdict

import pytest
import sqlalchemy as sa

from bench.cluster import Cluster, haproxy_path
from storage.database import Database
from storage.tables import outbox, processed_updates, stored_updates
from tests.conftest import NO_POSTGRES, POSTGRES_URL, admin_execute, postgres_url
from tests.e2e.story_steps import Stage
from tests.scale.money import Deal, Tally, act_deal, check_money, seed

pytestmark = pytest.mark.scale

PEOPLE = 200
DEALS = 20  # of the 200: 20 clients and 20 freelancers with a contract, moving money
ACTIONS = ("start", "help", "balance", "settings")
FIRST_ID = 7_000_001
DEAL_SENDS = 17  # messages a deal's two people get, about (a rolling average)
SENDS = ("send", "document", "photo", "chart")  # outbox rows the emulator counts as sends
MAX_IN_FLIGHT = 32  # the sender's default: what a killed process may have had in flight


async def act(cluster: Cluster, user_id: int, rng: random.Random) -> int:
    """One person: each action, then wait for the bot's answer (as a person does)."""
    emu = cluster.emu
    answered = 0
    for command in ACTIONS:
        await asyncio.sleep(rng.uniform(0, 1))  # people think; not synchronisation
        sent = emu.send_command(user_id, command)
        await emu.wait_for_message(user_id, after=sent["message_id"], timeout=300)
        answered += 1
    return answered


@pytest.fixture
async def database(postgres_template):
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    if haproxy_path() is None:
        pytest.skip("haproxy is not installed (apt-get install -y haproxy; .ci/run does)")
    name = f"gigbot_scale_{random.randrange(16**8):08x}"
    await admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        yield postgres_url(name)
    finally:
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_three_processes_behind_haproxy_with_one_killed(database, tmp_path):
    rng = random.Random(17)
    began = time.monotonic()
    phases: list[str] = []

    def phase(name: str) -> None:
        phases.append(f"{name} {time.monotonic() - began:.1f}s")

    people = [FIRST_ID + i for i in range(PEOPLE)]
    dealers, others = people[: 2 * DEALS], people[2 * DEALS :]
    deals = [
        Deal(client=dealers[2 * i], freelancer=dealers[2 * i + 1], title=f"Scale job {i + 1}")
        for i in range(DEALS)
    ]
    await seed(database, deals)  # before the storm, through the use cases
    phase("seeded")
    # GIGBOT_SCALE_REDIS_URL: the same storm with the send budget in Redis.
    redis_url = os.environ.get("GIGBOT_SCALE_REDIS_URL") or None
    async with Cluster(database, processes=3, log_dir=tmp_path, redis_url=redis_url) as cluster:
        phase("started")
        for user_id in people:
            cluster.emu.add_user(f"P{user_id}", user_id=user_id, language_code="en")
        stage, tally = Stage(cluster.emu), Tally()
        acting = [asyncio.create_task(act(cluster, u, rng)) for u in others]
        dealing = [
            asyncio.create_task(act_deal(stage, d, random.Random(d.client), tally)) for d in deals
        ]

        # In the middle: SIGKILL one process, then start it again.
        storm = len(others) * len(ACTIONS) + DEAL_SENDS * DEALS  # about what it sends
        half = storm // 2
        await cluster.emu.wait_for(lambda: len(cluster.sent_at) >= half, timeout=300)
        sent_before_kill = len(cluster.sent_at)
        phase("kill")
        await cluster.kill(1)
        await cluster.restart(1)
        phase("restarted")
        # Later, a rolling restart of another: SIGTERM drains it, nothing is lost.
        later = storm * 3 // 4
        await cluster.emu.wait_for(lambda: len(cluster.sent_at) >= later, timeout=300)
        phase("SIGTERM")
        drain_started = time.monotonic()
        drained = await cluster.processes[2].stop(signal.SIGTERM)
        drain_s = time.monotonic() - drain_started
        await cluster.restart(2)

        answered = await asyncio.gather(*acting)
        phase("all answered")
        await asyncio.gather(*dealing)
        phase("deals done")
        db = Database(database)
        try:
            # Every stored update handled (the killed process's claims were taken over).
            async def settled() -> bool:
                async with db.engine.connect() as conn:
                    left = await conn.scalar(sa.select(sa.func.count()).select_from(stored_updates))
                    busy = await conn.scalar(
                        sa.select(sa.func.count())
                        .select_from(outbox)
                        .where(outbox.c.status.in_(("pending", "sending")))
                    )
                return left == 0 and busy == 0

            for _ in range(300):  # other processes' work: look every 0.2 s, for a minute
                if await settled():
                    break
                await asyncio.sleep(0.2)
            assert await settled(), "updates or outbox rows left unhandled"

            async with db.engine.connect() as conn:
                processed = (
                    await conn.execute(
                        sa.select(processed_updates.c.update_id, processed_updates.c.processed_at)
                    )
                ).all()
                sent_rows = await conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.status == "sent", outbox.c.method.in_(SENDS))
                )
                failed = (
                    await conn.execute(
                        sa.select(
                            outbox.c.chat_id, outbox.c.method, outbox.c.status, outbox.c.error
                        ).where(outbox.c.status != "sent")
                    )
                ).all()
            money = await check_money(db, deals)
        finally:
            await db.dispose()

    updates = cluster.update_users
    applied = {update_id: at for update_id, at in processed}
    repeats = len(cluster.sent_at) - sent_rows
    window = cluster.most_sent_in_one_second()
    print(
        f"\nscale-out: {len(updates)} updates from {PEOPLE} people, {len(applied)} applied; "
        f"{len(cluster.sent_at)} sends accepted for {sent_rows} outbox rows "
        f"({repeats} sent twice, in flight at the kill after {sent_before_kill} sends); "
        f"429s: {cluster.refused}; most sends in one second: {window}; "
        f"SIGTERM drain took {drain_s:.1f}s; send budget in {'Redis' if redis_url else 'PostgreSQL'}; "
        f"at: {', '.join(phases)}"
    )
    print(
        f"money: {DEALS} contracts, {money.milestones} milestones ({DEALS} funded before the "
        f"storm); in the storm {tally.released} released, {tally.changes} sent back for "
        f"changes, {tally.disputed} disputed, {tally.withdrawn} withdrawals, "
        f"{tally.double_taps} double taps, "
        f"{tally.double_posts} payment forms posted twice; ledger: {money.transactions} "
        f"transactions balanced, {money.funded} funds and {money.settled} settlements (one "
        f"each at most), {money.held} escrows holding exactly their milestone's funding, "
        f"{money.payments_succeeded} payments succeeded (one per funded milestone); sandbox: "
        f"{money.charges} charges = the ledger's funding, {money.payouts} payouts = the ledger's "
        f"and the gateway calls' ({money.gateway_calls}), "
        f"{money.movements} movements in its books, none twice"
    )
    assert drained == 0, "a SIGTERMed process exits cleanly after draining"
    assert all(n == len(ACTIONS) for n in answered)
    assert set(applied) == set(updates), "every update applied (exactly once: one row each)"
    by_person: dict[int, list[int]] = defaultdict(list)
    for update_id in sorted(updates):
        by_person[updates[update_id]].append(update_id)
    for user_id, ids in by_person.items():
        times = [applied[i] for i in ids]
        assert times == sorted(times), f"{user_id}'s updates applied out of order"
    assert failed == [], failed
    assert 0 <= repeats <= MAX_IN_FLIGHT
    for chat_id, at in cluster.refusals:
        before = sum(1 for t in cluster.sent_at if at - 1.0 < t <= at)
        chat = [round(at - t, 3) for c, t in cluster.chat_sends if c == chat_id and 0 <= at - t < 2]
        print(f"429 for chat {chat_id}: {before} sends in the second before; chat's: {chat}")
    assert cluster.refused == 0
    assert window <= 30
    assert tally.released + tally.disputed == 2 * DEALS
