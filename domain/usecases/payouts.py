"""Freelancer balance and withdrawals (payouts) from the ledger."""

from __future__ import annotations

from domain import ledger
from domain.config import MarketConfig
from domain.entities import Payout
from domain.errors import NotAllowed, ValidationError
from domain.events import PayoutRequested
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.usecases import gateway_calls
from domain.usecases.common import active_user, load


async def balance(uow: UnitOfWork, actor_id: int) -> int:
    """What the freelancer can withdraw, in minor units."""
    return await uow.ledger.balance(ledger.freelancer_account(actor_id))


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
            balance=available,
            currency=config.currency,
        )
    # Where the money goes (e.g. a Connect account); refuses before anything is written.
    params = await gateway.payout_params(uow, actor_id)
    payout = await uow.payouts.add(
        Payout(
            user_id=actor_id,
            amount=amount,
            currency=config.currency,
            gateway=gateway.name,
            created_at=clock.now(),
        )
    )
    assert payout.id is not None
    key = ledger.payout_key(payout.id)
    await uow.ledger.record(ledger.payout(payout.id, actor_id, amount, config.currency, gateway.name))
    await gateway_calls.intend(
        uow,
        clock,
        kind="payout",
        key=key,
        gateway=gateway.name,
        amount=amount,
        currency=config.currency,
        payout_id=payout.id,
        user_id=actor_id,
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
