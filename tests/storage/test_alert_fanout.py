"""Issue 16, part 4: a job's alerts are matched and written set-based
(JobSearch.alert_audience over subscription_keys, then JobSearch.write_alerts:
one INSERT … SELECT per language and part) — and reach exactly the people, with
exactly the rows, that the one-by-one path (interested_users_each, then
Scope.notify per recipient) did, on SQLite and PostgreSQL.

The population mixes every rule: instant and daily, paused, banned, not a
freelancer, unreachable, away (open-ended, until a future day, until a past
day), in a block with the client either way, "Not interested" to the job,
keywords (wanted, excluded, phrases), budgets fixed and hourly, categories and
skills named or not, a user with two subscriptions, the client's own
subscription, and English, Russian and an unsupported language.

The set-based rows share their payload (outbox_payloads, migration 0025): the
card once per language and part, each row naming it with {} of its own. Since
migration 0026 the publish writes one fan-out record (the recipients packed) and
the sender expands it into those rows a chunk at a time (storage/outbox_store.py);
here the chunks are small (7) so that every job takes several. The rows are
compared as their readers see them — through the ORM, and as the sender's claim
hands them out, delivered to the end — and the fan-out and its payloads are
checked to be written in the publish's transaction (a rollback leaves none) and
deleted when the last chunk is expanded and the last row delivered or dropped.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain.config import MarketConfig
from domain.entities import (
    AlertSubscription,
    Block,
    FreelancerProfile,
    Job,
    JobDismissal,
    User,
)
from domain.matching import job_matches
from domain.states import JobStatus
from domain.usecases import jobs
from handlers.context import Scope
from handlers.flows import load_flows
from handlers.flows.alerts import write_alerts_bulk, write_alerts_each
from handlers.i18n import translator
from storage.database import Database
from storage.outbox_store import OutboxStore, expand_fanout
from storage.skill_index import ANY, subscription_keys
from storage.tables import outbox, outbox_fanouts, outbox_payloads, users

CLIENT = 1
SKILLS = ["python", "django", "logo-design", "seo", "CSS", "ui-ux"]
CATEGORIES = ["development", "design", "marketing"]
KEYWORDS = [[], [], [], ["bot"], ["shop", "logo"], ["-wordpress"], ["telegram bot"], ["java"]]
CHUNK = 7  # recipients a fan-out is expanded by here: several chunks a job


async def _population(db, clock, rng: random.Random, people: int = 60) -> list[AlertSubscription]:
    today = clock.now().date()
    async with db.uow() as uow:
        await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        subs = []
        for n in range(people):
            user_id = 100 + n
            await uow.users.add(
                User(
                    id=user_id,
                    name=f"f{n}",
                    is_freelancer=n % 13 != 5,  # a few are clients only
                    banned=n % 17 == 3,
                    unreachable=n % 11 == 4,
                    language=("en", "ru", "de")[n % 3],
                )
            )
            if n % 7 in (1, 2, 3):
                until = {1: None, 2: today + timedelta(days=3), 3: today - timedelta(days=1)}
                await uow.profiles.add(
                    FreelancerProfile(user_id=user_id, availability="away", away_until=until[n % 7])
                )
            for _ in range(1 + (n % 5 == 0)):  # every fifth has two subscriptions
                subs.append(
                    await uow.subscriptions.add(
                        AlertSubscription(
                            user_id=user_id,
                            skills=rng.sample(SKILLS, rng.choice([0, 0, 1, 2])),
                            categories=rng.sample(CATEGORIES, rng.choice([0, 1, 1, 2])),
                            keywords=rng.choice(KEYWORDS),
                            mode=rng.choice(["instant", "instant", "daily"]),
                            paused=rng.random() < 0.1,
                            min_budget=rng.choice([0, 1_000, 5_000, 20_000, 100_000]),
                            created_at=clock.now(),
                        )
                    )
                )
        # The client's own subscription, and blocks either way.
        subs.append(
            await uow.subscriptions.add(AlertSubscription(user_id=CLIENT, created_at=clock.now()))
        )
        await uow.blocks.add(Block(blocker_id=CLIENT, blocked_id=106))
        await uow.blocks.add(Block(blocker_id=109, blocked_id=CLIENT))
        await uow.commit()
    return subs


async def _open_job(db, clock, rng: random.Random, n: int) -> Job:
    async with db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title=rng.choice(["Telegram bot for a shop", "Logo", "Java backend", "SEO"]),
                description=rng.choice(["A WordPress site.", "Python scripts.", "Work."]),
                category=rng.choice([None, *CATEGORIES]),
                skills=rng.sample(SKILLS, rng.choice([0, 1, 2, 3])),
                budget_type=rng.choice(["fixed", "hourly"]),
                budget=rng.choice([0, 500, 3_000, 30_000]),
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        for user_id in (100 + n % 60, 112):  # "Not interested" (as to an earlier publication)
            await uow.dismissals.add(
                JobDismissal(user_id=user_id, job_id=job.id, created_at=clock.now())
            )
        await uow.commit()
    return job


async def _last_id(session) -> int:
    return await session.scalar(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0)))


async def _count(db: Database, table: sa.Table) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)))


async def _rows_written(db, clock, job: Job, users: list[int], write) -> list[tuple]:
    """The outbox rows `write` adds for `users`, read back through the ORM (as the
    flows' tests and the screen logic read rows), rolled back afterwards."""
    async with db.uow() as uow:
        first = await _last_id(uow.session)
        await write(Scope(uow, clock, MarketConfig()), await uow.jobs.get(job.id), users)
        await uow.session.flush()
        while await expand_fanout(uow.session, CHUNK):  # as the sender would, chunk by chunk
            pass
        assert await uow.session.scalar(sa.select(sa.func.count(outbox_fanouts.c.id))) == 0
        uow.session.expunge_all()  # read from the database, not the identity map
        found = await uow.outbox.find(order_by="id", id__gt=first)
        rows = sorted(
            (
                (r.chat_id, r.id - first),
                (
                    r.chat_id,
                    r.method,
                    dict(r.payload),
                    r.priority,
                    r.status,
                    r.attempts,
                    r.not_before,
                    r.created_at,
                ),
            )
            for r in found
        )
        await uow.rollback()
    return [row for _, row in rows]  # a chat's rows in the order sent


async def _delivered(db, clock, job: Job, users: list[int], write) -> list[tuple]:
    """`write`'s rows committed, then delivered by the sender's store (claim, then
    mark_sent) until none is left: (chat, method, payload, priority) in the order
    each chat got them."""
    async with db.uow() as uow:
        first = await _last_id(uow.session)
        await write(Scope(uow, clock, MarketConfig()), await uow.jobs.get(job.id), users)
        await uow.commit()
    store = OutboxStore(db)
    got: list[tuple] = []
    while True:
        batch = await store.claim(500)
        if not batch:
            if await store.expand(CHUNK):  # the sender's round when little is due
                continue
            break
        for m in batch:
            if m.id > first:
                got.append((m.chat_id, m.id - first, m.method, m.payload, m.priority))
            assert await store.mark_sent(m.id, m.not_before, message_id=m.id)
    got.sort()  # by chat, then id: the order a chat receives them (the claim's rule)
    return [(chat, method, payload, priority) for chat, _, method, payload, priority in got]


async def test_set_based_fan_out_writes_what_the_one_by_one_path_did(any_db, clock):
    load_flows()  # the buttons' handlers
    rng = random.Random(4)
    subs = await _population(any_db, clock, rng)
    checked = alerted = 0
    for n in range(12):
        job = await _open_job(any_db, clock, rng, n)
        async with any_db.uow() as uow:
            stored = await uow.jobs.get(job.id)
            for mode in ("instant", "daily"):
                new = await jobs.interested_users(uow, stored, mode)
                old = await jobs.interested_users_each(uow, stored, mode)
                assert new == old, (mode, job.category, job.skills, job.budget)
                # and neither misses what domain.matching accepts, the rules aside
                assert set(new) <= {s.user_id for s in subs if job_matches(stored, s)}
            users = await jobs.interested_users(uow, stored, "instant")
        bulk = await _rows_written(any_db, clock, job, users, write_alerts_bulk)
        each = await _rows_written(any_db, clock, job, users, write_alerts_each)
        assert bulk == each
        assert all(row[3] == 2 and row[4] == "pending" for row in bulk)  # bulk priority
        assert all(row[2]["text"] for row in bulk)
        if n % 3 == 0:  # and as the sender gets them, delivered to the end
            sent_bulk = await _delivered(any_db, clock, job, users, write_alerts_bulk)
            sent_each = await _delivered(any_db, clock, job, users, write_alerts_each)
            assert sent_bulk == sent_each
            assert len(sent_bulk) == len(bulk)
            assert await _count(any_db, outbox_payloads) == 0  # every one's last row sent
            assert await _count(any_db, outbox_fanouts) == 0
        checked += 1
        alerted += len(bulk)
    assert checked == 12 and alerted > 20  # the population reaches people at all
    languages = set()
    async with any_db.uow() as uow:
        for u in await uow.users.find(id__in=[r for r in range(100, 160)]):
            languages.add(u.language)
    assert languages == {"en", "ru", "de"}


async def test_publishing_writes_the_alerts_in_its_transaction(any_db, clock):
    from handlers.unit import UnitRunner

    rng = random.Random(9)
    await _population(any_db, clock, rng)
    async with any_db.uow() as uow:
        draft = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="Telegram bot for a shop",
                description="Python scripts.",
                category="development",
                skills=["python"],
                budget=30_000,
                created_at=clock.now(),
            )
        )
        await uow.commit()

    async def publish(unit) -> list[int]:
        await jobs.publish_job(unit.uow, clock, CLIENT, draft.id)
        return [u for e in unit.uow.events if e.kind == "job_alert" for u in e.user_ids]

    alerted = await UnitRunner(any_db.uow, clock, MarketConfig()).run(publish, "publish")
    assert alerted
    assert await _count(any_db, outbox_fanouts) == 1  # committed with the publish
    assert await _bulk_rows(any_db) == []  # rows only as the sender expands it
    await _expand_all(any_db)
    async with any_db.uow() as uow:
        rows = await uow.outbox.find(priority=2)
        reachable = {u.id for u in await uow.users.find(id__in=alerted, unreachable=False)}
        assert sorted(r.chat_id for r in rows) == sorted(reachable)
        assert all("Telegram bot for a shop" in r.payload["text"] for r in rows)
        ru = {u.id for u in await uow.users.find(id__in=list(reachable), language="ru")}
        heading = translator("ru").plain("alerts.new_job")
        assert ru and {r.chat_id for r in rows if heading in r.payload["text"]} == ru


