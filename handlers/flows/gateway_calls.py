"""What people hear about the money that leaves through a gateway after a step
committed it (domain/usecases/gateway_calls.py): a withdrawal the gateway
rejected (the money is back on the balance), and, for the admins, any refund,
payout or transfer whose first try failed (it is retried with the same key) or
that was given up. Late refunds have their own messages (funding.py)."""

from __future__ import annotations

from handlers.context import Scope
from handlers.flows.funding import failure_reason
from handlers.notify import renders
from handlers.render import money


@renders("payout_failed")
async def payout_failed(scope: Scope, data: dict) -> None:
    t = await scope.translator_for(data["user_id"])
    await scope.notify(
        data["user_id"],
        "calls.notify.payout_failed",
        amount=money(data["amount"], data["currency"]),
        id=data["payout_id"],
        reason=failure_reason(t, data["error"], default="gateway_error"),
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
            user=data["user_id"] or "—",
            milestone=data["milestone_id"] or "—",
            reason=failure_reason(t, data["error"], default="gateway_error"),
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
            user=data["user_id"] or "—",
            milestone=data["milestone_id"] or "—",
        )
