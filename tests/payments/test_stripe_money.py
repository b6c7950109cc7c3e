"""Stripe beyond funding: reconciliation without webhooks, chargebacks,
refunds through the Refunds API, Connect onboarding and per-release Transfers,
and the ledger agreeing with what the servers recorded."""

from __future__ import annotations

import pytest
from localstripe import resources as ls_resources
from localstripe import webhooks as ls_webhooks

from bot.payments.reconcile import StripeReconciler
from bot.payments.stripe_webhook import pay_waiting
from domain.errors import PaymentError
from domain.states import MilestoneStatus
from domain.usecases.milestones import refund, release, submit_work
from tests.payments.market import CONFIG, ledger_state, make_deal
from tests.payments.stripe_helpers import milestone_status, outbox_kinds, payment_row, start


async def _fund(env, db, clock, deal, milestone_id: int) -> str:
    started = await start(env, db, clock, deal, milestone_id)
    assert await env.standin.deliver(await env.standin.pay_session(started.session_id)) == 200
    _status, charge = await payment_row(db, started.payment_id)
    assert charge and charge.startswith("ch_")
    return charge


async def test_reconcile_applies_what_the_webhooks_never_said(stripe_env, db, clock) -> None:
    ls_webhooks._webhooks.clear()  # no public URL: nothing is delivered
    deal = await make_deal(db, clock, amounts=(10_000, 4_000))
    paid = await start(stripe_env, db, clock, deal, deal.milestone_ids[0])
    lapsed = await start(stripe_env, db, clock, deal, deal.milestone_ids[1])
    completed = await stripe_env.standin.pay_session(paid.session_id)
    stripe_env.standin.expire_session(lapsed.session_id)

    reconciler = StripeReconciler(stripe_env.news, stripe_env.gateway, stripe_env.connect)
    assert await reconciler.run_once() == 2
    assert await milestone_status(db, deal.milestone_ids[0]) is MilestoneStatus.FUNDED
    status, charge = await payment_row(db, paid.payment_id)
    assert status == "succeeded" and charge and charge.startswith("ch_")
    assert (await payment_row(db, lapsed.payment_id))[0] == "expired"
    assert await milestone_status(db, deal.milestone_ids[1]) is MilestoneStatus.PENDING
    assert await reconciler.run_once() == 0  # nothing left open
    # The webhook arriving after all is a no-op.
    assert await stripe_env.standin.deliver(completed) == 200
    assert (await ledger_state(db))[f"escrow:milestone:{deal.milestone_ids[0]}"] == 10_500