async def _expand_all(db: Database, chunk: int = CHUNK) -> int:
    """Every fan-out expanded into rows, chunk by chunk (each its own transaction,
    as the sender does); the chunks."""
    store, chunks = OutboxStore(db), 0
    while await store.expand(chunk, force=True):
        chunks += 1
    return chunks


async def _bulk_rows(db: Database) -> list[tuple]:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            sa.select(outbox.c.id, outbox.c.chat_id, outbox.c.payload, outbox.c.payload_id)
            .where(outbox.c.priority == 2)
            .order_by(outbox.c.id)
        )
        return [tuple(row) for row in found]


async def _draft(db: Database, clock) -> Job:
    async with db.uow() as uow:
        draft = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="Telegram bot for a shop",
                description="Python scripts.",
                category="development",
                skills=["python"],
                budget=30_000,
                created_at=clock.now(),
            )
        )
        await uow.commit()
    return draft


async def test_the_card_is_stored_once_per_language_and_part(any_db, clock):
    """A publish's rows name a shared payload and hold none of their own; once its
    fan-out is expanded only the languages someone reads are kept; a rolled-back
    publish stores nothing."""
    from handlers.unit import UnitRunner, render_registered

    await _population(any_db, clock, random.Random(9))
    draft = await _draft(any_db, clock)

    async def publish(unit) -> None:
        await jobs.publish_job(unit.uow, clock, CLIENT, draft.id)

    async def render_then_fail(scope, events) -> None:
        await render_registered(scope, events)  # the alerts written, then a failure
        assert await scope.uow.session.scalar(sa.select(sa.func.count(outbox_payloads.c.id)))
        assert await scope.uow.session.scalar(sa.select(sa.func.count(outbox_fanouts.c.id)))
        raise RuntimeError("after the alerts were written")

    failing = UnitRunner(any_db.uow, clock, MarketConfig(), render=render_then_fail)
    with pytest.raises(RuntimeError):
        await failing.run(publish, "publish")
    assert await _count(any_db, outbox_payloads) == 0
    assert await _count(any_db, outbox_fanouts) == 0
    assert await _bulk_rows(any_db) == []

    await UnitRunner(any_db.uow, clock, MarketConfig()).run(publish, "publish")
    assert await _expand_all(any_db) > 1
    rows = await _bulk_rows(any_db)
    assert rows and all(payload == {} and shared is not None for _, _, payload, shared in rows)
    async with any_db.engine.connect() as conn:
        languages = dict((await conn.execute(sa.select(users.c.id, users.c.language))).all())
        stored = dict(
            (await conn.execute(sa.select(outbox_payloads.c.id, outbox_payloads.c.payload))).all()
        )
    by_payload: dict[int, set[str]] = {}
    for _, chat, _, shared in rows:
        by_payload.setdefault(shared, set()).add(
            languages[chat] if languages[chat] in ("en", "ru") else "en"
        )
    # one payload per language read (a card this short is one part), no other kept
    assert set(stored) == set(by_payload)
    assert sorted(len(v) for v in by_payload.values()) == [1] * len(by_payload)
    assert {next(iter(v)) for v in by_payload.values()} == {"en", "ru"}
    ru = next(p for p, v in by_payload.items() if v == {"ru"})
    assert translator("ru").plain("alerts.new_job") in stored[ru]["text"]


