"""Services catalogue (issue 15): services, their packages and extras, and the
orders bought from them (domain/services.py).

service_orders.contract_id is nullable: the order row is written before the
contract it becomes, in the same unit of work.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def _service_fk(table: str, ondelete: str | None = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["service_id"],
        ["services.id"],
        name=op.f(f"fk_{table}_service_id_services"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["users.id"], name=op.f("fk_services_seller_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
    )
    op.create_index(op.f("ix_services_seller_id"), "services", ["seller_id"])
    op.create_index("ix_services_listing", "services", ["status", "category", "published_at", "id"])
    op.create_index("ix_services_seller", "services", ["seller_id", "status"])

    op.create_table(
        "service_packages",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("service_id", BigInt, nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("included", sa.Text(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("delivery_days", sa.Integer(), nullable=False),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_service_packages_price_positive")),
        sa.CheckConstraint(
            "delivery_days >= 1", name=op.f("ck_service_packages_delivery_days_positive")
        ),
        sa.CheckConstraint(
            "revisions >= 0", name=op.f("ck_service_packages_revisions_not_negative")
        ),
        _service_fk("service_packages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_packages")),
        sa.UniqueConstraint("service_id", "tier", name="uq_service_packages_service_tier"),
    )
    op.create_index(op.f("ix_service_packages_service_id"), "service_packages", ["service_id"])

    op.create_table(
        "service_extras",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("service_id", BigInt, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("days_delta", sa.Integer(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_service_extras_price_positive")),
        _service_fk("service_extras"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_extras")),
    )
    op.create_index(op.f("ix_service_extras_service_id"), "service_extras", ["service_id"])

    op.create_table(
        "service_orders",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("service_id", BigInt, nullable=False),
        sa.Column("contract_id", BigInt, nullable=True),
        sa.Column("buyer_id", sa.BigInteger(), nullable=False),
        sa.Column("seller_id", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("package_name", sa.String(length=60), nullable=False),
        sa.Column("package_included", sa.Text(), nullable=False),
        sa.Column("package_price", sa.BigInteger(), nullable=False),
        sa.Column("package_delivery_days", sa.Integer(), nullable=False),
        sa.Column("package_revisions", sa.Integer(), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("accept_by", UTC, nullable=True),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("revisions_allowed", sa.Integer(), nullable=False),
        sa.Column("revisions_used", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=True),
        sa.Column("paid_at", UTC, nullable=True),
        sa.Column("accepted_at", UTC, nullable=True),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.Column("ended_at", UTC, nullable=True),
        sa.CheckConstraint("total > 0", name=op.f("ck_service_orders_total_positive")),
        _service_fk("service_orders", ondelete=None),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_service_orders_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_service_orders_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["users.id"], name=op.f("fk_service_orders_seller_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_orders")),
    )
    op.create_index(op.f("ix_service_orders_service_id"), "service_orders", ["service_id"])
    op.create_index(op.f("ix_service_orders_contract_id"), "service_orders", ["contract_id"])
    op.create_index(op.f("ix_service_orders_buyer_id"), "service_orders", ["buyer_id"])
    op.create_index("ix_service_orders_seller", "service_orders", ["seller_id", "status"])
    op.create_index("ix_service_orders_accept_by", "service_orders", ["status", "accept_by"])
    op.create_index("ix_service_orders_due_at", "service_orders", ["status", "due_at"])


def downgrade() -> None:
    for name in (
        "ix_service_orders_due_at",
        "ix_service_orders_accept_by",
        "ix_service_orders_seller",
        "ix_service_orders_buyer_id",
        "ix_service_orders_contract_id",
        "ix_service_orders_service_id",
    ):
        op.drop_index(name, table_name="service_orders")
    op.drop_table("service_orders")
    op.drop_index("ix_service_extras_service_id", table_name="service_extras")
    op.drop_table("service_extras")
    op.drop_index("ix_service_packages_service_id", table_name="service_packages")
    op.drop_table("service_packages")
    for name in ("ix_services_seller", "ix_services_listing", "ix_services_seller_id"):
        op.drop_index(name, table_name="services")
    op.drop_table("services")
