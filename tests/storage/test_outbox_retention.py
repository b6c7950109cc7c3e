"""Forgetting delivered outbox rows (storage/outbox_retention.py,
domain/usecases/outbox_retention.py), on SQLite and PostgreSQL: what goes and
what stays, the batch bound, the walk resuming where it stopped and starting
again from the oldest row (RESWEEP), the shared payloads and fan-outs left
intact, and the plans (a primary-key range and index probes, not a scan)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from domain.config import MarketConfig
from domain.ports import ReadOnlyViolation
from domain.usecases.outbox_retention import RESWEEP, prune_delivered_outbox
from storage.database import Database
from storage.outbox_retention import delete_statement, window_statement
from storage.outbox_store import OutboxStore, write_fanout
from storage.tables import conversations, outbox, outbox_fanouts, outbox_payloads, users
from tests.clock import ManualClock

CONFIG = MarketConfig()  # 30 days
OLD = timedelta(days=31)


async def insert(db: Database, *rows: dict[str, Any]) -> list[int]:
    """Outbox rows (chat_id, status, created_at, message_id …); their ids in order."""
    ids = []
    async with db.uow() as uow:
        for row in rows:
            values = {"method": "send", "payload": {"text": "x"}, "priority": 1, "attempts": 0}
            found = await uow.session.execute(
                sa.insert(outbox).returning(outbox.c.id), {**values, **row}
            )
            ids.append(int(found.scalar_one()))
        await uow.commit()
    return ids


async def screen(db: Database, user_id: int, row_id: int | None) -> None:
    """The user's conversation names this row as its screen (None: none)."""
    async with db.uow() as uow:
        session = uow.session
        await session.execute(sa.delete(conversations).where(conversations.c.user_id == user_id))
        await session.execute(
            sa.insert(conversations).values(
                user_id=user_id, flow="f", step="s", data={}, screen_outbox_id=row_id
            )
        )
        await uow.commit()


async def ids_left(db: Database) -> list[int]:
    async with db.uow() as uow:
        return list((await uow.session.execute(sa.select(outbox.c.id).order_by("id"))).scalars())


async def prune(db: Database, clock: ManualClock, limit: int = 2_000) -> int:
    async with db.uow() as uow:
        deleted = await prune_delivered_outbox(uow, clock, CONFIG, limit=limit)
        await uow.commit()
    return deleted


async def test_old_final_rows_go_recent_undelivered_screens_and_newest_messages_stay(
    any_db: Database, clock: ManualClock
) -> None:
    old = clock.now() - OLD
    recent = clock.now() - timedelta(days=29)
    a, b = 100, 200
    ids = await insert(
        any_db,
        {"chat_id": a, "status": "sent", "message_id": 1, "created_at": old},  # 0 goes
        {"chat_id": a, "status": "failed", "created_at": old},  # 1 goes
        {"chat_id": a, "status": "unreachable", "created_at": old},  # 2 goes
        {"chat_id": a, "status": "pending", "created_at": old},  # 3 stays: undelivered
        {"chat_id": a, "status": "sending", "created_at": old},  # 4 stays: being sent
        {"chat_id": a, "status": "sent", "message_id": 2, "created_at": old},  # 5 goes
        {"chat_id": a, "status": "sent", "message_id": 3, "created_at": old},  # 6 screen
        {"chat_id": b, "status": "sent", "message_id": 9, "created_at": old},  # 7 b's newest
        {"chat_id": b, "status": "sent", "created_at": old},  # 8 goes (an edit)
        {"chat_id": b, "status": "sent", "created_at": None},  # 9 goes: no time is old
        {"chat_id": b, "status": "queued-later", "created_at": old},  # 10 unknown: stays
        # The walk stops at the first row not old enough (ids grow with time).
        {"chat_id": a, "status": "sent", "message_id": 4, "created_at": recent},  # 11 recent
    )
    await screen(any_db, a, ids[6])
    assert await prune(any_db, clock) == 6
    kept = [3, 4, 6, 7, 10, 11]
    assert await ids_left(any_db) == [ids[i] for i in kept]
    assert await prune(any_db, clock) == 0  # nothing more, and nothing read twice

    # The conversation moves on; a newer message of b's chat follows its newest. Both
    # rows kept may go now: the next walk from the oldest row, RESWEEP after the last
    # began, takes them (and the rows delivered since, once old enough).
    await screen(any_db, a, None)
    await insert(any_db, {"chat_id": b, "status": "sent", "message_id": 10, "created_at": old})
    clock.advance(seconds=RESWEEP.total_seconds() - 3600)
    assert await prune(any_db, clock) == 0  # the walk keeps to rows it has not read
    async with any_db.uow() as uow:
        await uow.session.execute(
            sa.update(outbox).where(outbox.c.id.in_([ids[3], ids[4]])).values(status="sent")
        )
        await uow.commit()
    clock.advance(hours=1, seconds=1)
    assert await prune(any_db, clock) == 4  # 3, 4, 6 (no longer a screen), 7
    assert await ids_left(any_db) == [ids[10], ids[11], ids[11] + 1]