async def test_shared_payloads_round_trip_unescaped(any_db):
    """Stored as compact JSON without ASCII escapes (Cyrillic two bytes a letter),
    and read back exactly — quotes, control characters, emoji, and a lone surrogate
    (stored escaped: UTF-8 cannot carry it)."""
    from storage.outbox_store import add_shared_payload

    payloads = [
        {"text": "Новый заказ: «дизайн» — 100 ₽", "buttons": [[{"text": "✋", "data": "p:1"}]]},
        {"text": 'quotes " \\ and \n\t and \u0000 and 🙈', "buttons": None},
        {"text": "a\x00b\x1fc\nd", "buttons": None},
        {"text": "lone \ud800 surrogate", "buttons": None},
    ]
    async with any_db.uow() as uow:
        ids = [await add_shared_payload(uow.session, p, None) for p in payloads]
        await uow.commit()
    async with any_db.engine.connect() as conn:
        found = dict(
            (await conn.execute(sa.select(outbox_payloads.c.id, outbox_payloads.c.payload))).all()
        )
        raw = await conn.scalar(
            sa.select(sa.func.length(sa.cast(sa.literal_column("payload"), sa.Text)))
            .select_from(outbox_payloads)
            .where(outbox_payloads.c.id == ids[0])
        )
    assert [found[i] for i in ids] == payloads
    assert raw < 100  # unescaped: 83 characters, not the ~190 of \\uXXXX escapes


