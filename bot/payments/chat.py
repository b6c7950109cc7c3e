"""Chat notifications for what only a gateway knows, rendered through the same
registry as the flows' (handlers/notify.py); imported by stripe_webhook.py.

- "payment_declined": the payer's card was declined on the checkout page. The
  payment stays open (Stripe lets the payer try another card in the same
  Checkout Session), so nothing changes in the domain; the client is told why,
  in their language, with a button back to the quote and the same checkout.
"""

from __future__ import annotations

from handlers.callbacks import encode
from handlers.context import Scope
from handlers.flows.contracts import FUND
from handlers.i18n import translator
from handlers.notify import renders
from handlers.render import button, keyboard

DECLINED = "card_declined"  # the catalog key for any decline code we have no words for


@renders("payment_declined")
async def payment_declined(scope: Scope, data: dict) -> None:
    milestone = await scope.uow.milestones.get(data["milestone_id"])
    if milestone is None:
        return
    client = await scope.uow.users.get(data["client_id"])
    t = translator(client.language if client else None)
    code = data.get("code") or DECLINED
    reason = t.plain(f"error.{code}" if t.has(f"error.{code}") else f"error.{DECLINED}")
    mid = milestone.id
    await scope.notify(
        data["client_id"],
        "funding.notify.failed",
        buttons=lambda t: keyboard(button(t.plain("funding.btn.retry"), encode(FUND, "q", mid))),
        title=milestone.title,
        reason=reason.rstrip("."),
    )