async def test_a_batch_reads_at_most_its_limit_and_the_walk_resumes_where_it_stopped(
    any_db: Database, clock: ManualClock
) -> None:
    old = clock.now() - OLD
    # Six rows that must stay ahead of nine that may go, then one not old enough.
    kept = await insert(
        any_db, *({"chat_id": 7, "status": "pending", "created_at": old} for _ in range(6))
    )
    doomed = await insert(
        any_db, *({"chat_id": 8, "status": "sent", "created_at": old} for _ in range(9))
    )
    # Old enough an hour from now.
    young_at = clock.now() - CONFIG.outbox_keep + timedelta(hours=1)
    young = await insert(any_db, {"chat_id": 8, "status": "sent", "created_at": young_at})
    counts = [await prune(any_db, clock, limit=4) for _ in range(6)]
    # Reads 4 (pending) → 0; 2 pending + 2 → 2; 4 → 4; 3, then stops at the young row.
    assert counts == [0, 2, 4, 3, 0, 0]
    assert await ids_left(any_db) == kept + young
    # Once it is old enough, the walk (waiting at it) takes it.
    clock.advance(hours=2)
    assert await prune(any_db, clock, limit=4) == 1
    assert await ids_left(any_db) == kept
    assert len(doomed) == 9


async def test_a_row_dated_in_the_future_does_not_stall_the_walk(
    any_db: Database, clock: ManualClock
) -> None:
    old = clock.now() - OLD
    future = clock.now() + timedelta(days=400)  # written by a process with a wrong clock
    ids = await insert(
        any_db,
        {"chat_id": 3, "status": "sent", "created_at": old},
        {"chat_id": 3, "status": "sent", "created_at": future},
        {"chat_id": 3, "status": "sent", "created_at": old},
        {"chat_id": 3, "status": "sent", "created_at": clock.now()},
        {"chat_id": 3, "status": "sent", "created_at": old},
    )
    assert await prune(any_db, clock) == 2  # stepped over the future row, stopped at now
    assert await ids_left(any_db) == ids[1:2] + ids[3:]


async def test_a_new_walk_starts_a_resweep_after_the_last_began_once_caught_up(
    any_db: Database, clock: ManualClock
) -> None:
    old = clock.now() - OLD
    await insert(any_db, {"chat_id": 5, "status": "pending", "created_at": old})
    assert await prune(any_db, clock) == 0  # caught up; the row stays behind the walk
    async with any_db.uow() as uow:
        await uow.session.execute(sa.update(outbox).values(status="failed"))
        await uow.commit()
    clock.advance(seconds=RESWEEP.total_seconds() - 1)
    assert await prune(any_db, clock) == 0
    clock.advance(seconds=1)
    assert await prune(any_db, clock) == 1
    assert await ids_left(any_db) == []


