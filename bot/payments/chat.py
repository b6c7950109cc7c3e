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
from handlers.flows.funding import failure_reason
from handlers.notify import renders
from handlers.render import button, keyboard

DECLINED = "card_declined"  # the words for any decline code the catalogs do not know


@renders("payment_declined")
async def payment_declined(scope: Scope, data: dict) -> None:
    milestone = await scope.uow.milestones.get(data["milestone_id"])
    if milestone is None:
        return
    payer = await scope.translator_for(data["client_id"])
    mid = milestone.id
    await scope.notify(
        data["client_id"],
        "funding.notify.failed",
        buttons=lambda t: keyboard(button(t.plain("funding.btn.retry"), encode(FUND, "q", mid))),
        title=milestone.title,
        reason=failure_reason(payer, data.get("code"), default=DECLINED),
    )
