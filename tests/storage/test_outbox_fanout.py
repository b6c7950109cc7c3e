"""Fan-outs (issue 16, part 4; migration 0026): a job's alerts written as one record
at publish time and expanded into outbox rows by the sender, a chunk at a time, each
chunk's rows and the cursor in one transaction (storage/outbox_store.py).

What must hold, on SQLite and PostgreSQL: every reachable recipient gets exactly one
row per part of the card in their language — never two, none lost — however the
expansion is cut short (a crash inside a chunk, between chunks) or shared (two senders
expanding at once, like two processes); a chat gets its alerts in publishing order; a
fan-out's payloads outlive the rows delivered so far while chunks are still to come,
and go with the last of them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.entities import AlertSubscription, FreelancerProfile, Job, User
from storage.database import Database
from storage.outbox_store import (
    OutboxStore,
    expand_fanout,
    pack_chat_ids,
    unpack_chat_ids,
    write_fanout,
)
from storage.tables import outbox, outbox_fanouts, outbox_payloads, profiles, users
from tests.sql_log import SqlLog, reader_engine
from tests.storage.test_locking import _wait_until_blocked

CARDS = {
    "en": [{"text": "New job: part 1", "buttons": None}, {"text": "part 2", "buttons": [[]]}],
    "ru": [{"text": "Новый заказ", "buttons": None}],
    "de": [{"text": "nobody reads German here", "buttons": None}],
}


class Crash(Exception):
    """The process died here (the transaction never committed)."""


async def _people(db: Database, ids: list[int], *, unreachable: set[int] = frozenset()) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            sa.insert(users),
            [
                {
                    "id": i,
                    "name": f"u{i}",
                    "language": "ru" if i % 3 == 0 else "en",
                    "is_freelancer": True,
                    "unreachable": i in unreachable,
                }
                for i in ids
            ],
        )
        await uow.commit()


async def _fanout(db: Database, ids: list[int], cards: dict = CARDS) -> int:
    async with db.uow() as uow:
        fanout = await write_fanout(uow.session, ids, cards, "en", priority=2, created_at=db.now())
        await uow.commit()
    assert fanout is not None
    return fanout


async def _rows(db: Database) -> list[tuple[int, int, str, int | None]]:
    """(id, chat, text as delivered, payload id) of every outbox row, in id order."""
    async with db.uow() as uow:
        found = await uow.outbox.find(order_by="id")
        return [(r.id, r.chat_id, r.payload["text"], r.payload_id) for r in found]


async def _count(db: Database, table: sa.Table) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)))


def _expected(ids: list[int], unreachable: set[int] = frozenset()) -> Counter:
    """(chat, text) of the rows these recipients should get, each exactly once."""
    want: Counter = Counter()
    for i in ids:
        if i in unreachable:
            continue
        for part in CARDS["ru" if i % 3 == 0 else "en"]:
            want[(i, part["text"])] += 1
    return want


def test_recipients_pack_to_eight_bytes_each_ascending() -> None:
    packed = pack_chat_ids([5, -100123, 7, 5, 2**40])
    assert len(packed) == 4 * 8
    assert unpack_chat_ids(packed) == [-100123, 5, 7, 2**40]
    assert unpack_chat_ids(packed[8:16]) == [5]  # a chunk is a byte range
    assert pack_chat_ids([]) == b""


async def test_a_fanout_becomes_the_rows_once_chunk_by_chunk(any_db, clock):
    ids = list(range(1000, 1047))
    unreachable = {1004, 1020}
    await _people(any_db, ids, unreachable=unreachable)
    await _fanout(any_db, ids)
    assert await _rows(any_db) == []  # nothing per recipient at publish time
    assert await _count(any_db, outbox_payloads) == 4  # every language's card, once
    store, chunks = OutboxStore(any_db), 0
    while await store.expand(chunk=10, force=True):
        chunks += 1
    assert chunks == 5
    rows = await _rows(any_db)
    assert Counter((chat, text) for _, chat, text, _ in rows) == _expected(ids, unreachable)
    # A chat's parts in order; the German card nobody reads is gone with the last chunk.
    for chat in ids:
        texts = [text for _, c, text, _ in rows if c == chat]
        assert texts == [p["text"] for p in CARDS["ru" if chat % 3 == 0 else "en"]][: len(texts)]
    assert await _count(any_db, outbox_fanouts) == 0
    assert await _count(any_db, outbox_payloads) == 3


async def test_a_crash_inside_a_chunk_or_between_chunks_repeats_and_loses_nothing(any_db, clock):
    ids = list(range(2000, 2030))
    await _people(any_db, ids)
    fanout = await _fanout(any_db, ids)
    store = OutboxStore(any_db)
    assert await store.expand(chunk=8, force=True) == 8  # chunk 1 committed
    # Chunk 2 dies after its rows were inserted, before the commit: rolled back whole.
    with pytest.raises(Crash):
        async with any_db.uow() as uow:
            assert await expand_fanout(uow.session, 8) == 8
            assert await uow.session.scalar(sa.select(sa.func.count(outbox.c.id))) > 8
            raise Crash
    async with any_db.engine.connect() as conn:
        cursor = await conn.scalar(
            sa.select(outbox_fanouts.c.cursor).where(outbox_fanouts.c.id == fanout)
        )
    assert cursor == 8
    # The process is gone; another one (a new Database: new connections) takes over.
    other = Database(any_db.url, now=clock.now)
    try:
        while await OutboxStore(other).expand(chunk=8, force=True):
            pass
    finally:
        await other.dispose()
    rows = await _rows(any_db)
    assert Counter((chat, text) for _, chat, text, _ in rows) == _expected(ids)
    assert await _count(any_db, outbox_fanouts) == 0


async def test_payloads_stay_while_chunks_are_to_come_and_go_with_the_last_row(any_db, clock):
    ids = list(range(3000, 3012))
    await _people(any_db, ids)
    await _fanout(any_db, ids, {"en": [{"text": "card", "buttons": None}]})
    store = OutboxStore(any_db)
    await store.expand(chunk=5, force=True)

    async def deliver_all() -> int:
        sent = 0
        while claimed := await store.claim(50):
            for m in claimed:
                assert m.payload == {"text": "card", "buttons": None}
                assert await store.mark_sent(m.id, m.not_before, message_id=m.id)
                sent += 1
        return sent

    assert await deliver_all() == 5  # every row so far delivered …
    assert await _count(any_db, outbox_payloads) == 1  # … the card kept for the rest
    while await store.expand(chunk=5, force=True):
        pass
    assert await _count(any_db, outbox_payloads) == 1
    assert await deliver_all() == 7
    assert await _count(any_db, outbox_payloads) == 0
    assert await _count(any_db, outbox_fanouts) == 0


async def test_fanouts_are_expanded_oldest_first_so_a_chat_gets_jobs_in_order(any_db, clock):
    ids = list(range(4000, 4020))
    await _people(any_db, ids)
    first = await _fanout(any_db, ids, {"en": [{"text": "job 1", "buttons": None}]})
    second = await _fanout(any_db, ids[::2], {"en": [{"text": "job 2", "buttons": None}]})
    assert first < second
    store = OutboxStore(any_db)
    while await store.expand(chunk=3, force=True):
        pass
    rows = await _rows(any_db)
    for chat in ids:
        texts = [text for _, c, text, _ in rows if c == chat]
        assert texts == (["job 1", "job 2"] if chat in ids[::2] else ["job 1"])


async def test_the_low_water_mark_keeps_a_chunk_or_two_of_alerts_queued(any_db, clock):
    ids = list(range(5000, 5100))
    await _people(any_db, ids)
    await _fanout(any_db, ids, {"en": [{"text": "card", "buttons": None}]})
    store = OutboxStore(any_db)
    assert await store.has_due()  # a fan-out to expand counts as due
    assert await store.expand(chunk=30, low_water=40) == 30
    assert await store.expand(chunk=30, low_water=40) == 30  # 30 waiting < 40
    assert await store.expand(chunk=30, low_water=40) == 0  # 60 waiting: enough
    assert await store.depth() == 100  # 60 rows and 40 recipients to come
    for m in await store.claim(30):
        assert await store.mark_sent(m.id, m.not_before, message_id=m.id)
    assert await store.expand(chunk=30, low_water=40) == 30


async def test_a_recipient_who_became_unreachable_before_the_expansion_gets_no_row(any_db, clock):
    ids = list(range(6000, 6010))
    await _people(any_db, ids)
    await _fanout(any_db, ids, {"en": [{"text": "card", "buttons": None}]})
    async with any_db.uow() as uow:  # a 403 from another message meanwhile
        await uow.session.execute(
            sa.update(users).where(users.c.id == 6003).values(unreachable=True)
        )
        await uow.commit()
    while await OutboxStore(any_db).expand(chunk=4, force=True):
        pass
    assert sorted(chat for _, chat, _, _ in await _rows(any_db)) == [i for i in ids if i != 6003]


async def test_postgres_a_second_sender_skips_a_fanout_being_expanded(any_db, clock):
    """PostgreSQL, step by step: while one transaction expands the oldest fan-out
    (its row locked), another's expansion does nothing — it neither waits, nor
    expands that fan-out again, nor the next one ahead of it (a chat's order)."""
    if any_db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    ids = list(range(7000, 7010))
    await _people(any_db, ids)
    await _fanout(any_db, ids, {"en": [{"text": "job 1", "buttons": None}]})
    await _fanout(any_db, ids, {"en": [{"text": "job 2", "buttons": None}]})
    async with any_db.uow() as first, any_db.uow() as second:
        assert await expand_fanout(first.session, 4) == 4
        assert await asyncio.wait_for(expand_fanout(second.session, 4), 5) == 0
        await second.commit()
        await first.commit()
    async with any_db.uow() as again:  # the lock gone, the cursor as committed
        assert await expand_fanout(again.session, 100) == 6
        await again.commit()
    rows = await _rows(any_db)
    assert [text for _, _, text, _ in rows] == ["job 1"] * 10


async def test_two_senders_expanding_and_delivering_at_once_send_each_alert_once(any_db, clock):
    """Two stores on two engines (two processes) expand and deliver side by side
    until nothing is left: every recipient got each job's card exactly once."""
    ids = list(range(8000, 8060))
    await _people(any_db, ids)
    for job in range(3):
        await _fanout(any_db, ids[job::2], {"en": [{"text": f"job {job}", "buttons": None}]})
    other = Database(any_db.url, now=clock.now)
    sent: list[tuple[int, str]] = []

    async def sender(db: Database) -> None:
        store = OutboxStore(db)
        idle = 0
        while idle < 3:
            claimed = await store.claim(10)
            for m in claimed:
                sent.append((m.chat_id, m.payload["text"]))
                assert await store.mark_sent(m.id, m.not_before, message_id=m.id)
            grew = await store.expand(chunk=7, low_water=10)
            idle = 0 if claimed or grew else idle + 1
            await asyncio.sleep(0)

    try:
        await asyncio.gather(sender(any_db), sender(other))
    finally:
        await other.dispose()
    want = Counter((chat, f"job {job}") for job in range(3) for chat in ids[job::2])
    assert Counter(sent) == want
    assert await _count(any_db, outbox_fanouts) == 0
    assert await _count(any_db, outbox_payloads) == 0


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    recipients=st.sets(st.integers(1, 400), min_size=1, max_size=60),
    unreachable=st.sets(st.integers(1, 400), max_size=10),
    chunk=st.integers(1, 25),
    crashes=st.lists(st.booleans(), max_size=12),
)
async def test_property_any_crashes_any_chunking_give_each_row_once(
    db, clock, recipients, unreachable, chunk, crashes
):
    """SQLite: whatever the chunk size and whichever chunks die before their commit,
    expanding to the end gives each reachable recipient each part once, a chat's
    parts in order and chats in ascending order within a part."""
    async with db.uow() as uow:  # a clean slate per example (the fixture is shared)
        for table in (outbox, outbox_payloads, outbox_fanouts, users):
            await uow.session.execute(sa.delete(table))
        await uow.commit()
    ids = sorted(recipients)
    await _people(db, ids, unreachable=unreachable & recipients)
    await _fanout(db, ids)
    store = OutboxStore(db)
    plan = iter(crashes)
    while True:
        if next(plan, False):
            with pytest.raises(Crash):
                async with db.uow() as uow:
                    await expand_fanout(uow.session, chunk)
                    raise Crash
        elif not await store.expand(chunk=chunk, force=True):
            break
    rows = await _rows(db)
    assert Counter((c, t) for _, c, t, _ in rows) == _expected(ids, unreachable & recipients)
    for chat in ids:
        texts = [t for _, c, t, _ in rows if c == chat]
        assert texts == sorted(texts, key=lambda t: 0 if t == CARDS["en"][0]["text"] else 1)
    assert await _count(db, outbox_fanouts) == 0


