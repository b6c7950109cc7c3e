"""The double-entry ledger on SQL: append-only, idempotent by transaction key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import LedgerTransaction, Posting
from domain.ledger import TransactionDraft
from storage.tables import ledger_transactions, postings


class SqlLedger:
    def __init__(self, session: AsyncSession, now: Callable[[], datetime]) -> None:
        self.session = session
        self.now = now

    async def has(self, key: str) -> bool:
        found = await self.session.scalar(
            sa.select(ledger_transactions.c.id).where(ledger_transactions.c.key == key)
        )
        return found is not None

    async def record(self, draft: TransactionDraft) -> bool:
        if await self.has(draft.key):
            return False
        tx = LedgerTransaction(
            key=draft.key, kind=draft.kind, memo=draft.memo, created_at=self.now()
        )
        try:
            # A savepoint, so a concurrent writer of the same key costs this
            # transaction nothing but the insert (PostgreSQL aborts otherwise).
            async with self.session.begin_nested():
                self.session.add(tx)
                await self.session.flush()
        except IntegrityError:
            return False
        self.session.add_all(
            Posting(
                transaction_id=tx.id,
                account=entry.account,
                amount=entry.amount,
                currency=draft.currency,
            )
            for entry in draft.entries
        )
        await self.session.flush()
        return True

    async def balance(self, account: str, currency: str | None = None) -> int:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(postings.c.amount), 0)).where(
            postings.c.account == account
        )
        if currency is not None:
            stmt = stmt.where(postings.c.currency == currency)
        return int(await self.session.scalar(stmt) or 0)

    async def balances(self, account_prefix: str = "") -> dict[str, int]:
        stmt = (
            sa.select(postings.c.account, sa.func.sum(postings.c.amount))
            .where(postings.c.account.startswith(account_prefix, autoescape=True))
            .group_by(postings.c.account)
        )
        return {account: int(total) for account, total in (await self.session.execute(stmt)).all()}

    async def total(self) -> int:
        """Sum of all postings: zero, always."""
        return int(
            await self.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(postings.c.amount), 0))
            )
            or 0
        )

    async def transactions(self, account_prefix: str = "") -> Sequence[LedgerTransaction]:
        stmt = sa.select(LedgerTransaction).order_by(LedgerTransaction.id)  # type: ignore[arg-type]
        if account_prefix:
            stmt = stmt.where(
                LedgerTransaction.id.in_(  # type: ignore[attr-defined]
                    sa.select(postings.c.transaction_id).where(
                        postings.c.account.startswith(account_prefix, autoescape=True)
                    )
                )
            )
        return list((await self.session.scalars(stmt)).all())

    async def postings_of(self, key: str) -> list[Posting]:
        stmt = (
            sa.select(Posting)
            .join(ledger_transactions, ledger_transactions.c.id == postings.c.transaction_id)
            .where(ledger_transactions.c.key == key)
            .order_by(postings.c.id)
        )
        return list((await self.session.scalars(stmt)).all())
