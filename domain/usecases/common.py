"""Helpers every use case shares: loading, re-authorising, auditing, locking."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, TypeVar

from domain.config import MarketConfig
from domain.entities import AuditEntry, Contract, Milestone, User
from domain.errors import NotAllowed, NotFound
from domain.ports import Clock, Repository, UnitOfWork
from domain.states import MilestoneStatus

T = TypeVar("T")


async def load(repo: Repository[T], key: Any, what: str, *, lock: bool = False) -> T:
    """The row, or NotFound with the code "<what>_not_found" (e.g. "job_not_found")."""
    obj = await (repo.get_for_update(key) if lock else repo.get(key))
    if obj is None:
        raise NotFound(f"{what}_not_found", f"There is no {what} {key}.", id=key)
    return obj


# The one order in which every use case locks rows, so no two can deadlock: the
# acting user first (the engine locks them when it registers the update), then
# other users in ascending id, the job, the contract, milestones in ascending id,
# the dispute, payments, payouts, and gateway calls last. A path that needs a row
# earlier in this order than one it holds reads it without a lock or restarts.
LOCK_ORDER = (
    "user",
    "job",
    "contract",
    "milestone",
    "dispute",
    "payment",
    "payout",
    "gateway call",
)


async def lock_all(repo: Repository[T], keys: Iterable[Any], what: str) -> list[T]:
    """Lock several rows in ascending key order, so two writers never deadlock."""
    return [await load(repo, key, what, lock=True) for key in sorted(set(keys))]


async def active_user(uow: UnitOfWork, user_id: int) -> User:
    """A registered, not banned user: everyone acting must be one."""
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user_not_found", "Send /start first.", id=user_id)
    if user.banned:
        raise NotAllowed("user_banned", "Your account is suspended.")
    return user


async def freelancer(uow: UnitOfWork, user_id: int) -> User:
    user = await active_user(uow, user_id)
    if not user.is_freelancer:
        raise NotAllowed("freelancer_only", "Only freelancers can do this.")
    return user


async def client(uow: UnitOfWork, user_id: int) -> User:
    user = await active_user(uow, user_id)
    if not user.is_client:
        raise NotAllowed("client_only", "Only clients can do this.")
    return user


def require_admin(config: MarketConfig, actor_id: int) -> None:
    if not config.is_admin(actor_id):
        raise NotAllowed("admin_only", "Only an admin can do this.")


def require_party(contract: Contract, actor_id: int, role: str | None = None) -> str:
    """The actor's side of the contract ("client"/"freelancer"), optionally a given one."""
    side = contract.party(actor_id)
    if side is None:
        raise NotAllowed("not_a_party", "This contract is not yours.")
    if role is not None and side != role:
        raise NotAllowed(f"{role}_only", f"Only the contract's {role} can do this.")
    return side


def other_party(contract: Contract, actor_id: int) -> int:
    return contract.freelancer_id if actor_id == contract.client_id else contract.client_id


async def milestone_with_contract(
    uow: UnitOfWork, milestone_id: int, *, lock: bool = True
) -> tuple[Milestone, Contract]:
    """The milestone (locked: it is the row a money movement changes) and its contract."""
    milestone = await load(uow.milestones, milestone_id, "milestone", lock=lock)
    contract = await load(uow.contracts, milestone.contract_id, "contract")
    return milestone, contract


async def audit(
    uow: UnitOfWork, clock: Clock, admin_id: int, action: str, target: str, **details: Any
) -> AuditEntry:
    return await uow.audit.add(
        AuditEntry(
            admin_id=admin_id,
            action=action,
            target=target,
            details=details,
            created_at=clock.now(),
        )
    )


# A service order's paid extra revision (service_orders.REVISION): its milestone
# follows the order's (service_orders.follow_order), so nothing settles it alone.
FOLLOWER_KIND = "revision"


def refuse_follower(milestone: Milestone) -> None:
    """A milestone that follows another is never released or refunded on its own
    (submitting and disputing one refuse it too, each with its own reason)."""
    if milestone.kind == FOLLOWER_KIND:
        raise NotAllowed(
            "order_revision_follows",
            "A paid extra revision is settled with the order: release or dispute the order.",
        )


async def clock_ran_out(
    uow: UnitOfWork, status: MilestoneStatus, now: datetime, limit: int
) -> AsyncIterator[tuple[Milestone, Contract]]:
    """Milestones in `status` whose clock (auto_release_at: the review window, or a
    partial offer's deadline) ran out by `now`, at most `limit`, each locked and
    looked at again (one answered or moved on meanwhile is left out), with its
    contract; one at a time, so the caller acts on each before the next is locked."""
    due = await uow.milestones.find(status=status, auto_release_at__lte=now, limit=limit)
    for found in due:
        milestone = await load(uow.milestones, found.id, "milestone", lock=True)
        at = milestone.auto_release_at
        if milestone.status is not status or at is None or at > now:
            continue
        yield milestone, await load(uow.contracts, milestone.contract_id, "contract")
