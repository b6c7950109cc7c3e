"""The whole three-person story with GIGBOT_PAYMENTS=stripe, through chat events.

Carla (client), Fred (freelancer) and Ada (admin) are played with the flows'
harness against the real Engine on SQLite; the engine's gateway is the
StripeGateway that bot/payments/setup.py builds (the official `stripe`
library), talking over loopback to the stand-in (Checkout, Connect, Transfers)
in front of localstripe (PaymentIntents, charges, refunds). Funding completes
by Stripe's signed checkout.session.completed reaching our real
POST /stripe/webhook route (setup.py's routes on an aiohttp server), and
localstripe posts its own payment_intent.* / charge.* events there too.

Start → post a job → pitch → offer → fund → submit → release (the share waits
for Connect onboarding, then is transferred); a second milestone is funded,
disputed and split by the admin (the client's part refunded through the
Refunds API, the freelancer's transferred on the next tick); both review. At
the end the ledger equals what Stripe's side recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from localstripe import resources as ls_resources

from bot.payments.setup import StripeSetup, build_stripe
from domain import ledger
from domain.fees import funding_quote, settlement
from domain.states import ContractStatus, DisputeStatus, MilestoneStatus, ReviewStatus
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import all_of, enter_milestone, join_as, label
from tests.flows.test_post_job import post_job
from tests.payments.market import CONFIG
from tests.payments.stripe_chat import milestone_status, pending_session, wallet
from tests.payments.stripe_servers import (
    API_KEY,
    CHAT_URL,
    WEBHOOK_SECRET,
    Deliveries,
    recorder,
    register_webhook,
)
from tests.payments.stripe_standin import StandIn

ADMIN_ID = 9  # CONFIG.admin_ids
LOGO, GUIDE = 30_000, 20_000  # the two milestones, in cents
CLIENT_BP, FREELANCER_BP = CONFIG.client_fee_bp, CONFIG.freelancer_fee_bp


@dataclass
class Stripe:
    standin: StandIn
    setup: StripeSetup
    deliveries: Deliveries


@pytest.fixture
async def stripe(localstripe: str, db, clock) -> AsyncIterator[Stripe]:  # type: ignore[no-untyped-def]
    standin = StandIn(localstripe_url=localstripe)
    standin_server = TestServer(standin.app(), host="127.0.0.1")
    await standin_server.start_server()
    setup = build_stripe(
        db.uow,
        clock,
        CONFIG,
        secret_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        public_url="http://127.0.0.1:8080",
        chat_url=CHAT_URL,
        api_base=str(standin_server.make_url("")).rstrip("/"),
    )
    deliveries = Deliveries()
    app = web.Application(middlewares=[recorder(deliveries)])
    setup.install_routes(app)  # POST /stripe/webhook, as the runtime mounts it
    hook_server = TestServer(app, host="127.0.0.1")
    await hook_server.start_server()
    hook_url = str(hook_server.make_url("/stripe/webhook"))
    standin.webhook_url, standin.webhook_secret = hook_url, WEBHOOK_SECRET
    await register_webhook(localstripe, hook_url)
    try:
        yield Stripe(standin, setup, deliveries)
    finally:
        await standin.close()
        await setup.close()
        await hook_server.close()
        await standin_server.close()


async def pay(h: Harness, s: Stripe, client: Person, mid: int, total: str) -> str:
    """The quote's Pay button → the Checkout link; the payer pays; Stripe's signed
    checkout.session.completed reaches POST /stripe/webhook. Returns the charge."""
    await h.press(client, label("funding.btn.pay", total=total))
    session_id = await pending_session(h, mid)
    link = [b["url"] for row in h.last(client).buttons or [] for b in row if "url" in b]
    assert link == [s.standin.sessions[session_id]["url"]]
    completed = await s.standin.pay_session(session_id)
    assert await s.standin.deliver(completed) == 200
    await h.deliver()
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    [payment] = await all_of(h, "payments", milestone_id=mid, status="succeeded")
    assert payment.charge_ref.startswith("ch_")
    return payment.charge_ref  # type: ignore[no-any-return]


async def submit_work(h: Harness, fred: Person, note: str) -> None:
    await h.press(fred, label("funding.btn.submit"))  # on the "milestone funded" message
    await h.send(fred, note)
    await h.press(fred, label("work.btn.send"))


async def rate(h: Harness, who: Person, cid: int, stars: int, text: str | None) -> None:
    await h.press_data(who, f"rv:new:{cid}")
    await h.press_data(who, f"rv:st:{cid}:{stars}", h.last(who).message_id)
    if text is None:
        await h.press_data(who, "rv:skip", h.last(who).message_id)
    else:
        await h.send(who, text)


async def test_the_whole_story_with_stripe(stripe: Stripe, db, clock) -> None:
    s = stripe
    h = Harness(db, clock, CONFIG, s.setup.gateway)
    carla = h.person("Carla <Client>")
    fred = h.person("Fred 🦊")
    ada = h.person("Ada", id=ADMIN_ID)

    # --- start, post a job, pitch, offer ------------------------------------------------
    await join_as(h, carla, "client")
    await join_as(h, fred, "freelancer")
    await h.send(ada, "/start")
    await post_job(h, carla, title="Logo & brand guide for a bakery", amount="500")
    [job] = await all_of(h, "jobs")
    await h.send(fred, f"/start job_{job.id}")
    await h.press(fred, label("btn.pitch"))
    await h.send(fred, "Ten years of logos for bakeries; two concepts in three days.")
    await h.send(fred, "500")
    await h.send(fred, "10")
    await h.press(fred, label("pitch.btn_ms_skip"))
    await h.press(fred, label("pitch.btn_send"))
    [pitch] = await all_of(h, "pitches")
    assert any("Fred" in t for t in h.texts(carla))  # the client hears of the pitch

    await h.press_data(carla, f"of:new:{pitch.id}")  # Hire
    await enter_milestone(h, carla, "Logo", "300")
    await h.press(carla, label("offers.btn.more"))
    await enter_milestone(h, carla, "Brand guide", "200")
    await h.press(carla, label("offers.btn.send_new"))
    await h.press(fred, label("offers.btn.accept"))
    [contract] = await all_of(h, "contracts")
    cid = contract.id
    assert contract.status is ContractStatus.ACTIVE
    logo, guide = [m.id for m in await all_of(h, "milestones", order_by="position")]

    # --- milestone 1: fund by Stripe Checkout, submit, release ---------------------------
    await h.press(carla, label("offers.btn.fund_first", n=1))
    logo_quote = funding_quote(LOGO, CLIENT_BP)
    assert "$15.00" in h.last(carla).text  # the 5 % client fee, shown before paying
    logo_charge = await pay(h, s, carla, logo, "$315.00")
    await s.deliveries.wait_kind("payment_intent.succeeded")  # localstripe's own: a no-op
    await submit_work(h, fred, "Two concepts attached; the second is my favourite.")
    await h.press(carla, label("work.btn.approve"))
    await h.press(carla, label("work.btn.release_confirm"))
    assert await milestone_status(h, logo) is MilestoneStatus.RELEASED
    assert await wallet(h, fred) == 27_000  # waits: Fred has no Stripe account yet
    assert s.standin.transfers == {}

    # Fred sets up payouts from /balance; Stripe says onboarding is finished.
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    setup_link = h.last(fred).button(label("balance.btn.setup"))
    assert setup_link is not None and setup_link["url"].startswith("https://connect.stripe.com/")
    (account_id,) = s.standin.accounts
    assert await s.standin.deliver(s.standin.complete_onboarding(account_id)) == 200
    await h.deliver()
    assert await wallet(h, fred) == 0
    assert "$270.00" in h.last(fred).text  # told of the transfer

    # --- milestone 2: funded, disputed, split by the admin --------------------------------
    await h.press_data(carla, f"fd:q:{guide}")
    guide_quote = funding_quote(GUIDE, CLIENT_BP)
    guide_charge = await pay(h, s, carla, guide, "$210.00")
    await s.deliveries.wait_kind("payment_intent.succeeded", 2)
    await submit_work(h, fred, "The brand guide, 12 pages.")
    await h.press_data(carla, f"dsp:new:{guide}")
    await h.send(carla, "The guide misses the colour palette and the typography we agreed.")
    await h.press_data(carla, "dsp:go", h.last(carla).message_id)
    [dispute] = await all_of(h, "disputes")
    assert any(f"#{dispute.id}" in t for t in h.texts(ada))  # the admin is told

    await h.send(ada, f"/resolve {dispute.id} 50% Half the guide was delivered.")
    split = settlement(GUIDE, GUIDE // 2, CLIENT_BP, FREELANCER_BP)
    assert "$90.00" in h.last(ada).text  # who gets what, before anything moves
    await h.press(ada, label("adm.btn.resolve_sure"))
    [dispute] = await all_of(h, "disputes")
    assert dispute.status is DisputeStatus.RESOLVED
    assert await milestone_status(h, guide) is MilestoneStatus.SPLIT
    # Stripe reports our own refund back (localstripe sends no charge.* events): no freeze.
    refunded = s.standin.event(
        "charge.refunded",
        {"id": guide_charge, "object": "charge", "amount_refunded": split.to_client},
    )
    assert await s.standin.deliver(refunded) == 200
    assert await milestone_status(h, guide) is MilestoneStatus.SPLIT
    assert await wallet(h, fred) == split.to_freelancer
    assert await s.setup.reconciler.run_once() == 1  # the scheduler's tick: the transfer
    await h.deliver()
    assert await wallet(h, fred) == 0

    # --- the contract ends; both review ------------------------------------------------
    await h.press_data(carla, f"ct:endok:{cid}")
    await rate(h, carla, cid, 5, "Lovely logo, quick and clear.")
    await rate(h, fred, cid, 4, None)
    async with db.uow() as uow:
        assert [r.status for r in await uow.reviews.find(contract_id=cid)] == [
            ReviewStatus.REVEALED
        ] * 2

    # --- the ledger equals Stripe's side ---------------------------------------------------
    async with db.uow() as uow:
        balances = await uow.ledger.balances()
        assert await uow.ledger.total() == 0
    charges = [o for k, o in ls_resources.store.items() if k.startswith("charge:")]
    refunds = [o for k, o in ls_resources.store.items() if k.startswith("refund:")]
    charged = sum(c.amount for c in charges if c.status == "succeeded" and c.captured)
    assert {c.id for c in charges} == {logo_charge, guide_charge}
    assert charged == logo_quote.total + guide_quote.total == 52_500
    assert [(r.charge, r.amount) for r in refunds] == [(guide_charge, split.to_client)]
    transfers = list(s.standin.transfers.values())
    release = settlement(LOGO, LOGO, CLIENT_BP, FREELANCER_BP)
    assert sorted((t["amount"], t["transfer_group"]) for t in transfers) == sorted(
        [(release.to_freelancer, f"contract_{cid}"), (split.to_freelancer, f"contract_{cid}")]
    )
    assert {t["source_transaction"] for t in transfers} == {logo_charge, guide_charge}
    assert {t["destination"] for t in transfers} == {account_id}

    # The gateway account holds what Stripe kept: charges less refunds.
    assert -balances[ledger.gateway_account("stripe")] == charged - split.to_client
    assert balances[ledger.payouts_account("stripe")] == sum(t["amount"] for t in transfers)
    assert balances[ledger.PLATFORM_FEES] == release.to_platform + split.to_platform
    assert balances[ledger.PLATFORM_FEES] == charged - sum(r.amount for r in refunds) - sum(
        t["amount"] for t in transfers
    )
    for mid in (logo, guide):
        assert balances.get(ledger.escrow_account(mid), 0) == 0
    assert balances.get(ledger.freelancer_account(fred.id), 0) == 0
    assert s.standin.violations == []
