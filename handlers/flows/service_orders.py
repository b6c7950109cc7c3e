"""Buying a service and its orders (issue 15, ORDERS): package → extras → the
seller's questions → the total with fees → pay into escrow → the seller accepts
or declines within GIGBOT_SERVICE_ACCEPT_HOURS; then the contract machinery.

Callback data (prefix "ord", handlers/prefixes.py):
- "ord:buy:<service>:<tier>"   buyer: buy a package (the service card's buttons)
"""

from __future__ import annotations

from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.prefixes import ORDER


@ORDER.on("buy")
async def buy_pressed(ctx: Context) -> None:
    # The services schema (migration 0018) is not on main yet: until it lands no
    # package can be bought, and the press is answered as an unavailable button.
    assert ctx.callback is not None
    ctx.callback.require_id()
    raise StaleButton()
