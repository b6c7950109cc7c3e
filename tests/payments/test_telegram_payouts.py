"""A milestone paid inside Telegram (Stripe as Telegram's provider) is paid out like
a Stripe Checkout one: the freelancer's Transfer names the provider's Stripe charge
as its source_transaction; a dispute of that charge freezes the milestone
(issue 18, part 2)."""

from __future__ import annotations

import aiohttp

from bot.payments.confirm import PaymentNews
from bot.payments.setup import build_stripe
from bot.payments.telegram_pay import TelegramPaymentsGateway
from domain.states import MilestoneStatus
from domain.usecases.milestones import release, submit_work
from domain.usecases.payment_checks import Received, confirm_checked
from handlers.gateway_calls import GatewayCallRunner
from handlers.system import SystemRunner
from tests.funding import open_checkout
from tests.payments.market import CONFIG, make_deal, outbox_renderer
from tests.payments.stripe_servers import API_KEY, WEBHOOK_SECRET, open_stripe_env


async def provider_charge(localstripe: str, amount: int) -> str:
    """What Telegram's provider does when the payer confirms: a charge at Stripe."""
    form = {
        "amount": str(amount),
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(
            localstripe + "/v1/payment_intents",
            data=form,
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as r:
            intent = await r.json()
    charge = intent["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)


async def test_a_telegram_paid_milestone_is_transferred_from_its_charge(
    db, clock, localstripe
) -> None:
    env = await open_stripe_env(
        localstripe, PaymentNews(SystemRunner(db.uow, clock, CONFIG, render=outbox_renderer))
    )
    try:
        setup = build_stripe(  # GIGBOT_PAYMENTS=telegram, as bot/app.py wires it
            db.uow,
            clock,
            CONFIG,
            secret_key=API_KEY,
            webhook_secret=WEBHOOK_SECRET,
            public_url="http://127.0.0.1:8080",
            chat_url="https://t.me/gigbot_test_bot",
            api_base=env.base_url,
            gateway_class=TelegramPaymentsGateway,
        )
        tg, connect = setup.gateway, setup.connect
        deal = await make_deal(db, clock)
        payment = await open_checkout(db, clock, CONFIG, tg, deal.client_id, deal.milestone_id)
        assert payment.external_id == f"tginv_{payment.id}" and payment.amount == 10_500
        charge = await provider_charge(localstripe, payment.amount)
        async with db.uow() as uow:
            received = Received(ref="tgch_1", amount=payment.amount, currency="USD")
            assert await confirm_checked(
                uow, clock, CONFIG, "telegram", payment.external_id, received, charge
            )
            await submit_work(uow, clock, CONFIG, deal.freelancer_id, deal.milestone_id, "Done.")
            await release(uow, clock, CONFIG, deal.client_id, deal.milestone_id)
            await connect.onboarding_link(uow, clock, deal.freelancer_id)
            await uow.commit()
        (account_id,) = env.standin.accounts
        env.standin.complete_onboarding(account_id)
        async with db.uow() as uow:
            await connect.store_status(uow, clock, account_id, True)
            await uow.commit()
        async with db.uow() as uow:
            assert await connect.transfer_milestone(uow, clock, deal.milestone_id)
            await uow.commit()
        assert await GatewayCallRunner(db.uow, clock, CONFIG, tg).make_due(idle_seconds=0) == 1
        (transfer,) = env.standin.transfers.values()
        assert transfer["source_transaction"] == charge
        assert (transfer["amount"], transfer["destination"]) == (9_000, account_id)
        assert env.standin.violations == []
        await setup.close()
    finally:
        await env.close()


async def test_a_dispute_of_the_provider_charge_freezes_the_milestone(
    db, clock, localstripe
) -> None:
    env = await open_stripe_env(
        localstripe, PaymentNews(SystemRunner(db.uow, clock, CONFIG, render=outbox_renderer))
    )
    setup = build_stripe(
        db.uow,
        clock,
        CONFIG,
        secret_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        public_url="http://127.0.0.1:8080",
        chat_url="https://t.me/gigbot_test_bot",
        api_base=env.base_url,
        gateway_class=TelegramPaymentsGateway,
    )
    try:
        deal = await make_deal(db, clock)
        payment = await open_checkout(
            db, clock, CONFIG, setup.gateway, deal.client_id, deal.milestone_id
        )
        charge = await provider_charge(localstripe, payment.amount)
        async with db.uow() as uow:
            received = Received(ref="tgch_2", amount=payment.amount, currency="USD")
            assert await confirm_checked(
                uow, clock, CONFIG, "telegram", payment.external_id, received, charge
            )
            await uow.commit()
        # The payer disputes the charge at their bank: Stripe's signed event reaches us.
        await setup.webhook.apply(env.standin.dispute(charge, None, payment.amount))
        async with db.uow() as uow:
            milestone = await uow.milestones.get(deal.milestone_id)
            assert milestone is not None and milestone.status is MilestoneStatus.FROZEN
    finally:
        await setup.close()
        await env.close()
