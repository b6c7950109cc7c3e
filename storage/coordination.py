"""What several Gigbot processes on one database coordinate through (docs/scale-out.md).

Leases: a named lease (a row: name, holder, expiry). `acquire` takes it when it is free
or expired, or renews it for its holder, in one statement (INSERT … ON CONFLICT DO
UPDATE … WHERE), so two processes never both hold it. `release` gives it back at once
(on a graceful stop); a process that dies simply stops renewing, and the lease is free
when it expires.

SqlSendBudget: the bot's shared send spacing (bot/ratelimit.py), one row per key
holding the next free moment in epoch seconds on the *database's* clock, so processes
on machines whose clocks differ still agree. `reserve` hands out the next slot and
moves it one interval on, atomically (one upsert); the caller sleeps until its slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.tables import leases, send_budget


def _upsert(dialect: str, table: sa.Table):  # type: ignore[no-untyped-def]
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


class Leases:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease `name` for `seconds`; False if another holds it."""
        now = self.db.now()
        until = now + timedelta(seconds=seconds)
        insert = _upsert(self.db.dialect, leases).values(name=name, holder=holder, expires_at=until)
        statement = insert.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": holder, "expires_at": until},
            where=(leases.c.holder == holder) | (leases.c.expires_at < now),
        ).returning(leases.c.holder)
        async with self.db.uow() as uow:
            taken = (await uow.session.execute(statement)).scalar_one_or_none()
            await uow.commit()
        return taken == holder

    async def release(self, name: str, holder: str) -> bool:
        async with self.db.uow() as uow:
            result = await uow.session.execute(
                sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )
            await uow.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_all(self, holder: str, prefix: str = "") -> int:
        """Give back every lease this holder has (whose name starts with `prefix`)."""
        async with self.db.uow() as uow:
            result = await uow.session.execute(
                sa.delete(leases).where(leases.c.holder == holder, leases.c.name.startswith(prefix))
            )
            await uow.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def holder(self, name: str) -> tuple[str, datetime] | None:
        async with self.db.uow() as uow:
            row = (
                await uow.session.execute(
                    sa.select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)
                )
            ).first()
        return (row[0], row[1]) if row is not None else None


