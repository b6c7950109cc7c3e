"""Freelancer balance and withdrawals (payouts) from the ledger."""

from __future__ import annotations

from typing import Any

from domain import ledger
from domain.config import MarketConfig
from domain.entities import GatewayCall, Payout
from domain.errors import DomainError, NotAllowed, ValidationError
from domain.events import PayoutRequested
from domain.money import Money
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.usecases import gateway_calls
from domain.usecases.common import active_user, load


async def balance(uow: UnitOfWork, actor_id: int) -> int:
    """What the freelancer can withdraw, in minor units."""
    return await uow.ledger.balance(ledger.freelancer_account(actor_id))


async def destination(uow: UnitOfWork, gateway: PaymentGateway, actor_id: int) -> str | None:
    """Where the gateway would send the user's withdrawal now (e.g. a Connect account
    id), None when it names no account (the sandbox) or cannot pay them yet."""
    try:
        params = await gateway.payout_params(uow, actor_id)
    except DomainError:
        return None
    found = params.get("destination")
    return str(found) if found else None


async def paid_to(uow: UnitOfWork, payout_id: int) -> tuple[str, str | None]:
    """The gateway a payout went through and the account it named (its gateway call's
    `destination`, if any)."""
    payout = await load(uow.payouts, payout_id, "payout")
    calls = await uow.gateway_calls.find(payout_id=payout_id, limit=1)
    found = calls[0].params.get("destination") if calls else None
    return payout.gateway, str(found) if found else None


async def request_payout(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    amount: int | None = None,
) -> Payout:
    """Withdraw `amount` (default: everything) of the balance through the gateway.

    The user's row is locked first, so two withdrawals at once cannot both see
    the same balance. The payout, its ledger entry (the balance is taken now) and
    the gateway call keyed `payout:<id>` commit together; the runner makes the
    call after the commit and marks the payout paid (gateway_calls.py), so a crash
    anywhere retries the same key instead of paying again.
    """
    await active_user(uow, actor_id)
    await load(uow.users, actor_id, "user", lock=True)
    available = await balance(uow, actor_id)
    if amount is None:
        amount = available
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        if available <= 0:
            raise NotAllowed("balance_empty", "There is nothing to withdraw yet.")
        raise ValidationError("amount_zero", "The amount must be more than zero.")
    if amount > available:
        raise NotAllowed(
            "balance_insufficient",
            "That is more than your balance.",
            balance=Money(available, config.currency),
        )
    # Where the money goes (e.g. a Connect account); refuses before anything is written.
    params = await gateway.payout_params(uow, actor_id)
    payout, _ = await commit_payout(
        uow,
        clock,
        kind="payout",
        user_id=actor_id,
        amount=amount,
        currency=config.currency,
        gateway=gateway.name,
        params=params,
    )
    uow.emit(
        PayoutRequested(
            payout_id=payout.id,
            user_id=actor_id,
            amount=amount,
            currency=config.currency,
        )
    )
    return payout


async def commit_payout(
    uow: UnitOfWork,
    clock: Clock,
    *,
    kind: str,
    user_id: int,
    amount: int,
    currency: str,
    gateway: str,
    params: dict[str, Any],
    milestone_id: int | None = None,
) -> tuple[Payout, GatewayCall]:
    """Money leaving a freelancer's balance, in the caller's transaction: the payout
    row, its ledger entry (the balance is taken now, so it cannot be spent twice)
    and the gateway call made after the commit, keyed like the ledger entry. A
    withdrawal (kind "payout", key payout:<id>) or a released milestone's transfer
    (kind "transfer", key transfer:milestone:<id>)."""
    payout = await uow.payouts.add(
        Payout(
            user_id=user_id,
            amount=amount,
            currency=currency,
            gateway=gateway,
            created_at=clock.now(),
        )
    )
    assert payout.id is not None
    if kind == "payout":
        draft = ledger.payout(payout.id, user_id, amount, currency, gateway)
    else:
        assert milestone_id is not None, "a transfer pays a released milestone"
        draft = ledger.milestone_transfer(milestone_id, user_id, amount, currency, gateway)
    await uow.ledger.record(draft)
    call = await gateway_calls.intend(
        uow,
        clock,
        kind=kind,
        key=draft.key,
        gateway=gateway,
        amount=amount,
        currency=currency,
        payout_id=payout.id,
        milestone_id=milestone_id,
        user_id=user_id,
        params=params,
    )
    return payout, call
