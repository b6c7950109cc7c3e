"""Makes the gateway calls that use cases committed (domain/usecases/gateway_calls.py).

A checkout is opened the same way, for a payment committed first
(payments.start_funding emits "checkout_due"): its key checkout:payment:<id>
and every parameter are the same on a retry, so a crash after the gateway
opened it but before we recorded it gives the same checkout on the next tap.

A call is made in three steps, never inside a transaction:
1. read the committed call (one unit of work, closed before step 2);
2. ask the gateway, with the call's fixed idempotency key;
3. record what it answered, and the notifications about it (another unit of work).

The engine and the system runner hand over the calls their unit of work just
committed (`after_commit`); the scheduler's tick makes every call left due by a
crash or a failure (`make_due`). A process killed between any two steps leaves
the call due, and the next try with the same key gets the movement the gateway
already made, so each movement happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from domain.config import MarketConfig
from domain.errors import PaymentError
from domain.events import CheckoutDue, GatewayCallDue
from domain.events import Event as DomainEvent
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.usecases import gateway_calls as uc
from domain.usecases import payments
from handlers.unit import Render, UnitRunner, render_registered

log = logging.getLogger(__name__)

# A call untouched this long is taken up again by the tick (a runner that is making
# it right now is not raced for nothing; racing would still be one movement).
IDLE_SECONDS = 30


class GatewayCallRunner:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        config: MarketConfig,
        gateway: PaymentGateway | None,
        public_url: str = "http://127.0.0.1:8080",
        render: Render = render_registered,
    ) -> None:
        self.render = render  # how an outcome's events become messages
        self.uow_factory = uow_factory
        self.clock = clock
        self.config = config
        self.gateway = gateway
        self.public_url = public_url

    async def after_commit(self, events: Iterable[DomainEvent]) -> int:
        """Make the calls a committed unit of work asked for; how many were made."""
        made = 0
        for event in events:
            if isinstance(event, GatewayCallDue) and self._mine(event.gateway):
                made += await self.make(event.call_id)
            elif isinstance(event, CheckoutDue) and self._mine(event.gateway):
                made += await self.open_checkout(event.payment_id, event.shown_in)
        return made

    async def open_checkout(self, payment_id: int, shown_in: int | None = None) -> bool:
        """Ask the gateway for the checkout of a committed payment (key
        checkout:payment:<id>, so a retry gets the same one) and record it."""
        assert self.gateway is not None
        async with self.uow_factory() as uow:
            found = await payments.checkout_to_open(uow, payment_id)
        if found is None:
            return False
        payment, description = found
        try:
            started = await self.gateway.start_checkout(
                payment, description, payments.checkout_key(payment_id)
            )
        except PaymentError as exc:
            log.warning("checkout of payment %s failed: %s", payment_id, exc.code)
            code = exc.code
            await self._record(
                lambda uow: payments.checkout_failed(uow, self.clock, payment_id, code)
            )
            return False
        return await self._record(
            lambda uow: payments.checkout_opened(uow, self.clock, payment_id, started, shown_in)
        )

    async def make_due(self, idle_seconds: float = IDLE_SECONDS, limit: int = 100) -> int:
        """Make every call of this gateway still due (after a crash or a failure)."""
        if self.gateway is None:
            return 0
        async with self.uow_factory() as uow:
            ids = await uc.due(
                uow, self.clock, self.gateway.name, idle_seconds=idle_seconds, limit=limit
            )
        made = 0
        for call_id in ids:
            made += await self.make(call_id)
        return made

    def _mine(self, gateway_name: object) -> bool:
        return self.gateway is not None and gateway_name == self.gateway.name

    async def make(self, call_id: int) -> bool:
        """Make one call; True if this run recorded it as done."""
        assert self.gateway is not None
        async with self.uow_factory() as uow:
            found = await uc.to_make(uow, call_id)
        if found is None:
            return False  # made (or given up) by another runner
        call, payment = found
        if not self._mine(call.gateway):
            return False
        window = getattr(self.gateway, "idempotency_window", None)
        first_tried = call.created_at
        if window is not None and call.attempts and first_tried is not None:
            if self.clock.now() - first_tried >= window:
                # The gateway may have forgotten the key: never risk a second movement.
                log.error("gateway call %s is older than the gateway's keys: held", call.key)
                await self._record(lambda uow: uc.hold(uow, self.clock, call_id))
                return False
        try:
            external_id = await self.gateway.execute(call, payment)
        except PaymentError as exc:
            log.warning("gateway call %s (%s) failed: %s", call.key, call.kind, exc.code)
            return await self._failed(call_id, exc)
        except Exception:
            # Not the gateway's word: the movement may have happened. Same key next time.
            log.exception("gateway call %s (%s) failed unexpectedly", call.key, call.kind)
            return await self._failed(
                call_id, PaymentError("gateway_error", "The payment service failed.")
            )
        log.info("gateway call %s (%s) made: %s", call.key, call.kind, external_id)
        return await self._record(lambda uow: uc.complete(uow, self.clock, call_id, external_id))

    async def _failed(self, call_id: int, error: PaymentError) -> bool:
        """Record a failed try (the call stays due unless nothing moved); False."""
        await self._record(lambda uow: uc.fail(uow, self.clock, call_id, error))
        return False

    async def _record(self, step: Callable[[UnitOfWork], Awaitable[bool]]) -> bool:
        """Record an outcome as one unit of work (handlers/unit.py), with its messages."""
        units = UnitRunner(
            self.uow_factory,
            self.clock,
            self.config,
            self.gateway,
            self.public_url,
            render=self.render,
        )
        return bool(await units.run(lambda unit: step(unit.uow), "gateway call outcome"))
