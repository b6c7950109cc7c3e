"""Starting a payment as the engine does it: the use case commits the payment,
then the gateway-call runner opens its checkout (handlers/gateway_calls.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.config import MarketConfig
from domain.entities import Payment
from domain.usecases import payments
from handlers.gateway_calls import GatewayCallRunner


async def open_checkout(
    db: Any, clock: Any, config: MarketConfig, gateway: Any, client_id: int, milestone_id: int
) -> Payment:
    """The payment with its checkout recorded (a copy that outlives the unit of work)."""
    async with db.uow() as uow:
        payment = await payments.start_funding(uow, clock, config, gateway, client_id, milestone_id)
        await uow.commit()
    await GatewayCallRunner(db.uow, clock, config, gateway).after_commit(uow.events)
    async with db.uow() as uow:
        found = await uow.payments.get(payment.id)
        assert found is not None
        return replace(found)
