"""What people hear about the money that leaves through a gateway after a step
committed it (domain/usecases/gateway_calls.py): a withdrawal the gateway
rejected (the money is back on the balance), and, for the admins, any refund,
payout or transfer whose first try failed (it is retried with the same key) or
that was given up. Late refunds have their own messages (funding.py)."""

from __future__ import annotations

from domain.events import GatewayCallFailed, GatewayCallHeld, PayoutFailed
from handlers.context import Scope
from handlers.flows.funding import failure_reason
from handlers.helpers import name_of
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.render import money


def _why(t: Translator, code: str) -> str:
    """The gateway's reason in a few words: its first sentence (the rest of the
    catalog's text speaks to a payer, e.g. "try again in a minute")."""
    return failure_reason(t, code, default="gateway_error").split(". ")[0]


@renders(PayoutFailed)
async def payout_failed(scope: Scope, event: PayoutFailed) -> None:
    t = await scope.translator_for(event.user_id)
    await scope.notify(
        event.user_id,
        "calls.notify.payout_failed",
        amount=money(event.amount, event.currency),
        id=event.payout_id,
        reason=_why(t, event.error),
    )


@renders(GatewayCallFailed)
async def tell_admins(scope: Scope, event: GatewayCallFailed) -> None:
    if event.call_kind == "late_refund":
        return  # payment_refund_due tells the admins of these
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        await scope.notify(
            admin_id,
            "calls.admin.given_up" if event.final else "calls.admin.retrying",
            what=t.plain(f"calls.kind.{event.call_kind}"),
            amount=money(event.amount, event.currency),
            id=event.call_id,
            user=await name_of(scope, event.user_id) if event.user_id else "—",
            milestone=event.milestone_id or "—",
            reason=_why(t, event.error),
            code=event.error,
        )


@renders(GatewayCallHeld)
async def tell_admins_held(scope: Scope, event: GatewayCallHeld) -> None:
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        await scope.notify(
            admin_id,
            "calls.admin.held",
            what=t.plain(f"calls.kind.{event.call_kind}"),
            amount=money(event.amount, event.currency),
            id=event.call_id,
            user=await name_of(scope, event.user_id) if event.user_id else "—",
            milestone=event.milestone_id or "—",
        )
