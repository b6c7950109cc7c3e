"""Issue 13 with GIGBOT_PAYMENTS=stripe: a bonus is a Stripe Checkout payment
through the funding path (the stand-in and localstripe play Stripe; its signed
webhook confirms it, twice), released at once to the freelancer's balance; a
partial release refunds the rest through the Refunds API, once."""

from __future__ import annotations

from localstripe import resources as ls_resources

from domain import ledger
from domain.states import MilestoneStatus
from handlers.callbacks import encode
from tests.flows.test_bonus import amounts, offer_part
from tests.flows.test_offers import all_of, deal, label
from tests.flows.test_work import submit
from tests.payments.stripe_chat import (
    balances,
    checkout_url,
    milestone_status,
    pay_in_checkout,
    stripe_harness,
    wallet,
)


async def test_a_bonus_is_a_checkout_payment_released_once(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, cid, _ = await deal(h)
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("bonus.btn.start"))
    await h.send(carla, "40")
    quote = h.last(carla)
    shown = amounts(quote.text)
    await h.press_data(carla, encode("bn", "pay_bonus"), quote.message_id)
    [bonus] = await all_of(h, "milestones", contract_id=cid, kind="bonus")
    [payment] = await all_of(h, "payments", milestone_id=bonus.id)
    session = env.standin.sessions[payment.external_id]
    assert checkout_url(h, carla) == session["url"]
    assert payment.amount == 4_200  # the bonus and the client fee, charged by Checkout

    completed = await env.standin.pay_session(payment.external_id)
    for _ in range(2):  # Stripe delivers the event again: paid once
        assert await env.standin.deliver(completed) == 200
    await h.deliver()
    assert await milestone_status(h, bonus.id) is MilestoneStatus.RELEASED
    books = await balances(h)
    assert books[ledger.escrow_account(bonus.id)] == 0
    assert books[ledger.PLATFORM_FEES] == 600
    assert await wallet(h, fred) == 3_600  # waits there for Connect onboarding
    assert shown == {4_000, 200, 4_200, 3_600}
    assert amounts(h.last(fred).text) == {4_000, 3_600}
    assert amounts(h.last(carla).text) == {4_000, 4_200, 200, 3_600}
    assert len([t for t in h.texts(fred) if "$3,600.00" in t or "$36.00" in t]) == 1
    assert env.standin.violations == []


async def test_a_partial_release_refunds_the_rest_through_the_refunds_api(
    chat_env, db, clock
) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, _cid, [mid] = await deal(h)
    await pay_in_checkout(h, env, carla, mid)
    await submit(h, fred, mid, "Done, see the staging link.")
    await offer_part(h, carla, mid, "60", "Only the logo was delivered")
    await h.press(fred, label("partial.btn.accept"))
    assert await milestone_status(h, mid) is MilestoneStatus.SPLIT
    assert await wallet(h, fred) == 5_400
    await h.engine.calls.make_due()  # a retry of the refund finds it made: same key
    refunds = [o for k, o in ls_resources.store.items() if k.startswith("refund:")]
    assert [r.amount for r in refunds] == [4_200]
    [call] = await all_of(h, "gateway_calls", kind="refund")
    assert (call.key, call.status, call.amount) == (f"refund:milestone:{mid}", "done", 4_200)
    assert env.standin.violations == []
