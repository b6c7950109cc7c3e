"""Alerts (issue 16, part 4): a payload many outbox rows share.

A job's alert card was copied into each of its ~2,000 outbox rows (~700 bytes of
ASCII-escaped JSON each: Cyrillic 6 bytes a letter), and writing those bytes
was most of a publish. Now the card is stored once per language and part in
outbox_payloads (compact JSON text), and each row names it (outbox.payload_id)
with {} as its own payload; the sender's claim and the ORM give the rows back
merged (storage/outbox_store.py, storage/tables.py). A shared payload is deleted
when its last row is delivered or dropped: ix_outbox_payload_id finds whether
any is still undelivered.

The sender's per-chat index ix_outbox_chat (chat_id, status, id) held every row
ever written; a fan-out's ~2,000 entries landed on as many pages, so the bigger
the outbox grew the more of it each publish rewrote (at ~200,000 rows, 12-14 ms
of a publish's commit on SQLite). It becomes two partial indexes: the undelivered
rows by chat (the claim's "earliest undelivered row per chat" and dropping a
chat's rows), and the rows that became messages by chat (the screen logic of
handlers/context.py).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SHARED = sa.text("payload_id IS NOT NULL")
QUEUED = sa.text("status IN ('pending', 'sending')")
SENT = sa.text("message_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "outbox_payloads",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_payloads")),
    )
    op.add_column("outbox", sa.Column("payload_id", sa.BigInteger, nullable=True))
    op.create_index(
        "ix_outbox_payload_id",
        "outbox",
        ["payload_id", "status"],
        sqlite_where=SHARED,
        postgresql_where=SHARED,
    )
    op.drop_index("ix_outbox_chat", table_name="outbox")
    for name, where in (("ix_outbox_chat_queued", QUEUED), ("ix_outbox_chat_sent", SENT)):
        op.create_index(
            name, "outbox", ["chat_id", "id"], sqlite_where=where, postgresql_where=where
        )


def downgrade() -> None:
    op.create_index("ix_outbox_chat", "outbox", ["chat_id", "status", "id"], unique=False)
    op.drop_index("ix_outbox_chat_sent", table_name="outbox")
    op.drop_index("ix_outbox_chat_queued", table_name="outbox")
    # Rows that share a payload get it back as their own before the column goes.
    op.execute(
        "UPDATE outbox SET payload = (SELECT p.payload FROM outbox_payloads p "
        "WHERE p.id = outbox.payload_id) WHERE payload_id IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM outbox_payloads p WHERE p.id = outbox.payload_id)"
    )
    op.drop_index("ix_outbox_payload_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("payload_id")
    op.drop_table("outbox_payloads")
