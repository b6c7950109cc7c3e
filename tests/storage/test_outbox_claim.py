"""The sender's claim (storage/outbox_store.py) on SQLite and PostgreSQL: chat heads
only, most urgent first, urgent-only on request — and a query whose cost does not grow
with the queue: it walks the indexes in (priority, id) order and stops at its limit,
never reading every undelivered row (issue 16, part 6: 100,000 rows queued)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from storage.database import Database
from storage.outbox_store import CANDIDATE_FACTOR, OutboxStore
from storage.tables import outbox

QUEUED = 6_000
CHATS = 3_000


def _row(chat_id: int, priority: int, **extra: Any) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "method": "send",
        "payload": {"text": f"to {chat_id}", "buttons": None},
        "priority": priority,
        "status": "pending",
        "attempts": 0,
        **extra,
    }


async def _insert(db: Database, rows: list[dict[str, Any]]) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for row in rows:  # one at a time: ids in the order given
            result = await uow.session.execute(sa.insert(outbox).values(**row))
            ids.append(result.inserted_primary_key[0])
        await uow.commit()
    return ids


async def test_claim_takes_chat_heads_most_urgent_first(any_db: Database) -> None:
    store = OutboxStore(any_db)
    now = store.now()
    a_alert, a_reply, b_notice, c_reply, d_expired, e_held, e_next = await _insert(
        any_db,
        [
            _row(11, 2),  # chat 11's head: an alert …
            _row(11, 0),  # … so its reply waits behind it, in order
            _row(12, 1),
            _row(13, 0),
            _row(14, 2, status="sending", not_before=now - timedelta(seconds=1)),  # lease ran out
            _row(15, 0, status="sending", not_before=now + timedelta(seconds=5)),  # being sent
            _row(15, 0),  # behind a row in flight: not claimable
        ],
    )
    urgent = await store.claim(10, max_priority=0)
    assert [m.id for m in urgent] == [c_reply]

    claimed = await store.claim(10)
    assert [m.id for m in claimed] == [b_notice, a_alert, d_expired]
    assert a_reply not in {m.id for m in claimed} and e_next not in {m.id for m in claimed}
    assert e_held and not await store.claim(10)  # nothing else is due
    assert not await store.has_due()


async def _seed(db: Database) -> None:
    """QUEUED rows to CHATS chats (two each, round robin), mostly alerts."""
    rows = [
        {
            "chat_id": 900_000 + i % CHATS,
            "method": "send",
            "payload": json.dumps({"text": f"alert {i}", "buttons": None}),
            "priority": 2 if i % 7 else 1,
            "status": "pending",
            "attempts": 0,
        }
        for i in range(QUEUED)
    ]
    async with db.uow() as uow:
        # Through the bare table: the JSON text is stored as it is, in one statement.
        bare = sa.table(
            "outbox",
            *(sa.column(c) for c in ("chat_id", "method", "payload", "priority", "status")),
            sa.column("attempts"),
        )
        await uow.session.execute(sa.insert(bare), rows)
        if db.dialect == "postgresql":
            await uow.session.execute(sa.text("ANALYZE outbox"))
        await uow.commit()


def _scanned(plan: dict[str, Any]) -> int:
    """Rows every scan node of a PostgreSQL plan produced, over all its loops."""
    own = 0
    if "Scan" in plan["Node Type"]:
        own = int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1))
    return own + sum(_scanned(child) for child in plan.get("Plans", []))


async def test_the_claim_query_is_bounded_by_its_limit_not_the_queue(any_db: Database) -> None:
    await _seed(any_db)
    store = OutboxStore(any_db)
    limit = 32 * CANDIDATE_FACTOR + 10  # what the sender's claim of 32 asks for
    queries = store._claimable_heads(store.now(), limit)
    async with any_db.uow() as uow:
        dialect = uow.session.bind.dialect
        for query in queries:
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if any_db.dialect == "sqlite":
                plan = [
                    r[-1] for r in await uow.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
                ]
                # Index searches only: no full scan of the outbox, no sort of what it found.
                assert not [step for step in plan if "SCAN" in step or "TEMP B-TREE" in step], plan
            else:
                explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + sql
                [[document]] = (await uow.session.execute(sa.text(explain))).all()
                root = (json.loads(document) if isinstance(document, str) else document)[0]
                # A few rows per head found (the head, its probe), never the 6,000 queued.
                assert _scanned(root["Plan"]) <= 4 * limit, root["Plan"]
        await uow.commit()
    claimed = await store.claim(32)
    assert len(claimed) == 32 and len({m.chat_id for m in claimed}) == 32
    assert all(m.priority == 1 for m in claimed)  # the notices before the alerts
