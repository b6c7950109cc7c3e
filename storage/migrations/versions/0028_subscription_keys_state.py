"""Alert matching (issue 16, part 4): who may get alerts, kept in subscription_keys.

A publish found its audience in subscription_keys, then probed the users and
profiles tables for each of its ~1,870 candidates to leave out those who get no
alerts — banned, not freelancers, away — about 2.5 ms of a ~15 ms publish. The
keys now carry that state: `barred` (banned or not a freelancer) and
`away_until` (NULL unless away; the away's last day, 9999-12-31 for "until I
say"), leading and closing the covering index, so the audience is the index's
ranges alone. ix_users_no_alerts (0026), which the probes read, goes.

On PostgreSQL a fan-out's recipients (outbox_fanouts.recipients) are stored
uncompressed (STORAGE EXTERNAL): pglz spent ~3 ms of each publish compressing
them, for almost no gain.

Triggers keep them, so no write can forget (an ORM flush, a Core UPDATE of
users, an admin's ban, a profile edit, a deletion): a key row takes its user's
state when inserted; an update of users.banned / is_freelancer, and any insert,
update of availability / away_until, or delete of a freelancer profile, rewrites
that user's keys (ix_subscription_keys_user). On PostgreSQL the key row's
trigger reads the user FOR SHARE, and a ban (an UPDATE of the user) or a profile's
trigger (FOR NO KEY UPDATE) locks the same row, so of two such transactions at
once the second waits for the first and then sees what it committed: a new
subscription never keeps the state its user had before a ban or an away set at
the same moment (under READ COMMITTED neither would see the other's rows).

SQLite drops a table's triggers when a migration rebuilds the table
(batch_alter_table with recreate): a later migration that rebuilds users,
freelancer_profiles or subscription_keys must create these again (`create()`).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_ALERTS = sa.text("banned OR NOT is_freelancer")  # migration 0026's partial index
FOREVER = "9999-12-31"  # away with no end date
OLD_MATCH = ["mode", "category", "skill", "min_budget", "user_id", "keywords", "subscription_id"]
MATCH = ["barred", *OLD_MATCH, "away_until"]

# What a key row of user `u` (and their profile `p`) holds, in SQL both databases read.
BARRED = "(u.banned OR NOT u.is_freelancer)"
AWAY = "CASE WHEN p.availability = 'away' THEN coalesce(p.away_until, {forever}) END"

# A profile written (inserted or updated): its user's keys take its away state.
_SQLITE_PROFILE_AWAY = f"""
        UPDATE subscription_keys SET away_until =
            (SELECT {AWAY.format(forever=f"'{FOREVER}'")} FROM (SELECT new.availability AS
             availability, new.away_until AS away_until) p)
        WHERE user_id = new.user_id;"""

SQLITE = [
    f"""CREATE TRIGGER subscription_keys_state AFTER INSERT ON subscription_keys BEGIN
        UPDATE subscription_keys SET
            barred = coalesce((SELECT {BARRED} FROM users u WHERE u.id = new.user_id), 0),
            away_until = (SELECT {AWAY.format(forever=f"'{FOREVER}'")}
                          FROM freelancer_profiles p WHERE p.user_id = new.user_id)
        WHERE subscription_id = new.subscription_id
            AND category = new.category AND skill = new.skill;
    END""",
    """CREATE TRIGGER subscription_keys_user AFTER UPDATE OF banned, is_freelancer ON users
        WHEN old.banned IS NOT new.banned OR old.is_freelancer IS NOT new.is_freelancer BEGIN
        UPDATE subscription_keys SET barred = (new.banned OR NOT new.is_freelancer)
        WHERE user_id = new.id;
    END""",
    f"""CREATE TRIGGER subscription_keys_profile_insert AFTER INSERT ON freelancer_profiles
        BEGIN {_SQLITE_PROFILE_AWAY} END""",
    f"""CREATE TRIGGER subscription_keys_profile_update
        AFTER UPDATE OF availability, away_until ON freelancer_profiles
        BEGIN {_SQLITE_PROFILE_AWAY} END""",
    """CREATE TRIGGER subscription_keys_profile_delete AFTER DELETE ON freelancer_profiles BEGIN
        UPDATE subscription_keys SET away_until = NULL WHERE user_id = old.user_id;
    END""",
]
SQLITE_DROP = [
    "subscription_keys_state",
    "subscription_keys_user",
    "subscription_keys_profile_insert",
    "subscription_keys_profile_update",
    "subscription_keys_profile_delete",
]

POSTGRESQL = [
    f"""CREATE FUNCTION subscription_keys_state() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {BARRED} INTO NEW.barred FROM users u WHERE u.id = NEW.user_id FOR SHARE;
        NEW.barred := coalesce(NEW.barred, false);
        SELECT {AWAY.format(forever=f"DATE '{FOREVER}'")} INTO NEW.away_until
            FROM freelancer_profiles p WHERE p.user_id = NEW.user_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER subscription_keys_state BEFORE INSERT ON subscription_keys
        FOR EACH ROW EXECUTE FUNCTION subscription_keys_state()""",
    """CREATE FUNCTION subscription_keys_user() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE subscription_keys SET barred = (NEW.banned OR NOT NEW.is_freelancer)
        WHERE user_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER subscription_keys_user AFTER UPDATE OF banned, is_freelancer ON users
        FOR EACH ROW WHEN (OLD.banned IS DISTINCT FROM NEW.banned
                           OR OLD.is_freelancer IS DISTINCT FROM NEW.is_freelancer)
        EXECUTE FUNCTION subscription_keys_user()""",
    f"""CREATE FUNCTION subscription_keys_profile() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The user's row locked as a ban would lock it: a subscription's keys being
        -- written at the same moment (their trigger reads the user FOR SHARE) wait
        -- for this transaction, or this one for theirs, and the second sees the first.
        IF TG_OP = 'DELETE' THEN
            PERFORM 1 FROM users WHERE id = OLD.user_id FOR NO KEY UPDATE;
            UPDATE subscription_keys SET away_until = NULL WHERE user_id = OLD.user_id;
        ELSE
            PERFORM 1 FROM users WHERE id = NEW.user_id FOR NO KEY UPDATE;
            UPDATE subscription_keys SET away_until = (
                SELECT {AWAY.format(forever=f"DATE '{FOREVER}'")}
                FROM (SELECT NEW.availability AS availability, NEW.away_until AS away_until) p
            ) WHERE user_id = NEW.user_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER subscription_keys_profile
        AFTER INSERT OR DELETE OR UPDATE OF availability, away_until ON freelancer_profiles
        FOR EACH ROW EXECUTE FUNCTION subscription_keys_profile()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS subscription_keys_profile ON freelancer_profiles",
    "DROP FUNCTION IF EXISTS subscription_keys_profile()",
    "DROP TRIGGER IF EXISTS subscription_keys_user ON users",
    "DROP FUNCTION IF EXISTS subscription_keys_user()",
    "DROP TRIGGER IF EXISTS subscription_keys_state ON subscription_keys",
    "DROP FUNCTION IF EXISTS subscription_keys_state()",
]


