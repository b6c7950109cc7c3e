"""Alerts (issue 16, part 4): a payload many outbox rows share.

A job's alert card was copied into each of its ~2,000 outbox rows (~700 bytes of
ASCII-escaped JSON each: Cyrillic 6 bytes a letter), and writing those bytes
was most of a publish. Now the card is stored once per language and part in
outbox_payloads (compact JSON text), and each row names it (outbox.payload_id)
with {} as its own payload; the sender's claim and the ORM give the rows back
merged (storage/outbox_store.py, storage/tables.py). A shared payload is deleted
when its last row is delivered or dropped: ix_outbox_payload_id finds whether
any is still undelivered.

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


def downgrade() -> None:
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