async def _keys(db) -> set[tuple]:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            sa.select(
                subscription_keys.c.subscription_id,
                subscription_keys.c.category,
                subscription_keys.c.skill,
                subscription_keys.c.mode,
                subscription_keys.c.min_budget,
                subscription_keys.c.keywords,
            )
        )
        return {tuple(row) for row in found}


async def test_subscription_keys_follow_the_subscription(any_db, clock):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=7, is_freelancer=True))
        sub = await uow.subscriptions.add(
            AlertSubscription(
                user_id=7, categories=["design"], skills=["CSS", "logo-design"], created_at=None
            )
        )
        await uow.commit()
    assert await _keys(any_db) == {
        (sub.id, "design", "css", "instant", 0, False),
        (sub.id, "design", "logo-design", "instant", 0, False),
    }
    async with any_db.uow() as uow:
        stored = await uow.subscriptions.get_for_update(sub.id)
        stored.paused = True
        await uow.commit()
    assert await _keys(any_db) == set()  # paused: not indexed
    async with any_db.uow() as uow:
        stored = await uow.subscriptions.get_for_update(sub.id)
        stored.paused = False
        stored.skills = []
        stored.keywords = ["logo"]
        stored.min_budget = 5_000
        stored.mode = "daily"
        await uow.commit()
    assert await _keys(any_db) == {(sub.id, "design", ANY, "daily", 5_000, True)}
    async with any_db.uow() as uow:  # rolled back: the keys roll back with it
        (await uow.subscriptions.get_for_update(sub.id)).categories = []
    assert await _keys(any_db) == {(sub.id, "design", ANY, "daily", 5_000, True)}
    async with any_db.uow() as uow:
        await uow.subscriptions.delete(await uow.subscriptions.get(sub.id))
        await uow.commit()
    assert await _keys(any_db) == set()


async def _shared_rows(db: Database, chats: list[int], payload: dict) -> tuple[int, list[int]]:
    """A shared payload and one pending row naming it per chat (as write_alerts writes)."""
    from storage.outbox_store import add_shared_payload

    async with db.uow() as uow:
        shared = await add_shared_payload(uow.session, payload, None)
        ids = []
        for chat in chats:
            result = await uow.session.execute(
                sa.insert(outbox).values(
                    chat_id=chat, method="send", payload={}, payload_id=shared, priority=2,
                    status="pending", attempts=0,
                )
            )  # fmt: skip
            ids.append(result.inserted_primary_key[0])
        await uow.commit()
    return shared, ids


async def _payload_ids(db: Database) -> set[int]:
    async with db.engine.connect() as conn:
        return set((await conn.execute(sa.select(outbox_payloads.c.id))).scalars())


