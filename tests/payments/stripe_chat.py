"""Chat steps shared by the Stripe chat tests: people played with the flows'
harness (tests/flows/harness.py) against the real Engine whose gateway is the
real StripeGateway, pointed at the stand-in and localstripe."""

from __future__ import annotations

from domain import ledger
from domain.states import MilestoneStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import all_of
from tests.payments.market import CONFIG
from tests.payments.stripe_servers import StripeEnv


def stripe_harness(env: StripeEnv, db, clock) -> Harness:  # type: ignore[no-untyped-def]
    return Harness(db, clock, CONFIG, env.gateway)


async def press_pay(h: Harness, client: Person, milestone_id: int) -> None:
    """The quote, then its Pay button (as the client sees them)."""
    await h.press_data(client, encode("fd", "quote", milestone_id))
    quote = h.last(client)
    pay = encode("fd", "checkout", milestone_id)
    assert any(b.get("data") == pay for row in quote.buttons or [] for b in row)
    await h.press_data(client, pay, quote.message_id)


def checkout_url(h: Harness, client: Person) -> str | None:
    """The URL button of the client's latest message (the Checkout link), if any."""
    urls = [b["url"] for row in h.last(client).buttons or [] for b in row if "url" in b]
    return urls[0] if urls else None


async def pending_session(h: Harness, milestone_id: int) -> str:
    (payment,) = await all_of(h, "payments", milestone_id=milestone_id, status="pending")
    return payment.external_id  # type: ignore[no-any-return]


async def pay_in_checkout(h: Harness, env: StripeEnv, client: Person, milestone_id: int) -> str:
    """Pay, the payer completes Stripe Checkout, Stripe's signed webhook reaches
    POST /stripe/webhook; returns the session id."""
    await press_pay(h, client, milestone_id)
    session_id = await pending_session(h, milestone_id)
    assert checkout_url(h, client) == env.standin.sessions[session_id]["url"]
    completed = await env.standin.pay_session(session_id)
    assert await env.standin.deliver(completed) == 200
    await h.deliver()
    return session_id


async def milestone_status(h: Harness, milestone_id: int) -> MilestoneStatus:
    async with h.db.uow() as uow:
        m = await uow.milestones.get(milestone_id)
        assert m is not None
        return m.status


async def wallet(h: Harness, user: Person | int) -> int:
    uid = user if isinstance(user, int) else user.id
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.freelancer_account(uid))


async def balances(h: Harness) -> dict[str, int]:
    async with h.db.uow() as uow:
        return await uow.ledger.balances()