def create() -> None:
    """The triggers, for this database."""
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def drop() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_DROP:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in POSTGRESQL_DROP:
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("subscription_keys") as batch:
        batch.add_column(sa.Column("barred", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("away_until", sa.Date, nullable=True))
    op.drop_index("ix_subscription_keys_match", table_name="subscription_keys")
    op.create_index("ix_subscription_keys_match", "subscription_keys", MATCH)
    op.create_index("ix_subscription_keys_user", "subscription_keys", ["user_id"])
    op.drop_index("ix_users_no_alerts", table_name="users")  # nothing reads it now
    create()
    if op.get_bind().dialect.name == "postgresql":
        # A fan-out's packed recipients (~15 kB a publish, migration 0026) were
        # compressed by pglz on the way to TOAST: 4.1 ms of a publish's INSERT and
        # commit, 0.7 ms stored as they are (sorted 8-byte ids hardly compress).
        op.execute("ALTER TABLE outbox_fanouts ALTER COLUMN recipients SET STORAGE EXTERNAL")
    # The existing keys take their users' state.
    forever = f"'{FOREVER}'" if op.get_bind().dialect.name == "sqlite" else f"DATE '{FOREVER}'"
    op.execute(
        f"UPDATE subscription_keys SET"
        f" barred = coalesce((SELECT {BARRED} FROM users u"
        f" WHERE u.id = subscription_keys.user_id), false),"
        f" away_until = (SELECT {AWAY.format(forever=forever)} FROM freelancer_profiles p"
        f" WHERE p.user_id = subscription_keys.user_id)"
    )


def downgrade() -> None:
    drop()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox_fanouts ALTER COLUMN recipients SET STORAGE EXTENDED")
    op.create_index(
        "ix_users_no_alerts", "users", ["id"], sqlite_where=NO_ALERTS, postgresql_where=NO_ALERTS
    )
    op.drop_index("ix_subscription_keys_user", table_name="subscription_keys")
    op.drop_index("ix_subscription_keys_match", table_name="subscription_keys")
    op.create_index("ix_subscription_keys_match", "subscription_keys", OLD_MATCH)
    with op.batch_alter_table("subscription_keys") as batch:
        batch.drop_column("away_until")
        batch.drop_column("barred")