class SqlSendBudget:
    """The shared send spacing on PostgreSQL (see bot.ratelimit.SendBudget)."""

    def __init__(self, database: Database) -> None:
        if database.dialect != "postgresql":
            raise ValueError("a shared send budget needs PostgreSQL (or Redis)")
        self.db = database
        self._rings: set[int] = set()  # ring sizes whose rows are known to exist

    async def _scalar(self, sql: str, **params: object) -> float:
        async with self.db.engine.begin() as conn:
            return float((await conn.execute(sa.text(sql), params)).scalar_one())

    async def reserve(self, key: str, interval: float) -> float:
        """The next slot of `key`, moved one interval on: seconds to wait for it."""
        return await self._scalar(
            "WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t) "
            "INSERT INTO send_budget AS b (key, next_at) "
            "SELECT :key, now.t + :interval FROM now "
            "ON CONFLICT (key) DO UPDATE SET next_at = "
            "greatest(b.next_at, extract(epoch FROM clock_timestamp())::float8) + :interval "
            "RETURNING next_at - :interval - extract(epoch FROM clock_timestamp())::float8",
            key=key,
            interval=interval,
        )

    async def push(self, key: str, seconds: float) -> None:
        """Nothing for `key` for `seconds` from now (kept if already later)."""
        await self._scalar(
            "INSERT INTO send_budget AS b (key, next_at) "
            "VALUES (:key, extract(epoch FROM clock_timestamp())::float8 + :s) "
            "ON CONFLICT (key) DO UPDATE SET next_at = "
            "greatest(b.next_at, extract(epoch FROM clock_timestamp())::float8 + :s) "
            "RETURNING 0",
            key=key,
            s=seconds,
        )

    async def wait(self, key: str) -> float:
        """Seconds until `key` is free (0: now)."""
        return await self._scalar(
            "SELECT greatest(0, coalesce(max(next_at), 0) "
            "- extract(epoch FROM clock_timestamp())::float8) FROM send_budget WHERE key = :key",
            key=key,
        )

    async def take(
        self,
        interval: float,
        limit: int,
        hold: float,
        *,
        urgent: bool = True,
        bulk_interval: float = 0.0,
        linger: float = 0.0,
    ) -> tuple[float, str | None]:
        """The next global slot if fewer than `limit` calls count in the second before
        it (bot.ratelimit.SendBudget.take). The calls of the last second are a ring of
        `limit` rows, `window:<i>`, each holding the moment its call stops counting: a
        slot needs a row whose moment is at least a second before it. `urgent` holds
        until when urgent demand is announced, `bulk` the bulk lane's next slot. Takers
        queue on the `global` row's lock, so each reads the rest after the last one
        committed."""
        ring = [f"window:{i}" for i in range(limit)]
        for _ in range(2):
            async with self.db.engine.begin() as conn:
                now_sql = "extract(epoch FROM clock_timestamp())::float8"
                row = (
                    await conn.execute(
                        sa.text(
                            f"SELECT greatest(next_at, {now_sql}), {now_sql} "
                            "FROM send_budget WHERE key = 'global' FOR UPDATE"
                        )
                    )
                ).first()
                rows = dict(
                    (
                        await conn.execute(
                            sa.select(send_budget.c.key, send_budget.c.next_at).where(
                                send_budget.c.key.in_([*ring, "urgent", "bulk"])
                            )
                        )
                    ).all()
                )
                if row is None or len(rows) < limit + 2 or not self._ring_complete(limit):
                    await self._make_ring(conn, ring)
                    continue
                slot, now = float(row[0]), float(row[1])
                place = min(ring, key=lambda key: rows[key])
                if rows[place] > slot - 1:  # the second is full
                    return rows[place] + 1 - now, None
                moves = {place: slot + hold, "global": slot + interval}
                if urgent:
                    moves["urgent"] = max(rows["urgent"], slot + linger)
                elif bulk_interval > 0:
                    if rows["bulk"] > slot and rows["urgent"] > now:  # bulk gives way
                        return rows["bulk"] - now, None
                    moves["bulk"] = slot + bulk_interval
                values = ", ".join(f"(:k{i}, CAST(:v{i} AS float8))" for i in range(len(moves)))
                params: dict[str, object] = {}
                for i, (key, at) in enumerate(moves.items()):
                    params[f"k{i}"], params[f"v{i}"] = key, at
                await conn.execute(
                    sa.text(
                        "UPDATE send_budget AS b SET next_at = v.at FROM (VALUES "
                        f"{values}) AS v(key, at) WHERE b.key = v.key"
                    ),
                    params,
                )
                return slot - now, f"{place}|{moves[place]!r}"
        raise RuntimeError("the send budget's rows could not be made")

    def _ring_complete(self, limit: int) -> bool:
        return limit in self._rings

    async def _make_ring(self, conn, ring: list[str]) -> None:  # type: ignore[no-untyped-def]
        """The global row and the ring's rows, once (kept by `prune`)."""
        insert = postgresql.insert(send_budget).values(
            [{"key": key, "next_at": 0.0} for key in ("global", "urgent", "bulk", *ring)]
        )
        await conn.execute(insert.on_conflict_do_nothing(index_elements=[send_budget.c.key]))
        self._rings.add(len(ring))

    async def end(self, token: str) -> None:
        """The call of this slot has ended: it counts one more second from now."""
        key, _, until = token.partition("|")
        await self._execute(
            "UPDATE send_budget SET next_at = least(next_at, "
            "extract(epoch FROM clock_timestamp())::float8) "
            "WHERE key = :key AND next_at = :until",
            key=key,
            until=float(until),
        )

    async def _execute(self, sql: str, **params: object) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(sa.text(sql), params)

    async def prune(self, older_than_s: float = 3600) -> None:
        """Forget chats whose spacing ended long ago (one row per chat otherwise stays)."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                sa.delete(send_budget).where(
                    send_budget.c.key.startswith("chat:"),
                    send_budget.c.next_at
                    < sa.text("extract(epoch FROM clock_timestamp())::float8 - :age").bindparams(
                        age=older_than_s
                    ),
                )
            )
