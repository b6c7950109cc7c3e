"""Buying a service (issue 15): an order becomes a contract with one milestone, and
from then on the contract machinery does the rest — no second copy of any of it.

How an order maps onto the contract machinery:

- **The contract.** An order's contract has no job: `contracts.job_id` is NULL
  (migration 0020 made it nullable; nothing that lists jobs reads contracts, and
  the four modules that read `contract.job_id` take a missing one) and the order
  row points at it (`service_orders.contract_id`). A contract without a job IS a
  service order's; `order_of` finds the order by the contract. No fake job is
  made: it would show in job lists, alerts and searches.
- **Paying before the seller accepts.** The contract is created OFFERED — the
  buyer offers, the seller decides, exactly what an offer means — with no offer
  expiry of its own (`expires_at` NULL: the order's `accept_by` is the clock, run
  by `expire_unaccepted`). Its one milestone (amount = package + extras, kind
  "work") is funded through the one funding path (payments.start_funding →
  checkout → confirm_payment), which accepts an OFFERED contract for a service
  order's milestone only (`payments.fundable_statuses`). `confirm_payment` calls
  `order_paid` in its transaction: the order waits for the seller.
- **Accept** makes the contract ACTIVE (the offer's own transition) and starts the
  delivery clock (`due_at`). **Decline**, **silence** (the tick) and a **late
  delivery cancelled by the buyer** refund in full through settlement.settle
  (share 0: the client fee too; the refund is a gateway call keyed
  `refund:milestone:<id>`, made after the commit, once).
- **Delivery** is milestones.submit_work; its review window is the contract's
  own `auto_release_days` (GIGBOT_SERVICE_AUTO_COMPLETE_DAYS), so the existing
  auto-release tick completes it. **Revisions** are milestones.request_changes,
  counted here against the package's number (`revision_requested`); past them,
  a **paid extra revision** is a milestone of kind "revision" funded through the
  same path (the client fee on top); paid, it adds one revision and its money
  stays in escrow like the order's: it follows the order's milestone when that is
  settled (`follow_order`) — released with the acceptance (approval or
  auto-completion), refunded with a refund (a dispute, a late order cancelled),
  split in the same proportion when a dispute splits the order. A revision's
  milestone takes no action of its own (no delivery). **Approval**, disputes,
  reviews and the ledger are unchanged; `settled` keeps the order's status in step
  once the milestone is settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import ledger, validation
from domain.config import MarketConfig
from domain.entities import Contract, Milestone, Payment
from domain.errors import NotAllowed, NotFound, ValidationError
from domain.events import (
    ServiceOrderAccepted,
    ServiceOrderLapsed,
    ServiceOrderPaid,
    ServiceOrderRefunded,
    ServiceOrderReminder,
    ServiceRevisionPaid,
    ServiceRevisionsSettled,
)
from domain.fees import Settlement, settlement
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.services import (
    Service,
    ServiceExtra,
    ServiceOrder,
    ServiceOrderStatus,
    ServicePackage,
    ServiceStatus,
    delivery_days_of,
    order_total,
)
from domain.states import ContractStatus, MilestoneStatus
from domain.usecases import payments
from domain.usecases.blocking import require_contact
from domain.usecases.common import FOLLOWER_KIND, active_user, load
from domain.usecases.contracts import milestone_parties
from domain.usecases.settlement import settle

REVISION = FOLLOWER_KIND  # the milestone kind of a paid extra revision ("revision")
REVISION_TITLE = "Extra revision"  # its stored title; screens show it translated
ANSWER_MAX = 1000
BATCH = 100
SO = ServiceOrderStatus
# Orders whose work is under way (the seller's queue on /orders, beside awaiting ones).
ACTIVE_ORDERS = (SO.AWAITING_ACCEPTANCE, SO.IN_PROGRESS, SO.DELIVERED)


# --- reading ---------------------------------------------------------------------------


async def order_of(uow: UnitOfWork, contract_id: int, *, lock: bool = False) -> ServiceOrder | None:
    """The order a contract was made for (None: a job's contract)."""
    found = await uow.service_orders.find(contract_id=contract_id, limit=1)
    if not found:
        return None
    return await uow.service_orders.get_for_update(found[0].id) if lock else found[0]


async def _order(uow: UnitOfWork, order_id: int, actor_id: int, side: str) -> ServiceOrder:
    order = await load(uow.service_orders, order_id, "order")
    if (order.buyer_id if side == "buyer" else order.seller_id) != actor_id:
        raise NotFound("order_not_found", "There is no such order.", id=order_id)
    return order


async def view_order(uow: UnitOfWork, actor_id: int, order_id: int) -> ServiceOrder:
    """An order its buyer or seller may look at."""
    order = await load(uow.service_orders, order_id, "order")
    if actor_id not in (order.buyer_id, order.seller_id):
        raise NotFound("order_not_found", "There is no such order.", id=order_id)
    return order


async def main_milestone(uow: UnitOfWork, contract_id: int, *, lock: bool = True) -> Milestone:
    """The order's one milestone of work (paid extra revisions are milestones too)."""
    found = await uow.milestones.find(contract_id=contract_id, kind="work", order_by="id", limit=1)
    if not found:
        raise NotFound("milestone_not_found", "The order has no milestone.", id=contract_id)
    return await load(uow.milestones, found[0].id, "milestone", lock=lock)


async def _locked(uow: UnitOfWork, order_id: int) -> tuple[ServiceOrder, Contract, Milestone]:
    """Contract, milestone, then the order: the lock order of every money path
    (domain/usecases/common.py's LOCK_ORDER, the order after the milestone)."""
    found = await load(uow.service_orders, order_id, "order")
    if found.contract_id is None:
        raise NotFound("order_not_found", "There is no such order.", id=order_id)
    contract = await load(uow.contracts, found.contract_id, "contract", lock=True)
    milestone = await main_milestone(uow, found.contract_id)
    order = await load(uow.service_orders, order_id, "order", lock=True)
    return order, contract, milestone


# --- buying ---------------------------------------------------------------------------


async def buyable(
    uow: UnitOfWork, actor_id: int, service_id: int, tier: str
) -> tuple[Service, ServicePackage, list[ServiceExtra]]:
    """A package someone may buy now: the service is active, not their own, and
    neither blocked the other."""
    await active_user(uow, actor_id)
    service = await load(uow.services, service_id, "service")
    if service.status is not ServiceStatus.ACTIVE:
        raise NotAllowed("order_unavailable", "This service is not on sale now.")
    if service.seller_id == actor_id:
        raise NotAllowed("order_own_service", "You cannot buy your own service.")
    package = await uow.services.package(service_id, tier)
    if package is None:
        raise NotFound("order_package_gone", "This package is no longer offered.")
    seller = await uow.users.get(service.seller_id)
    if seller is None or seller.banned:
        raise NotAllowed("order_unavailable", "This service is not on sale now.")
    await require_contact(uow, actor_id, service.seller_id)
    return service, package, await uow.services.extras(service_id)


def clean_answer(text: str) -> str:
    return validation.clean_text(text, "answer", 1, ANSWER_MAX)


def chosen_extras(extras: Sequence[ServiceExtra], ids: Sequence[int]) -> list[dict[str, object]]:
    """The snapshot of the extras picked (by id, in the service's order)."""
    picked = set(ids)
    known = {x.id for x in extras}
    if picked - known:
        raise NotAllowed("order_changed", "The service changed; open it again.")
    return [
        {"id": x.id, "title": x.title, "price": x.price, "days_delta": x.days_delta}
        for x in extras
        if x.id in picked
    ]


async def place_order(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    service_id: int,
    tier: str,
    extra_ids: Sequence[int],
    answers: Sequence[str],
    shown_total: int,
    shown_in: int | None = None,
) -> tuple[ServiceOrder, Payment]:
    """The buyer pays: the order, its contract (OFFERED, no job) with one milestone
    of package + extras, and the payment of the funding quote (the checkout opens
    after the commit, as for any milestone). `shown_total` is the total the buyer
    saw: a service changed meanwhile is refused, never charged differently."""
    service, package, extras = await buyable(uow, actor_id, service_id, tier)
    picked = chosen_extras(extras, extra_ids)
    if len(answers) != len(service.questions):
        raise NotAllowed("order_changed", "The service changed; open it again.")
    cleaned = [clean_answer(a) for a in answers]
    total = order_total(package.price, picked)
    if total != shown_total:
        raise NotAllowed("order_changed", "The service changed; open it again.")
    now = clock.now()
    days = delivery_days_of(package.delivery_days, picked)
    order = await uow.service_orders.add(
        ServiceOrder(
            service_id=service_id,
            buyer_id=actor_id,
            seller_id=service.seller_id,
            tier=package.tier,
            package_name=package.name,
            package_included=package.included,
            package_price=package.price,
            package_delivery_days=days,
            package_revisions=package.revisions,
            extras=picked,
            answers=[
                {"question": q, "answer": a}
                for q, a in zip(service.questions, cleaned, strict=True)
            ],
            total=total,
            currency=service.currency,
            revisions_allowed=package.revisions,
            created_at=now,
        )
    )
    contract = await uow.contracts.add(
        Contract(
            job_id=None,
            client_id=actor_id,
            freelancer_id=service.seller_id,
            title=validation.clean_text(f"{service.title} — {package.name}", "title", 1, 200),
            currency=service.currency,
            client_fee_bp=config.client_fee_bp,
            freelancer_fee_bp=config.freelancer_fee_bp,
            offered_at=now,
            expires_at=None,  # the order's accept_by is its clock (expire_unaccepted)
            auto_release_days=config.service_auto_complete_days,
        )
    )
    milestone = await uow.milestones.add(
        Milestone(
            contract_id=contract.id,  # type: ignore[arg-type]
            position=1,
            title=validation.clean_text(package.name, "title", 1, validation.MILESTONE_TITLE_MAX),
            amount=total,
            currency=service.currency,
            due_date=(now + timedelta(days=days)).date(),
        )
    )
    order.contract_id = contract.id
    payment = await payments.start_funding(
        uow,
        clock,
        config,
        gateway,
        actor_id,
        milestone.id,
        shown_in,  # type: ignore[arg-type]
    )
    return order, payment


async def pay_again(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    order_id: int,
    shown_in: int | None = None,
) -> Payment:
    """The buyer's Pay on an order not paid yet: the pending payment (the same
    checkout), or a new attempt after a failed one."""
    await active_user(uow, actor_id)
    await _order(uow, order_id, actor_id, "buyer")
    order, _, milestone = await _locked(uow, order_id)
    if order.status is not SO.AWAITING_PAYMENT:
        raise NotAllowed("order_paid", "This order is paid already.")
    return await payments.start_funding(
        uow,
        clock,
        config,
        gateway,
        actor_id,
        milestone.id,
        shown_in,  # type: ignore[arg-type]
    )


async def order_paid(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, milestone: Milestone, contract: Contract
) -> None:
    """confirm_payment funded an order's milestone (it holds the milestone's lock):
    the seller has config.service_accept_hours to accept."""
    order = await order_of(uow, contract.id, lock=True)  # type: ignore[arg-type]
    assert order is not None and order.id is not None
    now = clock.now()
    order.apply("pay")
    order.paid_at = now
    order.accept_by = now + timedelta(hours=config.service_accept_hours)
    uow.emit(
        ServiceOrderPaid(
            order_id=order.id,
            accept_by=order.accept_by.isoformat(),
            **milestone_parties(milestone, contract),
        )
    )


# --- the seller decides ----------------------------------------------------------------


async def accept_order(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, order_id: int
) -> ServiceOrder:
    """The seller accepts a paid order within its window: the contract is active and
    the delivery is due after the (extras-adjusted) days."""
    await active_user(uow, actor_id)
    await _order(uow, order_id, actor_id, "seller")
    order, contract, milestone = await _locked(uow, order_id)
    now = clock.now()
    if order.status is SO.AWAITING_ACCEPTANCE and order.accept_by and now >= order.accept_by:
        raise NotAllowed("order_lapsed", "The time to accept this order is over.")
    order.apply("accept")  # IllegalTransition on a second tap
    contract.apply("accept")
    milestone.reminders_sent = 0  # the acceptance's wait is over (remind_unaccepted)
    contract.accepted_at = now
    order.accepted_at = now
    order.due_at = now + timedelta(days=order.package_delivery_days)
    milestone.due_date = order.due_at.date()
    assert order.id is not None
    uow.emit(
        ServiceOrderAccepted(
            order_id=order.id,
            due_at=order.due_at.isoformat(),
            **milestone_parties(milestone, contract),
        )
    )
    return order


async def _refund(
    uow: UnitOfWork,
    clock: Clock,
    gateway: PaymentGateway | None,
    order: ServiceOrder,
    contract: Contract,
    milestone: Milestone,
    why: str,
) -> Settlement:
    """Everything back to the buyer (the client fee too) through the one settlement."""
    split = await settle(uow, clock, milestone, contract, 0, "refund", "refund", gateway)
    order.ended_at = clock.now()
    assert order.id is not None
    await follow_order(uow, contract, milestone, order.id)
    uow.emit(
        ServiceOrderRefunded(
            order_id=order.id,
            why=why,
            to_client=split.to_client,
            **milestone_parties(milestone, contract),
        )
    )
    return split


async def decline_order(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway | None,
    actor_id: int,
    order_id: int,
) -> Settlement:
    """The seller declines a paid order: the buyer gets everything back."""
    await active_user(uow, actor_id)
    await _order(uow, order_id, actor_id, "seller")
    order, contract, milestone = await _locked(uow, order_id)
    order.apply("decline")  # IllegalTransition unless it awaits acceptance
    contract.apply("decline")
    return await _refund(uow, clock, gateway, order, contract, milestone, "declined")


def is_late(order: ServiceOrder, milestone: Milestone, now: datetime) -> bool:
    """Past its due time with nothing delivered: the buyer may cancel."""
    return (
        order.status is SO.IN_PROGRESS
        and milestone.status is MilestoneStatus.FUNDED
        and order.due_at is not None
        and now > order.due_at
    )


async def cancel_late(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway | None,
    actor_id: int,
    order_id: int,
) -> Settlement:
    """The buyer cancels an order not delivered by its due time: a full refund, and
    the contract ends (both may still rate each other)."""
    await active_user(uow, actor_id)
    await _order(uow, order_id, actor_id, "buyer")
    order, contract, milestone = await _locked(uow, order_id)
    now = clock.now()
    if not is_late(order, milestone, now):
        raise NotAllowed("order_not_late", "The order is not late.")
    order.apply("cancel")
    split = await _refund(uow, clock, gateway, order, contract, milestone, "late")
    contract.apply("end")
    contract.ended_at = now
    contract.review_deadline = now + timedelta(days=config.review_window_days)
    return split


# --- the clock -------------------------------------------------------------------------

REMIND_LEFT = 3  # the seller is reminded with 1/REMIND_LEFT of the acceptance window left


async def remind_unaccepted(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Paid orders still waiting for the seller two thirds into the acceptance window
    (a third of GIGBOT_SERVICE_ACCEPT_HOURS left before `accept_by`): the seller is
    reminded, once. The order's milestone counts it in `reminders_sent` ("reminders
    of the current wait", committed with the reminder's outbox row), so a second
    tick, a second process or a restart never sends it again; accepting resets it
    for the nudges of the work's own wait. A window already over is not reminded
    (expire_unaccepted refunds it). Their ids."""
    now = clock.now()
    left = timedelta(hours=config.service_accept_hours) / REMIND_LEFT
    due = await uow.service_orders.find(
        status=SO.AWAITING_ACCEPTANCE,
        accept_by__gt=now,
        accept_by__lte=now + left,
        order_by="id",
        limit=limit,
    )
    done: list[int] = []
    for found in due:
        order, contract, milestone = await _locked(uow, found.id)  # type: ignore[arg-type]
        if order.status is not SO.AWAITING_ACCEPTANCE or order.accept_by is None:
            continue
        if not now < order.accept_by <= now + left or milestone.reminders_sent:
            continue  # accepted, declined or reminded meanwhile
        milestone.reminders_sent = 1
        uow.emit(
            ServiceOrderReminder(
                order_id=order.id,  # type: ignore[arg-type]
                accept_by=order.accept_by.isoformat(),
                **milestone_parties(milestone, contract),
            )
        )
        done.append(found.id)  # type: ignore[arg-type]
    return done


async def expire_unaccepted(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway | None = None,
    limit: int = BATCH,
) -> list[int]:
    """Paid orders the seller left unanswered past accept_by: refunded in full.
    Each row is locked and re-checked, so a seller accepting at the same moment
    and a second process never make it act twice. Their ids."""
    now = clock.now()
    due = await uow.service_orders.find(
        status=SO.AWAITING_ACCEPTANCE, accept_by__lte=now, order_by="id", limit=limit
    )
    done: list[int] = []
    for found in due:
        order, contract, milestone = await _locked(uow, found.id)  # type: ignore[arg-type]
        if order.status is not SO.AWAITING_ACCEPTANCE or order.accept_by is None:
            continue
        if order.accept_by > now:
            continue
        order.apply("expire")
        contract.apply("expire")
        await _refund(uow, clock, gateway, order, contract, milestone, "expired")
        done.append(found.id)  # type: ignore[arg-type]
    return done


async def expire_unpaid(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Orders never paid within config.service_accept_hours of being placed end: the
    milestone is cancelled (a payment completing later is refunded as a late one,
    payments.confirm_payment), the contract withdrawn. Their ids."""
    now = clock.now()
    cutoff = now - timedelta(hours=config.service_accept_hours)
    due = await uow.service_orders.find(
        status=SO.AWAITING_PAYMENT, created_at__lte=cutoff, order_by="id", limit=limit
    )
    done: list[int] = []
    for found in due:
        if found.contract_id is None:
            continue
        order, contract, milestone = await _locked(uow, found.id)  # type: ignore[arg-type]
        if order.status is not SO.AWAITING_PAYMENT:
            continue
        order.apply("expire")
        order.ended_at = now
        if milestone.status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
            milestone.apply("cancel")
            milestone.settled_at = now
        for payment in await uow.payments.find(milestone_id=milestone.id, status="pending"):
            payment.status, payment.updated_at = "expired", now
        if contract.status is ContractStatus.OFFERED:
            contract.apply("withdraw")
        assert order.id is not None
        uow.emit(
            ServiceOrderLapsed(
                order_id=order.id,
                contract_id=contract.id,  # type: ignore[arg-type]
                client_id=contract.client_id,
                freelancer_id=contract.freelancer_id,
            )
        )
        done.append(found.id)  # type: ignore[arg-type]
    return done


# --- hooks of the contract machinery ------------------------------------------------------


async def delivered(
    uow: UnitOfWork, clock: Clock, contract: Contract, milestone: Milestone
) -> None:
    """milestones.submit_work on an order's milestone: the order is delivered. A paid
    extra revision's milestone is delivered with the order's, never on its own."""
    if milestone.kind == REVISION:
        raise NotAllowed("order_revision_no_delivery", "Deliver on the order itself.")
    if milestone.kind != "work":
        return
    order = await order_of(uow, contract.id, lock=True)  # type: ignore[arg-type]
    if order is None or order.status not in (SO.IN_PROGRESS, SO.DELIVERED):
        return
    order.apply("deliver")
    order.delivered_at = clock.now()


async def revision_requested(
    uow: UnitOfWork, clock: Clock, contract: Contract, milestone: Milestone
) -> None:
    """milestones.request_changes on an order's milestone: one of the package's
    revisions is used; past them the request is refused (a paid extra revision
    adds one)."""
    if milestone.kind != "work":
        return
    order = await order_of(uow, contract.id, lock=True)  # type: ignore[arg-type]
    if order is None:
        return
    if order.revisions_used >= order.revisions_allowed:
        raise NotAllowed(
            "order_revisions_used",
            "The package's revisions are used up.",
            allowed=order.revisions_allowed,
        )
    order.revisions_used += 1
    if order.status is SO.DELIVERED:
        order.apply("request_revision")


async def settled(uow: UnitOfWork, contract: Contract) -> None:
    """After a settlement on an order's contract (contracts.offer_end_when_settled):
    the order is completed once its milestone was paid out (released or split),
    cancelled once it was refunded whole (by a dispute)."""
    found = await order_of(uow, contract.id)  # type: ignore[arg-type]
    if found is None or found.status not in (SO.IN_PROGRESS, SO.DELIVERED):
        return
    milestone = await main_milestone(uow, contract.id, lock=False)  # type: ignore[arg-type]
    if milestone.status not in (
        MilestoneStatus.RELEASED,
        MilestoneStatus.SPLIT,
        MilestoneStatus.REFUNDED,
    ):
        return
    # The revisions' milestones are locked before the order (milestones, then the order).
    await follow_order(uow, contract, milestone, found.id)  # type: ignore[arg-type]
    order = await order_of(uow, contract.id, lock=True)  # type: ignore[arg-type]
    if order is None or order.status not in (SO.IN_PROGRESS, SO.DELIVERED):
        return
    order.apply("cancel" if milestone.status is MilestoneStatus.REFUNDED else "complete")
    order.ended_at = milestone.settled_at


@dataclass(frozen=True, slots=True)
class _At:
    """The clock of a settlement that follows another: the same moment."""

    at: datetime

    def now(self) -> datetime:
        return self.at


async def share_of(uow: UnitOfWork, milestone: Milestone, contract: Contract) -> int:
    """The freelancer's share of a settled milestone's amount, read from its settle
    transaction in the ledger (the one record of what was decided): what went back
    to the client falls strictly as the share grows (fees.settlement), so one share
    gives it."""
    if milestone.status is MilestoneStatus.RELEASED:
        return milestone.amount
    if milestone.status is MilestoneStatus.REFUNDED:
        return 0
    back = sum(
        p.amount
        for p in await uow.ledger.postings_of(ledger.settle_key(milestone.id))  # type: ignore[arg-type]
        if p.account.startswith("gateway:")
    )
    low, high = 0, milestone.amount
    while low < high:  # the smallest share giving back no more than `back`
        mid = (low + high) // 2
        got = settlement(milestone.amount, mid, contract.client_fee_bp, contract.freelancer_fee_bp)
        if got.to_client > back:
            low = mid + 1
        else:
            high = mid
    return low


async def follow_order(uow: UnitOfWork, contract: Contract, main: Milestone, order_id: int) -> None:
    """The order's milestone was settled (its lock held): its paid extra revisions
    follow it, in the same transaction — released when it was released, refunded
    when it was refunded, split in its proportion (rounded down for the seller)
    when a dispute split it. One not paid yet is cancelled (a payment completing
    later goes back as a late one, payments.confirm_payment); one disputed or frozen
    on its own goes its own way. Every movement is the one settlement
    (settlement.settle), keyed `settle:milestone:<id>`, so it happens once."""
    revisions = await uow.milestones.find(contract_id=contract.id, kind=REVISION, order_by="id")
    if not revisions or main.settled_at is None:
        return
    at = _At(main.settled_at)
    main_share = await share_of(uow, main, contract)
    count = to_freelancer = to_client = 0
    for found in revisions:
        m = await load(uow.milestones, found.id, "milestone", lock=True)
        if m.status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
            m.apply("cancel")
            m.settled_at = at.now()
            for payment in await uow.payments.find(milestone_id=m.id, status="pending"):
                payment.status, payment.updated_at = "expired", at.now()
            continue
        if m.status is not MilestoneStatus.FUNDED:
            continue
        share = m.amount * main_share // main.amount
        if share == m.amount:
            action, kind = "release", "release"
        elif share == 0:
            action, kind = "refund", "refund"
        else:
            action, kind = "follow_split", "split"
        split = await settle(uow, at, m, contract, share, action, kind)
        count += 1
        to_freelancer += split.to_freelancer
        to_client += split.to_client
    if count:
        uow.emit(
            ServiceRevisionsSettled(
                order_id=order_id,
                count=count,
                to_freelancer=to_freelancer,
                to_client=to_client,
                **milestone_parties(main, contract),
            )
        )


# --- paid extra revisions ----------------------------------------------------------------


def extra_revision_price(order: ServiceOrder, config: MarketConfig) -> int:
    """config.service_extra_revision_percent of the package's price, rounded half up."""
    return max(1, (order.package_price * config.service_extra_revision_percent + 50) // 100)


async def start_extra_revision(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    order_id: int,
    shown_price: int,
    shown_in: int | None = None,
) -> Payment:
    """The buyer pays for one more revision once the package's are used: a milestone
    of kind "revision" through the funding path (the client fee on top); paid, it
    waits in escrow with the order's and adds a revision (`revision_paid`). A second
    tap returns the pending payment. Numbered after the contract's milestones."""
    await active_user(uow, actor_id)
    await _order(uow, order_id, actor_id, "buyer")
    order, contract, _ = await _locked(uow, order_id)
    if contract.status is not ContractStatus.ACTIVE or order.status not in (
        SO.IN_PROGRESS,
        SO.DELIVERED,
    ):
        raise NotAllowed("contract_not_active", "This contract is not active.")
    if order.revisions_used < order.revisions_allowed:
        raise NotAllowed("order_revisions_left", "The package still has revisions left.")
    price = extra_revision_price(order, config)
    if price != shown_price:
        raise NotAllowed("order_changed", "The service changed; open it again.")
    waiting = await uow.milestones.find(
        contract_id=contract.id,
        kind=REVISION,
        status__in=(MilestoneStatus.PENDING, MilestoneStatus.FUNDING),
        limit=1,
    )
    if waiting:
        milestone = waiting[0]
    else:
        existing = await uow.milestones.find(contract_id=contract.id)
        milestone = await uow.milestones.add(
            Milestone(
                contract_id=contract.id,  # type: ignore[arg-type]
                position=max((m.position for m in existing), default=0) + 1,
                title=REVISION_TITLE,
                amount=price,
                currency=contract.currency,
                kind=REVISION,
            )
        )
    return await payments.start_funding(
        uow,
        clock,
        config,
        gateway,
        actor_id,
        milestone.id,
        shown_in,  # type: ignore[arg-type]
    )


async def revision_paid(
    uow: UnitOfWork, clock: Clock, milestone: Milestone, contract: Contract
) -> Settlement:
    """confirm_payment funded a paid extra revision (it holds the milestone's lock):
    the money stays in escrow — it follows the order's milestone (`follow_order`) —
    and the order has one more revision. The split it will make once released."""
    split = settlement(
        milestone.amount, milestone.amount, contract.client_fee_bp, contract.freelancer_fee_bp
    )
    order = await order_of(uow, contract.id, lock=True)  # type: ignore[arg-type]
    if order is None or order.id is None:
        raise ValidationError("order_not_found", "There is no such order.")
    order.revisions_allowed += 1
    uow.emit(
        ServiceRevisionPaid(
            order_id=order.id,
            to_freelancer=split.to_freelancer,
            total=split.total,
            revisions_left=order.revisions_allowed - order.revisions_used,
            **milestone_parties(milestone, contract),
        )
    )
    return split


# --- the seller's and buyer's views --------------------------------------------------------


async def orders_of(
    uow: UnitOfWork, actor_id: int, side: str, statuses: Sequence[SO] = ACTIVE_ORDERS
) -> list[ServiceOrder]:
    """The user's orders as seller or buyer in those states, by deadline."""
    key = "seller_id" if side == "seller" else "buyer_id"
    found = await uow.service_orders.find(
        status__in=tuple(statuses), order_by="id", **{key: actor_id}
    )

    def deadline(o: ServiceOrder) -> tuple[int, datetime]:
        at = o.accept_by if o.status is SO.AWAITING_ACCEPTANCE else o.due_at
        return (0, at) if at is not None else (1, o.created_at or datetime.max)

    return sorted(found, key=lambda o: (deadline(o), o.id or 0))


async def earnings_per_service(uow: UnitOfWork, actor_id: int) -> dict[int, tuple[int, int]]:
    """For each of the seller's services: (completed orders, what they received) — the
    freelancer's share after the fee of every milestone of its orders' contracts paid out
    whole or in part (the order's work and its paid extra revisions; a dispute's split
    read from the ledger, `share_of`; the fee rule of domain/fees.py)."""
    out: dict[int, tuple[int, int]] = {}
    done = await uow.service_orders.find(seller_id=actor_id, status=SO.COMPLETED)
    by_contract = {o.contract_id: o for o in done if o.contract_id is not None}
    if not by_contract:
        return out
    contracts = {
        c.id: c
        for c in await uow.contracts.find(id__in=list(by_contract))  # type: ignore[arg-type]
    }
    for o in done:
        count, earned = out.get(o.service_id, (0, 0))
        out[o.service_id] = (count + 1, earned)
    for m in await uow.milestones.find(
        contract_id__in=list(by_contract),
        status__in=(MilestoneStatus.RELEASED, MilestoneStatus.SPLIT),
    ):
        c = contracts.get(m.contract_id)
        order = by_contract.get(m.contract_id)
        if c is None or order is None:
            continue
        share = await share_of(uow, m, c)
        got = settlement(m.amount, share, c.client_fee_bp, c.freelancer_fee_bp).to_freelancer
        count, earned = out[order.service_id]
        out[order.service_id] = (count, earned + got)
    return out