async def test_a_shared_payload_goes_with_its_last_undelivered_row(any_db, clock):
    """Kept while any row naming it is pending or being sent, whatever became of the
    others; deleted in the transaction that delivers or drops the last one — sent,
    failed, dropped as unreachable (a 403, or found unreachable at the claim). A
    rescheduled or released row still wants it."""
    async with any_db.uow() as uow:
        for user_id in (21, 22, 23, 24, 25):
            await uow.users.add(User(id=user_id, is_freelancer=True, unreachable=user_id == 25))
        await uow.commit()
    card = {"text": "Новый заказ", "buttons": [[{"text": "✋", "data": "pitch:start:1"}]]}
    shared, (a, b, c, d, e) = await _shared_rows(any_db, [21, 22, 23, 24, 25], card)
    other, (f,) = await _shared_rows(any_db, [21], {"text": "another", "buttons": None})
    store = OutboxStore(any_db)
    claimed = {m.id: m for m in await store.claim(10)}
    assert set(claimed) == {a, b, c, d}  # 25 is unreachable: its row dropped, not claimed
    assert all(claimed[i].payload == card for i in (a, b, c, d))  # the sender's row shape
    assert await _payload_ids(any_db) == {shared, other}
    assert await store.mark_sent(a, claimed[a].not_before, message_id=1)
    assert await store.mark_failed(b, "400 Bad Request", claimed[b].not_before)
    assert await store.reschedule(c, 0.0, "429", claimed[c].not_before)
    await store.release([d], claimed[d].not_before)
    assert await _payload_ids(any_db) == {shared, other}  # c and d still to go
    await store.mark_unreachable(c, 23, "403 Forbidden")  # c dropped; d still wants it
    assert await _payload_ids(any_db) == {shared, other}
    again, last = await store.claim(10)  # d, and f: chat 21's next now a was sent
    assert (again.id, last.id) == (d, f)
    assert again.payload == card and last.payload == {"text": "another", "buttons": None}
    assert await store.mark_sent(d, again.not_before, message_id=2)
    assert await _payload_ids(any_db) == {other}  # its last row delivered
    await store.mark_unreachable(f, 21, "403 Forbidden")
    assert await _payload_ids(any_db) == set()
    async with any_db.engine.connect() as conn:
        statuses = dict((await conn.execute(sa.select(outbox.c.id, outbox.c.status))).all())
    assert statuses == {
        a: "sent",
        b: "failed",
        c: "unreachable",
        d: "sent",
        e: "unreachable",
        f: "unreachable",
    }


async def test_two_senders_finishing_the_last_rows_at_once_leave_no_payload(any_db, clock):
    """Two senders delivering a payload's rows side by side: when they are done, no
    payload is left (the exact interleaving of the last two rows is the next test's)."""
    chats = list(range(31, 71))
    async with any_db.uow() as uow:
        for user_id in chats:
            await uow.users.add(User(id=user_id, is_freelancer=True))
        await uow.commit()
    for _ in range(5):
        await _shared_rows(any_db, chats, {"text": "card", "buttons": None})
        first, second = OutboxStore(any_db), OutboxStore(any_db)
        while True:
            rows = await first.claim(100)
            if not rows:
                break
            half = len(rows) // 2

            async def finish(store: OutboxStore, batch) -> None:
                for m in batch:
                    assert await store.mark_sent(m.id, m.not_before, message_id=m.id)

            await asyncio.gather(finish(first, rows[:half]), finish(second, rows[half:]))
        assert await _payload_ids(any_db) == set()


async def test_postgres_the_later_of_two_last_rows_deletes_the_payload(any_db, clock):
    """PostgreSQL, step by step: two transactions each deliver one of a payload's
    last two rows. The first checks while the second's row is still undelivered to
    it and keeps the payload; the second's check waits on the payload's row lock
    until the first commits, then sees both rows delivered and deletes it (without
    the lock it would check at once, see the first's row undelivered and leave the
    payload behind for good)."""
    from storage.outbox_store import _forget_payloads

    if any_db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    shared, (a, b) = await _shared_rows(any_db, [41, 42], {"text": "card", "buttons": None})
    sent = {"status": "sent"}
    async with any_db.uow() as first, any_db.uow() as second:
        await first.session.execute(sa.update(outbox).where(outbox.c.id == a).values(**sent))
        await second.session.execute(sa.update(outbox).where(outbox.c.id == b).values(**sent))
        assert await _forget_payloads(first.session, [shared], "postgresql") == 0
        later = asyncio.create_task(_forget_payloads(second.session, [shared], "postgresql"))
        async with any_db.engine.connect() as watcher:
            while not later.done():  # until the second waits on the payload's lock
                waiting = await watcher.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
        assert not later.done()
        await first.commit()
        assert await later == 1
        await second.commit()
    assert await _payload_ids(any_db) == set()
