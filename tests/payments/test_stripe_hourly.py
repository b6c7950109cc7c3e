"""Hourly contracts with GIGBOT_PAYMENTS=stripe (issue 13, part 1): a week's
pre-funding is a Checkout payment like any milestone's, and the unused escrow
goes back through the Refunds API with the key refund:milestone:<id>, against
the week's charge — against the Stripe stand-in in front of localstripe."""

from __future__ import annotations

from domain.entities import Invitation, Job
from domain.states import JobStatus, MilestoneStatus
from domain.timesheet import NO_LIMIT
from domain.usecases import hourly
from domain.usecases.accounts import register_user, set_roles
from domain.usecases.contracts import accept_offer
from tests.funding import open_checkout
from tests.payments.market import CONFIG, ledger_state
from tests.payments.stripe_helpers import milestone_status, payment_row

CLIENT, FREELANCER = 1001, 2002


async def hourly_contract(db, clock, limit: int = 10) -> int:  # type: ignore[no-untyped-def]
    async with db.uow() as uow:
        await register_user(uow, clock, CLIENT, "Carla <Client>", "carla", "en")
        await register_user(uow, clock, FREELANCER, "Fred Freelancer", "fred", "en")
        await set_roles(uow, clock, CLIENT, client=True, freelancer=False)
        await set_roles(uow, clock, FREELANCER, client=False, freelancer=True)
        job = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="Backend by the hour",
                description="Ongoing work.",
                budget_type="hourly",
                budget=4_000,
                currency="USD",
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        await uow.invitations.add(
            Invitation(
                job_id=job.id, client_id=CLIENT, freelancer_id=FREELANCER, created_at=clock.now()
            )
        )
        contract = await hourly.send_hourly_offer(
            uow, clock, CONFIG, CLIENT, job.id, FREELANCER, 4_000, limit
        )
        await accept_offer(uow, clock, FREELANCER, contract.id)  # type: ignore[arg-type]
        await uow.commit()
    return contract.id  # type: ignore[return-value]


async def test_weekly_prefunding_is_a_checkout_and_unused_escrow_a_refund(
    stripe_env, db, clock
) -> None:
    env = stripe_env
    contract_id = await hourly_contract(db, clock)
    async with db.uow() as uow:
        (week_id,) = await hourly.open_weeks_due(uow, clock, CONFIG)
        mid = (await uow.weeks.get(week_id)).milestone_id
        await uow.commit()

    payment = await open_checkout(db, clock, CONFIG, env.gateway, CLIENT, mid)
    (created,) = [r for r in env.standin.requests if r.path == "/v1/checkout/sessions"]
    assert created.idempotency_key == f"checkout:payment:{payment.id}"
    assert created.params["mode"] == "payment"
    # 10 h × $40.00 = $400.00, plus the 5 % client fee.
    assert created.params["line_items"][0]["price_data"]["unit_amount"] == "42000"
    assert created.params["metadata"]["milestone_id"] == str(mid)
    assert await env.standin.deliver(await env.standin.pay_session(payment.external_id)) == 200
    status, charge = await payment_row(db, payment.id)
    assert status == "succeeded" and charge and charge.startswith("ch_")
    assert (await ledger_state(db))[f"escrow:milestone:{mid}"] == 42_000

    async with db.uow() as uow:
        await hourly.log_time(uow, clock, CONFIG, FREELANCER, contract_id, 210, "API")
        await uow.commit()
    clock.advance(days=7)
    async with db.uow() as uow:
        assert await hourly.close_weeks_due(uow, clock, CONFIG) == [week_id]
        await uow.commit()
    async with db.uow() as uow:
        await hourly.approve_invoice(uow, clock, CLIENT, week_id)
        await uow.commit()
    assert [r for r in env.standin.requests if r.path == "/v1/refunds"] == []
    assert await env.news.runner.calls.make_due(idle_seconds=0) == 1
    (refund,) = [r for r in env.standin.requests if r.path == "/v1/refunds"]
    assert refund.idempotency_key == f"refund:milestone:{mid}"
    assert refund.params["charge"] == charge
    # ($400.00 − $140.00) + ($20.00 − $7.00): the unused escrow and its fee.
    assert refund.params["amount"] == "27300"
    assert await milestone_status(db, mid) is MilestoneStatus.SPLIT
    balances = await ledger_state(db)
    assert balances[f"freelancer:{FREELANCER}"] == 12_600
    assert balances[f"escrow:milestone:{mid}"] == 0
    assert sum(balances.values()) == 0
    # A second run makes nothing again: the key is the refund's only movement.
    assert await env.news.runner.calls.make_due(idle_seconds=0) == 0


async def test_a_no_limit_invoice_is_paid_by_checkout_and_released_whole(
    stripe_env, db, clock
) -> None:
    """No limit: nothing pre-funded; the week's uncapped invoice is one Checkout
    payment (+ the client fee), released to the freelancer with nothing refunded."""
    env = stripe_env
    contract_id = await hourly_contract(db, clock, limit=NO_LIMIT)
    async with db.uow() as uow:
        (week_id,) = await hourly.open_weeks_due(uow, clock, CONFIG)
        await hourly.log_time(uow, clock, CONFIG, FREELANCER, contract_id, 12 * 60, "Migration")
        await uow.commit()
    clock.advance(days=7)
    async with db.uow() as uow:
        assert await hourly.close_weeks_due(uow, clock, CONFIG) == [week_id]
        mid = (await uow.weeks.get(week_id)).milestone_id
        await uow.commit()
    payment = await open_checkout(db, clock, CONFIG, env.gateway, CLIENT, mid)
    (created,) = [r for r in env.standin.requests if r.path == "/v1/checkout/sessions"]
    # 12 h × $40.00 = $480.00 (no cap), plus the 5 % client fee.
    assert created.params["line_items"][0]["price_data"]["unit_amount"] == "50400"
    assert await env.standin.deliver(await env.standin.pay_session(payment.external_id)) == 200
    assert await milestone_status(db, mid) is MilestoneStatus.RELEASED
    await env.news.runner.calls.make_due(idle_seconds=0)
    assert [r for r in env.standin.requests if r.path == "/v1/refunds"] == []
    balances = await ledger_state(db)
    assert balances[f"freelancer:{FREELANCER}"] == 43_200  # $480.00 less the 10 % fee
    assert balances[f"escrow:milestone:{mid}"] == 0
    assert sum(balances.values()) == 0
