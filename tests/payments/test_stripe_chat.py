"""Stripe as the chat sees it: Connect onboarding from /balance, money that
waits for onboarding, and payment failures (declined card, expired session,
Stripe unreachable or rate-limited) — each a clear message, the ledger
untouched, a retry possible."""

from __future__ import annotations

import socket

from localstripe import resources as ls_resources

from bot.payments.stripe_gateway import StripeGateway, stripe_client
from domain.states import MilestoneStatus
from tests.flows.harness import Harness
from tests.flows.test_offers import all_of, deal, label
from tests.flows.test_work import submit
from tests.payments.stripe_chat import (
    balances,
    checkout_url,
    milestone_status,
    pay_in_checkout,
    pending_session,
    press_pay,
    stripe_harness,
    wallet,
)
from tests.payments.stripe_servers import API_KEY


async def release(h: Harness, client, milestone_id: int) -> None:  # type: ignore[no-untyped-def]
    await h.press(client, label("work.btn.approve"))
    await h.press(client, label("work.btn.release_confirm"))
    assert await milestone_status(h, milestone_id) is MilestoneStatus.RELEASED


async def test_release_waits_for_onboarding_then_is_transferred(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, cid, [mid] = await deal(h)
    await pay_in_checkout(h, env, carla, mid)
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    await submit(h, fred, mid, "Done, see the staging link.")
    await release(h, carla, mid)
    assert await wallet(h, fred) == 9_000  # waits: no Connect account yet
    assert env.standin.transfers == {}

    # /balance → Withdraw shows the onboarding link instead of the amounts.
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    setup = h.last(fred).button(label("balance.btn.setup"))
    assert setup is not None and setup["url"].startswith("https://connect.stripe.com/setup/")
    assert label("balance.btn.withdraw_all", amount="$90.00") not in h.last(fred).labels()
    (account_id,) = env.standin.accounts
    assert env.standin.accounts[account_id]["metadata"] == {"user_id": str(fred.id)}
    # Asking again gives a fresh link for the same account.
    await h.press(fred, label("balance.btn.back"))
    await h.press(fred, label("balance.btn.withdraw"))
    assert h.last(fred).button(label("balance.btn.setup"))["url"] != setup["url"]  # type: ignore[index]
    assert len(env.standin.accounts) == 1
    # A forged confirmation cannot withdraw before onboarding.
    await h.press_data(fred, f"bal:ok:{9_000}")
    assert "Set up payouts first" in h.last_answer(fred).text  # type: ignore[union-attr]

    # Stripe says onboarding is finished (twice): one transfer, and Fred is told.
    updated = env.standin.complete_onboarding(account_id)
    for _ in range(2):
        assert await env.standin.deliver(updated) == 200
    await h.deliver()
    (transfer,) = env.standin.transfers.values()
    assert (transfer["amount"], transfer["destination"]) == (9_000, account_id)
    assert transfer["transfer_group"] == f"contract_{cid}"
    assert transfer["source_transaction"].startswith("ch_")
    assert await wallet(h, fred) == 0
    assert "$90.00" in h.last(fred).text and "Part 1" in h.last(fred).text
    # Now /balance has nothing to set up and nothing to withdraw.
    await h.send(fred, "/balance")
    assert label("balance.btn.withdraw") not in h.last(fred).labels()
    assert (await balances(h))["payouts:stripe"] == 9_000
    assert env.standin.violations == []


async def test_onboarded_but_webhook_lost_withdraw_pays_once(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, _cid, [mid] = await deal(h)
    await pay_in_checkout(h, env, carla, mid)
    await submit(h, fred, mid, "Done.")
    await release(h, carla, mid)
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    (account_id,) = env.standin.accounts
    env.standin.complete_onboarding(account_id)  # the account.updated event is lost

    # The next Withdraw asks Stripe, learns onboarding is done, offers the amount.
    await h.press(fred, label("balance.btn.back"))
    await h.press(fred, label("balance.btn.withdraw"))
    assert h.last(fred).button(label("balance.btn.setup")) is None
    await h.press(fred, label("balance.btn.withdraw_all", amount="$90.00"))
    assert await wallet(h, fred) == 0
    # Reconciliation later finds nothing more to transfer for that milestone.
    from bot.payments.stripe_webhook import pay_waiting

    assert await pay_waiting(env.news.runner, env.connect, None) == 0
    assert [t["amount"] for t in env.standin.transfers.values()] == [9_000]
    assert env.standin.violations == []


# --- failures ------------------------------------------------------------------------------


async def _nothing_moved(h: Harness, mid: int) -> None:
    assert await milestone_status(h, mid) in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING)
    assert await balances(h) == {}


async def test_rate_limited_then_retry(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, _fred, _cid, [mid] = await deal(h)
    env.standin.fail_next(429, "rate_limit_error", "rate_limit")
    await press_pay(h, carla, mid)
    # The payment committed first; Stripe's refusal ends it, and Carla hears why.
    assert label("error.gateway_busy").rstrip(".") in h.last(carla).text
    assert checkout_url(h, carla) is None
    await _nothing_moved(h, mid)
    assert [p.status for p in await all_of(h, "payments")] == ["failed"]
    # The same Pay button, again: the checkout opens.
    await press_pay(h, carla, mid)
    assert checkout_url(h, carla) == env.standin.sessions[await pending_session(h, mid)]["url"]


async def test_stripe_unreachable_then_retry(chat_env, db, clock) -> None:
    env = chat_env
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = StripeGateway(stripe_client(API_KEY, dead, max_network_retries=0), success_url=dead)
    h = Harness(db, clock, env.news.runner.config, down)
    carla, _fred, _cid, [mid] = await deal(h)
    await press_pay(h, carla, mid)
    assert label("error.gateway_unreachable").rstrip(".") in h.last(carla).text
    await _nothing_moved(h, mid)
    await down.client._requestor._client.close_async()  # type: ignore[attr-defined]
    # Stripe is back: the same button works.
    h.engine.gateway = env.gateway
    await pay_in_checkout(h, env, carla, mid)
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED


async def test_declined_card_is_told_in_chat_and_the_same_checkout_can_be_retried(
    chat_env, db, clock
) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, _fred, _cid, [mid] = await deal(h)
    await press_pay(h, carla, mid)
    session_id = await pending_session(h, mid)
    await env.standin.decline_session(session_id)  # localstripe says payment_failed
    await env.deliveries.wait_kind("payment_intent.payment_failed")
    await h.deliver()
    note = h.last(carla)
    assert "was declined" in note.text and "Part 1" in note.text
    await _nothing_moved(h, mid)
    # Try again: the quote, Pay, and the same Checkout Session to pay with another card.
    await h.press(carla, label("funding.btn.retry"))
    await press_pay(h, carla, mid)
    assert checkout_url(h, carla) == env.standin.sessions[session_id]["url"]
    assert await env.standin.deliver(await env.standin.pay_session(session_id)) == 200
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED


async def test_expired_checkout_is_told_in_chat_and_a_new_one_starts(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, _fred, _cid, [mid] = await deal(h)
    await press_pay(h, carla, mid)
    first = await pending_session(h, mid)
    assert await env.standin.deliver(env.standin.expire_session(first)) == 200
    await h.deliver()
    assert "did not go through" in h.last(carla).text
    assert await milestone_status(h, mid) is MilestoneStatus.PENDING
    assert await balances(h) == {}
    await h.press(carla, label("funding.btn.retry"))
    await press_pay(h, carla, mid)
    second = await pending_session(h, mid)
    assert second != first and checkout_url(h, carla) == env.standin.sessions[second]["url"]
    assert await env.standin.deliver(await env.standin.pay_session(second)) == 200
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert (await balances(h))[f"escrow:milestone:{mid}"] == 10_500


async def test_refund_while_stripe_is_down_is_kept_due_and_made_once_later(
    chat_env, db, clock
) -> None:
    """A split agreed in the dispute flow settles the escrow and commits the
    client's refund as a gateway call; Stripe failing then leaves the call due
    (the admins are told), and the retry makes exactly one refund at Stripe."""
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, fred, _cid, [mid] = await deal(h)
    await pay_in_checkout(h, env, carla, mid)
    await h.press_data(carla, f"dsp:new:{mid}")
    await h.send(carla, "Nothing that was agreed has been delivered so far.")
    await h.press_data(carla, "dsp:go", h.last(carla).message_id)
    [dispute] = await all_of(h, "disputes")
    await h.press_data(fred, f"dsp:spok:{dispute.id}:6000")  # Fred proposes $60 of $100

    env.standin.fail_next(503, "api_error")
    await h.press_data(carla, f"dsp:accok:{dispute.id}:6000")
    assert h.last_answer(carla).text == "Settled"  # type: ignore[union-attr]
    assert await milestone_status(h, mid) is MilestoneStatus.SPLIT
    assert (await balances(h))[f"freelancer:{fred.id}"] == 5_400
    assert any(r.path == "/v1/refunds" for r in env.standin.requests)  # it was tried
    [call] = await all_of(h, "gateway_calls")
    assert (call.key, call.status, call.error) == (
        f"refund:milestone:{mid}",
        "due",
        "gateway_error",
    )
    assert not [o for k, o in ls_resources.store.items() if k.startswith("refund:")]

    h.clock.advance(minutes=1)
    assert await h.engine.calls.make_due() == 1  # the tick's retry, same key
    assert await h.engine.calls.make_due() == 0
    refunds = [o for k, o in ls_resources.store.items() if k.startswith("refund:")]
    assert [r.amount for r in refunds] == [4_200]  # one refund at Stripe, not two