async def _audience(db: Database, today: date | None) -> tuple[int, ...]:
    async with db.read_uow() as uow:
        job = Job(id=99, client_id=1, title="t", description="d", budget=0)
        return (await uow.search.alert_audience(job, "instant", [], today)).users


async def test_who_gets_no_alerts_follows_every_write_of_users_and_profiles(any_db, clock):
    """subscription_keys carries whether its user may get alerts (migration 0028):
    banned or not a freelancer (`barred`), away through a day (`away_until`). The
    database's triggers keep them, so the audience follows the users and profiles
    however they are written: through the ORM, by a Core UPDATE that no Python hook
    sees, by a profile's deletion, and for keys written after the user changed."""
    today = date(2026, 12, 6)
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="client", is_client=True))
        await uow.users.add(User(id=10, name="fine", is_freelancer=True))
        await uow.users.add(User(id=11, name="banned", is_freelancer=True, banned=True))
        await uow.users.add(User(id=12, name="client only", is_client=True))
        await uow.users.add(User(id=13, name="away", is_freelancer=True))
        await uow.users.add(User(id=14, name="back", is_freelancer=True))
        await uow.users.add(User(id=15, name="away today", is_freelancer=True))
        await uow.profiles.add(FreelancerProfile(user_id=13, availability="away"))
        await uow.profiles.add(
            FreelancerProfile(user_id=14, availability="away", away_until=today - timedelta(days=1))
        )
        await uow.profiles.add(FreelancerProfile(user_id=15, availability="away", away_until=today))
        for user_id in (10, 11, 12, 13, 14, 15):
            await uow.subscriptions.add(AlertSubscription(user_id=user_id))
        await uow.commit()
    assert await _audience(any_db, today) == (10, 14)
    assert await _audience(any_db, None) == (10, 13, 14, 15)  # away not asked

    async with any_db.uow() as uow:  # the ORM: a ban, and freelancing begun
        (await uow.users.get(10)).banned = True
        (await uow.users.get(12)).is_freelancer = True
        (await uow.profiles.get(15)).availability = "available"
        await uow.commit()
    assert await _audience(any_db, today) == (12, 14, 15)

    async with any_db.uow() as uow:  # Core statements and a deletion: no ORM hook
        await uow.session.execute(sa.update(users).where(users.c.id == 11).values(banned=False))
        await uow.session.execute(
            sa.update(users).where(users.c.id == 12).values(is_freelancer=False)
        )
        await uow.session.execute(
            sa.update(profiles).where(profiles.c.user_id == 14).values(away_until=today)
        )
        await uow.session.execute(sa.delete(profiles).where(profiles.c.user_id == 13))
        await uow.commit()
    assert await _audience(any_db, today) == (11, 13, 15)
    assert await _audience(any_db, today + timedelta(days=1)) == (11, 13, 14, 15)

    async with any_db.uow() as uow:  # keys written after the user changed
        await uow.subscriptions.add(AlertSubscription(user_id=10, skills=["python"]))
        await uow.users.add(User(id=16, name="new", is_freelancer=True))
        await uow.profiles.add(FreelancerProfile(user_id=16, availability="away"))
        await uow.subscriptions.add(AlertSubscription(user_id=16))
        await uow.commit()
    assert await _audience(any_db, today) == (11, 13, 15)
    if any_db.dialect == "sqlite":
        plan = await _audience_plan(any_db)
        assert "subscription_keys USING COVERING INDEX ix_subscription_keys_match" in plan
        assert "users" not in plan and "profiles" not in plan


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("subscription", "ban"),
        ("ban", "subscription"),
        ("subscription", "away"),
        ("away", "subscription"),
        ("subscription", "profile away"),
        ("profile away", "subscription"),
    ],
)
async def test_postgres_a_ban_or_away_racing_a_new_subscription_still_bars_its_keys(
    any_db, clock, first, then
):
    """PostgreSQL, two transactions at once: one adds a subscription (its keys take
    the user's state in a trigger), the other bans the user, sets them away, or
    creates their profile away (a trigger rewrites the user's keys). Under READ
    COMMITTED neither sees the other's uncommitted rows, so without a lock the new
    keys would keep the old state either way round; the keys' trigger reads the user
    FOR SHARE and the others lock the user's row (migration 0028), so whichever came
    second waits for the first to commit and then sees it."""
    if any_db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="client", is_client=True))
        await uow.users.add(User(id=20, name="soon away or banned", is_freelancer=True))
        if "profile" not in (first + then):
            await uow.profiles.add(FreelancerProfile(user_id=20))
        await uow.commit()

    async def subscribe(uow) -> None:
        await uow.subscriptions.add(AlertSubscription(user_id=20))

    async def ban(uow) -> None:
        await uow.session.execute(sa.update(users).where(users.c.id == 20).values(banned=True))

    async def away(uow) -> None:
        await uow.session.execute(
            sa.update(profiles).where(profiles.c.user_id == 20).values(availability="away")
        )

    async def profile_away(uow) -> None:
        await uow.profiles.add(FreelancerProfile(user_id=20, availability="away"))

    steps = {"subscription": subscribe, "ban": ban, "away": away, "profile away": profile_away}

    async def second() -> None:
        async with any_db.uow() as uow:
            await steps[then](uow)
            await uow.commit()

    async with any_db.uow() as uow:
        await steps[first](uow)
        task = asyncio.create_task(second())
        await _wait_until_blocked(any_db)  # the second waits for this transaction
        assert not task.done()
        await uow.commit()
    await asyncio.wait_for(task, 10)
    assert await _audience(any_db, date(2026, 12, 6)) == ()


async def _audience_plan(db: Database) -> str:
    with SqlLog(reader_engine(db)) as log:
        await _audience(db, date(2026, 12, 6))
    statement, params = next(c for c in log.executed if "subscription_keys" in c[0])
    async with db.engine.connect() as conn:
        found = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        return " | ".join(str(row[-1]) for row in found)
