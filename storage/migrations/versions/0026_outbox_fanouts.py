"""Alerts (issue 16, part 4): a job's alerts as one fan-out record, and the
indexes the alert matching probes.

A publish wrote one outbox row per recipient (~1,870 at 100,000 subscriptions,
four index entries each: ~10 ms of a publish, and every row in the outbox's
indexes made later commits dearer). Now it writes one `outbox_fanouts` row —
the recipients packed (8 bytes a chat id, ascending), a cursor — and the card
by language and part in `outbox_payloads` (its new fanout_id, language and part
columns). The outbox sender expands a fan-out into ordinary outbox rows a chunk
at a time, each chunk and the cursor in one transaction (storage/outbox_store.py).

`ix_users_no_alerts` (users banned or not freelancers) and `ix_profiles_away`
(away freelancers) are the small partial indexes the matching probes for each
candidate instead of the users' and profiles' tables (storage/search.py,
alert_audience).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NO_ALERTS = sa.text("banned OR NOT is_freelancer")
AWAY = sa.text("availability = 'away'")
OF_FANOUT = sa.text("fanout_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "outbox_fanouts",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("default_language", sa.String(8), nullable=False),
        sa.Column("recipients", sa.LargeBinary, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("cursor", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_fanouts")),
    )
    with op.batch_alter_table("outbox_payloads") as batch:
        batch.add_column(sa.Column("fanout_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("part", sa.SmallInteger, nullable=True))
    op.create_index(
        "ix_outbox_payloads_fanout",
        "outbox_payloads",
        ["fanout_id"],
        sqlite_where=OF_FANOUT,
        postgresql_where=OF_FANOUT,
    )
    op.create_index(
        "ix_users_no_alerts", "users", ["id"], sqlite_where=NO_ALERTS, postgresql_where=NO_ALERTS
    )
    op.create_index(
        "ix_profiles_away",
        "freelancer_profiles",
        ["user_id", "away_until"],
        sqlite_where=AWAY,
        postgresql_where=AWAY,
    )


def downgrade() -> None:
    op.drop_index("ix_profiles_away", table_name="freelancer_profiles")
    op.drop_index("ix_users_no_alerts", table_name="users")
    # Recipients not yet expanded are lost with the table, and so are the payloads
    # no outbox row names; rows already expanded keep theirs.
    op.execute(
        "DELETE FROM outbox_payloads WHERE fanout_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM outbox o WHERE o.payload_id = outbox_payloads.id)"
    )
    op.drop_index("ix_outbox_payloads_fanout", table_name="outbox_payloads")
    with op.batch_alter_table("outbox_payloads") as batch:
        batch.drop_column("part")
        batch.drop_column("language")
        batch.drop_column("fanout_id")
    op.drop_table("outbox_fanouts")
