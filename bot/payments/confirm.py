"""The single entry through which any gateway's news reaches the domain.

The sandbox page, the Stripe webhook and the Stripe reconciliation all call
these methods, so a confirmed payment takes exactly one code path
(domain.usecases.payments.confirm_payment) whichever way it arrived. Each call
is one unit of work run by handlers.system.SystemRunner: the domain change, the
notifications about it and (optionally) the record of the gateway event that
caused it commit together.

`claim(uow) -> bool` lets a caller record a gateway event id in the same
transaction: if it returns False the event was handled before and nothing is
done (a replayed webhook).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from domain.entities import Payment
from domain.errors import NotFound
from domain.events import ChargebackAfterSettlement, PaymentDeclined
from domain.ledger import settle_key
from domain.ports import UnitOfWork
from domain.usecases.common import milestone_with_contract
from domain.usecases.contracts import parties
from domain.usecases.payment_checks import Received, confirm_checked
from domain.usecases.payments import REFUND_DUE
from domain.usecases.verification import payment_charged_back
from handlers.system import SystemRunner

CHARGEBACK = "chargeback"  # the reason prefix of a payer's dispute of the charge

log = logging.getLogger(__name__)

Claim = Callable[[UnitOfWork], Awaitable[bool]]


async def find_payment(
    uow: UnitOfWork,
    gateway: str,
    *,
    payment_id: int | None = None,
    external_id: str | None = None,
    charge_ref: str | None = None,
) -> Payment | None:
    """The gateway's payment by our id, its checkout id or its charge."""
    if payment_id is not None:
        payment = await uow.payments.get(payment_id)
        if payment is not None and payment.gateway == gateway:
            return payment
    if external_id:
        found = await uow.payments.find(gateway=gateway, external_id=external_id, limit=1)
        if found:
            return found[0]
    if charge_ref:
        found = await uow.payments.find(gateway=gateway, charge_ref=charge_ref, limit=1)
        if found:
            return found[0]
    return None


