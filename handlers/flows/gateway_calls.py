"""What people hear about the money that leaves through a gateway after a step
committed it (domain/usecases/gateway_calls.py): a withdrawal the gateway
rejected (the money is back on the balance), and, for the admins, any refund,
payout or transfer whose first try failed (it is retried with the same key) or
that was given up. Late refunds have their own messages (funding.py)."""

from __future__ import annotations

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


@renders("payout_failed")
async def payout_failed(scope: Scope, data: dict) -> None:
    t = await scope.translator_for(data["user_id"])
    await scope.notify(
        data["user_id"],
        "calls.notify.payout_failed",
        amount=money(data["amount"], data["currency"]),
        id=data["payout_id"],
        reason=_why(t, data["error"]),
    )


@renders("gateway_call_failed")
async def tell_admins(scope: Scope, data: dict) -> None:
    if data["call_kind"] == "late_refund":
        return  # payment_refund_due tells the admins of these
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        await scope.notify(
            admin_id,
            "calls.admin.given_up" if data["final"] else "calls.admin.retrying",
            what=t.plain(f"calls.kind.{data['call_kind']}"),
            amount=money(data["amount"], data["currency"]),
            id=data["call_id"],
            user=await name_of(scope, data["user_id"]) if data["user_id"] else "—",
            milestone=data["milestone_id"] or "—",
            reason=_why(t, data["error"]),
            code=data["error"],
        )


@renders("gateway_call_held")
async def tell_admins_held(scope: Scope, data: dict) -> None:
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        await scope.notify(
            admin_id,
            "calls.admin.held",
            what=t.plain(f"calls.kind.{data['call_kind']}"),
            amount=money(data["amount"], data["currency"]),
            id=data["call_id"],
            user=await name_of(scope, data["user_id"]) if data["user_id"] else "—",
            milestone=data["milestone_id"] or "—",
        )
