"""Stripe withdrawals say where the money goes (the freelancer's Connect account)
and "Paid out" only once Stripe has made the transfer (issue 11, item 10)."""

from __future__ import annotations

import pytest

from handlers.gateway_calls import IDLE_SECONDS
from tests.flows.test_offers import all_of, deal, label
from tests.flows.test_work import submit
from tests.payments.stripe_chat import pay_in_checkout, stripe_harness, wallet
from tests.payments.test_stripe_chat import release

WORDS = {
    "en": ("to your Stripe account …{last4}", "✅ Paid out $90.00 to your Stripe account …{last4}"),
    "ru": ("на ваш счёт Stripe …{last4}", "✅ Выплачено $90.00 на ваш счёт Stripe …{last4}"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_stripe_withdrawal_names_the_account_and_is_paid_out_after_stripe_confirms(
    chat_env, db, clock, lang
) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, _cid, [mid] = await deal(h, freelancer_lang=lang)
    await pay_in_checkout(h, env, carla, mid)
    await submit(h, fred, mid, "Done.")
    await release(h, carla, mid)
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw", lang))  # creates the Connect account
    (account_id,) = env.standin.accounts
    env.standin.complete_onboarding(account_id)  # (its webhook is lost: asked on the tap)
    where, paid = (w.format(last4=account_id[-4:]) for w in WORDS[lang])

    await h.press(fred, label("balance.btn.back", lang))
    await h.press(fred, label("balance.btn.withdraw", lang))
    assert where in h.last(fred).text

    # Stripe fails the transfer: the withdrawal is on its way, nothing is "paid out".
    env.standin.fail_next(500, "api_error", path="/v1/transfers")
    await h.press(fred, label("balance.btn.withdraw_all", lang, amount="$90.00"))
    assert where in h.last(fred).text
    assert not any(paid in text for text in h.texts(fred))
    assert env.standin.transfers == {} and await wallet(h, fred) == 0
    [payout] = await all_of(h, "payouts")
    assert payout.status == "pending"

    # The tick makes the call again with the same key; Stripe makes the transfer.
    clock.advance(seconds=IDLE_SECONDS + 1)
    await h.tick()
    (transfer,) = env.standin.transfers.values()
    assert (transfer["amount"], transfer["destination"]) == (9_000, account_id)
    assert paid in h.last(fred).text
    assert sum(paid in text for text in h.texts(fred)) == 1
    assert env.standin.violations == []