async def test_shared_payloads_and_fanouts_are_left_to_their_own_code(
    any_db: Database, clock: ManualClock
) -> None:
    """Rows of an alert card expanded from a fan-out: pruning the delivered ones
    touches neither outbox_payloads nor outbox_fanouts, and the rest of the
    fan-out is still expanded and delivered with its card."""
    recipients = list(range(1, 7))
    async with any_db.uow() as uow:
        await uow.session.execute(sa.insert(users), [{"id": u, "name": "u"} for u in recipients])
        fanout = await write_fanout(
            uow.session,
            recipients,
            {"en": [{"text": "card"}]},
            "en",
            priority=2,
            created_at=clock.now(),
        )
        await uow.commit()
    assert fanout is not None
    store = OutboxStore(any_db)
    assert await store.expand(chunk=3, force=True) == 3
    for message in await store.claim(10):
        assert await store.mark_sent(message.id, message.not_before, message_id=7)  # type: ignore[arg-type]
    # A later message to each of them: the alerts are no longer their chats' newest.
    await insert(
        any_db,
        *(
            {"chat_id": chat, "status": "sent", "message_id": 8, "created_at": clock.now()}
            for chat in (1, 2, 3)
        ),
    )
    clock.advance(days=31)
    assert await prune(any_db, clock) == 3
    async with any_db.uow() as uow:
        session = uow.session
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox_fanouts)) == 1
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox_payloads)) == 1
    # The rest of the fan-out: expanded with its card, delivered, the card then gone.
    assert await store.expand(chunk=3, force=True) == 3
    claimed = await store.claim(10)
    assert sorted(m.chat_id for m in claimed) == [4, 5, 6]
    assert all(m.payload == {"text": "card"} for m in claimed)
    for message in claimed:
        assert await store.mark_sent(message.id, message.not_before, message_id=1)  # type: ignore[arg-type]
    async with any_db.uow() as uow:
        session = uow.session
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox_fanouts)) == 0
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox_payloads)) == 0


def _scanned(plan: dict[str, Any]) -> int:
    """Rows every scan node of a PostgreSQL plan produced, over all its loops."""
    own = 0
    if "Scan" in plan["Node Type"]:
        own = int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1))
    return own + sum(_scanned(child) for child in plan.get("Plans", []))


def _nodes(plan: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found.extend(_nodes(child))
    return found


async def test_the_batch_reads_a_key_range_and_probes_indexes(
    any_db: Database, clock: ManualClock
) -> None:
    """EXPLAIN on both databases: with 6,000 rows and 3,000 conversations, a batch
    of 100 reads a primary-key range and probes conversation_states' key and
    ix_outbox_chat_sent for each row, never a scan of either table."""
    old = clock.now() - OLD
    async with any_db.uow() as uow:
        rows = [
            {
                "chat_id": i % 3_000,
                "method": "send",
                "payload": {"text": "x"},
                "priority": 1,
                "status": "sent" if i % 10 else "pending",
                "attempts": 1,
                "message_id": i,
                "created_at": old + timedelta(seconds=i),
            }
            for i in range(1, 6_001)
        ]
        await uow.session.execute(sa.insert(outbox), rows)
        await uow.session.execute(
            sa.insert(conversations),
            [
                {"user_id": u, "flow": "", "step": "", "data": {}, "screen_outbox_id": u}
                for u in range(3_000)
            ],
        )
        await uow.commit()
    if any_db.dialect == "postgresql":
        async with any_db.uow() as uow:
            await uow.session.execute(sa.text("ANALYZE outbox"))
            await uow.session.execute(sa.text("ANALYZE conversation_states"))
            await uow.commit()
    before = clock.now() - CONFIG.outbox_keep
    start: int = 2_000
    statements = [
        window_statement(start, 100, before, clock.now()),
        delete_statement(start, start + 100, before, any_db.dialect),
    ]
    async with any_db.uow() as uow:
        dialect = uow.session.bind.dialect
        for statement in statements:
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if any_db.dialect == "sqlite":
                plan = [
                    r[-1] for r in await uow.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
                ]
                tables = ("outbox", "old", "newer", "conversation_states")
                assert not [p for p in plan if p.split(" ")[:2] in (["SCAN", t] for t in tables)]
                assert any("PRIMARY KEY (rowid>?" in step for step in plan), plan
            else:
                explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + sql
                [[document]] = (await uow.session.execute(sa.text(explain))).all()
                root = (json.loads(document) if isinstance(document, str) else document)[0]
                nodes = _nodes(root["Plan"])
                assert ("Seq Scan", "outbox") not in nodes, nodes
                assert ("Seq Scan", "conversation_states") not in nodes, nodes
                # The range's rows and a probe or two each, not the 6,000.
                assert _scanned(root["Plan"]) <= 5 * 100, root["Plan"]
        await uow.rollback()


async def test_a_read_only_unit_of_work_refuses_to_prune(db: Database, clock: ManualClock) -> None:
    async with db.read_uow() as reader:
        with pytest.raises(ReadOnlyViolation):
            await prune_delivered_outbox(reader, clock, CONFIG)