class PaymentNews:
    """What gateways report, applied to the domain through the use cases."""

    def __init__(self, runner: SystemRunner) -> None:
        self.runner = runner

    async def _run(
        self, what: str, claim: Claim | None, body: Callable[[UnitOfWork], Awaitable[bool]]
    ) -> bool:
        async def operation(uow: UnitOfWork) -> bool:
            if claim is not None and not await claim(uow):
                log.info("%s: gateway event seen before, nothing to do", what)
                return False
            return await body(uow)

        return await self.runner.run(operation, what=what)

    async def succeeded(
        self,
        gateway: str,
        external_id: str | None = None,
        *,
        payment_id: int | None = None,
        charge_ref: str | None = None,
        claim: Claim | None = None,
        received: Received | None = None,
    ) -> bool:
        """The payer paid. True if this call funded the milestone, False on a replay.
        The payment is named by the gateway's checkout id, or by our payment id.
        NotFound for an unknown payment.

        `received`: what a gateway outside our own pages says it took; it must be
        the payment's before anything is funded (domain.usecases.payment_checks:
        a mismatch funds nothing and tells the admins, and money taken for the
        payment is refunded)."""
        from domain.usecases.payments import confirm_payment

        r = self.runner

        async def body(uow: UnitOfWork) -> bool:
            ext = external_id
            if ext is None:
                payment = await find_payment(uow, gateway, payment_id=payment_id)
                if payment is None or not payment.external_id:
                    raise NotFound("payment_not_found", "Unknown payment.", id=payment_id)
                ext = payment.external_id
            # A payment that came too late is refunded by a gateway call that the
            # runner makes after this unit of work commits.
            if received is not None:
                return await confirm_checked(
                    uow, r.clock, r.config, gateway, ext, received, charge_ref
                )
            return await confirm_payment(uow, r.clock, r.config, gateway, ext, charge_ref)

        return await self._run(
            f"{gateway} payment {external_id or payment_id} succeeded", claim, body
        )

    async def failed(
        self,
        gateway: str,
        external_id: str,
        reason: str,
        *,
        status: str = "failed",
        claim: Claim | None = None,
    ) -> bool:
        """The payment was declined ("failed") or its checkout ran out ("expired");
        the milestone can be funded again. False if the payment was no longer pending."""
        from domain.usecases.payments import payment_failed

        r = self.runner

        async def body(uow: UnitOfWork) -> bool:
            return await payment_failed(uow, r.clock, gateway, external_id, reason, status)

        return await self._run(f"{gateway} payment {external_id} {status}", claim, body)

    async def declined(
        self,
        gateway: str,
        *,
        payment_id: int | None,
        code: str,
        claim: Claim | None = None,
    ) -> bool:
        """The payer's card was declined on the gateway's page, which stays open for
        another card: nothing changes, the client is told ("payment_declined",
        rendered by handlers/flows/funding.py) while the payment is still pending.
        False for an unknown payment or one no longer pending."""

        async def body(uow: UnitOfWork) -> bool:
            payment = await find_payment(uow, gateway, payment_id=payment_id)
            if payment is None:
                log.warning("%s decline for an unknown payment %s", gateway, payment_id)
                return False
            if payment.status != "pending":
                return False
            uow.emit(
                PaymentDeclined(
                    payment_id=payment.id,
                    milestone_id=payment.milestone_id,
                    client_id=payment.payer_id,
                    code=code,
                )
            )
            return True

        return await self._run(f"{gateway} payment {payment_id} declined", claim, body)

    async def chargeback(
        self,
        gateway: str,
        refs: Sequence[str],
        *,
        reason: str,
        unless_settled: bool = False,
        claim: Claim | None = None,
    ) -> bool:
        """The payer disputed the charge (or it was refunded outside the bot):
        freeze the milestone, the admins are told (domain event). `refs` are the
        gateway's ids for the payment (charge, PaymentIntent, checkout) in any
        order. False for an unknown payment or one already handled.
        `unless_settled`: do nothing if the milestone was settled (our own refund
        reported back by the gateway)."""
        from domain.usecases.disputes import freeze_on_chargeback

        r = self.runner

        async def body(uow: UnitOfWork) -> bool:
            payment = None
            for ref in refs:
                payment = await find_payment(uow, gateway, charge_ref=ref, external_id=ref)
                if payment is not None:
                    break
            if payment is None:
                log.warning("%s %s for an unknown payment %s", gateway, reason, list(refs))
                return False
            if reason.startswith(CHARGEBACK):
                # The bank took it back: it no longer proves the payer can pay.
                await payment_charged_back(uow, r.clock, payment)
            if unless_settled and await uow.ledger.has(settle_key(payment.milestone_id)):
                return False
            if payment.status == "refunded" or payment.failure_reason == REFUND_DUE:
                # A late payment never entered the escrow (and "refunded" is our own
                # refund reported back): the milestone, funded otherwise, stays as is.
                log.warning(
                    "%s %s on late payment %s: no escrow to freeze", gateway, reason, payment.id
                )
                if reason.startswith(CHARGEBACK):
                    # A real chargeback still needs a person at the payment provider.
                    milestone, contract = await milestone_with_contract(uow, payment.milestone_id)
                    uow.emit(
                        ChargebackAfterSettlement(
                            status=f"late payment, {payment.status}",
                            milestone_id=milestone.id,
                            payment_id=payment.id,
                            **parties(contract),
                        )
                    )
                return False
            log.warning("%s %s on payment %s: freezing", gateway, reason, payment.id)
            ref = payment.charge_ref or payment.external_id or ""
            return await freeze_on_chargeback(uow, r.clock, gateway, ref)

        return await self._run(f"{gateway} {reason} {list(refs)}", claim, body)

    async def claim_only(self, claim: Claim, what: str) -> bool:
        """Record a gateway event that needs no domain change (so a replay is cheap)."""

        async def body(uow: UnitOfWork) -> bool:
            return True

        return await self._run(what, claim, body)
