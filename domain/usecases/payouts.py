"""Freelancer balance and withdrawals (payouts) from the ledger."""

from __future__ import annotations

from domain import ledger
from domain.config import MarketConfig
from domain.entities import Payout
from domain.errors import NotAllowed, ValidationError
from domain.ports import Clock, PaymentGateway, UnitOfWork
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
    the same balance. The gateway's transfer is keyed by the payout id; the
    ledger records it in the same transaction.
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
    now = clock.now()
    payout = await uow.payouts.add(
        Payout(
            user_id=actor_id,
            amount=amount,
            currency=config.currency,
            gateway=gateway.name,
            created_at=now,
        )
    )
    key = ledger.payout_key(payout.id)  # type: ignore[arg-type]
    payout.external_id = await gateway.payout(payout, key)
    payout.status = "paid"
    await uow.ledger.record(
        ledger.payout(payout.id, actor_id, amount, config.currency, gateway.name)  # type: ignore[arg-type]
    )
    uow.emit(
        "payout_sent",
        payout_id=payout.id,
        user_id=actor_id,
        amount=amount,
        currency=config.currency,
    )
    return payout