async def test_reconcile_survives_stripe_being_down(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    stripe_env.standin.fail_next(503, "api_error")
    reconciler = StripeReconciler(stripe_env.news, stripe_env.gateway)
    assert await reconciler.run_once() == 0
    assert (await payment_row(db, started.payment_id))[0] == "pending"


async def test_chargeback_freezes_the_milestone_and_tells_the_admins(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    charge = await _fund(stripe_env, db, clock, deal, deal.milestone_id)
    dispute = stripe_env.standin.dispute(charge, None, 10_500)
    for _ in range(2):
        assert await stripe_env.standin.deliver(dispute) == 200
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FROZEN
    assert (await outbox_kinds(db)).count("milestone_frozen") == 1
    # The money stays in escrow for the admin to decide.
    assert (await ledger_state(db))[f"escrow:milestone:{deal.milestone_id}"] == 10_500


async def test_dispute_on_an_unknown_charge_is_ignored(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    await _fund(stripe_env, db, clock, deal, deal.milestone_id)
    assert (
        await stripe_env.standin.deliver(stripe_env.standin.dispute("ch_unknown", None, 5)) == 200
    )
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED


async def test_withdrawal_needs_finished_onboarding(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    async with db.uow() as uow:
        with pytest.raises(PaymentError) as err:
            await stripe_env.gateway.payout_params(uow, deal.freelancer_id)
    assert err.value.code == "stripe_onboarding_required"


async def test_released_refunded_flow_matches_what_stripe_recorded(stripe_env, db, clock) -> None:
    env = stripe_env
    deal = await make_deal(db, clock, amounts=(10_000, 20_000))
    first, second = deal.milestone_ids
    charge_1 = await _fund(env, db, clock, deal, first)
    charge_2 = await _fund(env, db, clock, deal, second)

    # Milestone 1: work submitted and released; the share waits for onboarding.
    async with db.uow() as uow:
        await submit_work(uow, clock, CONFIG, deal.freelancer_id, first, "Done, see the link.")
        await release(uow, clock, CONFIG, deal.client_id, first)
        await uow.commit()
    assert await pay_waiting(env.news.runner, env.connect, None) == 0
    assert (await ledger_state(db))[f"freelancer:{deal.freelancer_id}"] == 9_000

    async with db.uow() as uow:
        link = await env.connect.onboarding_link(uow, clock, deal.freelancer_id)
        again = await env.connect.onboarding_link(uow, clock, deal.freelancer_id)
        await uow.commit()
    assert link.startswith("https://connect.stripe.com/setup/") and again != link
    (account_id,) = env.standin.accounts  # one account however often the link is asked for
    links = [r for r in env.standin.requests if r.path == "/v1/account_links"]
    assert links[0].params["type"] == "account_onboarding"
    assert links[0].params["return_url"] == "https://t.me/gigbot_test_bot?start=payouts"
    assert await pay_waiting(env.news.runner, env.connect, None) == 0  # still onboarding

    # Stripe says onboarding is done: what waited is transferred, once.
    updated = env.standin.complete_onboarding(account_id)
    assert await env.standin.deliver(updated) == 200
    assert await env.standin.deliver(updated) == 200
    assert await pay_waiting(env.news.runner, env.connect, None) == 0
    (transfer,) = env.standin.transfers.values()
    assert transfer["amount"] == 9_000
    assert transfer["destination"] == account_id
    assert transfer["transfer_group"] == f"contract_{deal.contract_id}"
    assert transfer["source_transaction"] == charge_1
    (sent,) = [r for r in env.standin.requests if r.path == "/v1/transfers"]
    assert sent.idempotency_key == f"transfer:milestone:{first}"

    # Milestone 2: the freelancer cancels it; the client gets amount + fee back.
    async with db.uow() as uow:
        await refund(uow, clock, CONFIG, env.gateway, deal.freelancer_id, second)
        await uow.commit()
    # The refund was committed with the settlement; the runner makes it after.
    assert [r for r in env.standin.requests if r.path == "/v1/refunds"] == []
    assert await env.news.runner.calls.make_due(idle_seconds=0) == 1
    assert await milestone_status(db, second) is MilestoneStatus.REFUNDED
    refunds = [r for r in env.standin.requests if r.path == "/v1/refunds"]
    assert refunds[0].idempotency_key == f"refund:milestone:{second}"
    assert refunds[0].params["charge"] == charge_2
    # Stripe reports our own refund back: no freeze, no alert.
    refunded = env.standin.event(
        "charge.refunded", {"id": charge_2, "object": "charge", "payment_intent": None}
    )
    assert await env.standin.deliver(refunded) == 200
    assert "chargeback_after_settlement" not in await outbox_kinds(db)

    # The ledger agrees with localstripe (charges, refunds) and the stand-in (transfers).
    charges = [o for k, o in ls_resources.store.items() if k.startswith("charge:")]
    refunds_at_stripe = [o for k, o in ls_resources.store.items() if k.startswith("refund:")]
    charged = sum(c.amount for c in charges if c.status == "succeeded")
    refunded_total = sum(r.amount for r in refunds_at_stripe)
    assert (charged, refunded_total) == (31_500, 21_000)
    balances = await ledger_state(db)
    assert -balances["gateway:stripe"] == charged - refunded_total
    assert balances["payouts:stripe"] == sum(t["amount"] for t in env.standin.transfers.values())
    assert balances["platform:fees"] == 500 + 1_000  # client fee + freelancer fee of milestone 1
    assert balances[f"freelancer:{deal.freelancer_id}"] == 0
    assert balances[f"escrow:milestone:{first}"] == balances[f"escrow:milestone:{second}"] == 0
    assert sum(balances.values()) == 0
    assert env.standin.violations == []
