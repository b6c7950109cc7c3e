"""Gateway calls the runner makes after a commit: retried with the same key while
the gateway may remember it, held for an admin once it may not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.usecases import milestones
from handlers.gateway_calls import GatewayCallRunner
from tests.usecases.conftest import FREELANCER
from tests.usecases.story import RecordingGateway, fund, hired


@dataclass
class ForgetfulGateway(RecordingGateway):
    """Keeps idempotency keys for a day, as Stripe does; unreachable until told."""

    idempotency_window: timedelta = timedelta(hours=23)
    down: bool = True
    tries: int = 0

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        self.tries += 1
        if self.down:
            raise PaymentError("gateway_unreachable", "The payment service cannot be reached.")
        return await super().execute(call, payment)


async def statuses(db) -> list[str]:
    async with db.uow() as uow:
        return [c.status for c in await uow.gateway_calls.find()]


async def test_a_call_older_than_the_gateways_keys_is_held_not_retried(
    users, clock, config
) -> None:
    db, gw = users, ForgetfulGateway()
    _, (mid,) = await hired(db, clock, config, (10_000,))
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        await milestones.refund(uow, clock, config, gw, FREELANCER, mid)
        await uow.commit()
    runner = GatewayCallRunner(db.uow, clock, config, gw)
    assert await runner.make_due(idle_seconds=0) == 0  # unreachable: stays due
    clock.advance(hours=5)
    assert await runner.make_due() == 0 and await statuses(db) == ["due"]
    assert gw.tries == 2

    clock.advance(hours=19)  # the first try is now older than the gateway's memory
    gw.down = False
    assert await runner.make_due() == 0
    assert gw.tries == 2 and gw.refunds == []  # not tried again: it could pay twice
    assert await statuses(db) == ["held"]
    async with db.uow() as uow:
        told = [m.payload["text"] for m in await uow.outbox.find() if m.chat_id in config.admin_ids]
    assert any("stopped retrying" in text for text in told)
    assert await runner.make_due() == 0 and gw.tries == 2
