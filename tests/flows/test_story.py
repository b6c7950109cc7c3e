"""The whole story (issue 3): a client, a freelancer and an admin play the marketplace
from /start to a withdrawal, only through chat events — commands, typed text, buttons
pressed by their visible label, files — against the real Engine on real SQLite.

Payments take the sandbox gateway's confirmation path (bot.payments.confirm.PaymentNews,
the function the sandbox payment page calls). The test asserts on what each person
sees at the key points, and on the ledger at the end against domain.fees.

A step that a flow cannot do yet is recorded as a gap, worked around by the same
use case the missing step would call, and the test is marked xfail at the end with
every gap named — so all the steps that work are still played and checked.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import NAME as SANDBOX
from bot.payments.sandbox import SandboxGateway, sandbox_charge_ref
from domain import ledger
from domain.config import MarketConfig
from domain.fees import funding_quote, settlement
from domain.states import ContractStatus, DisputeStatus, MilestoneStatus
from domain.usecases.disputes import resolve_dispute
from handlers.system import SystemRunner
from tests.flows.harness import Harness, Message, Person

ADMIN_ID = 900
CLIENT_BP, FREELANCER_BP = 500, 1000  # MarketConfig's defaults: 5 % and 10 %
M1, M2 = 30_000, 15_000  # the two milestones, in cents
SHARE_M2 = M2 * 40 // 100  # the admin's "40%" of milestone 2


class Gaps:
    """Problems found in the flows: each is named in the final xfail."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.found.append(problem)
        return ok


@pytest.fixture
def h(db, clock) -> Harness:
    gateway = SandboxGateway("http://127.0.0.1:8080", "story-secret")
    return Harness(db, clock, MarketConfig(admin_ids=frozenset({ADMIN_ID})), gateway)


def detached(obj):  # type: ignore[no-untyped-def]
    return dataclasses.replace(obj)


async def rows(h: Harness, repo: str, **where: object) -> list:
    async with h.db.uow() as uow:
        return [detached(o) for o in await getattr(uow, repo).find(**where)]


def runner(h: Harness) -> SystemRunner:
    return SystemRunner(h.db.uow, h.clock, h.config, gateway=h.engine.gateway)


def since(h: Harness, who: Person, count: int) -> list[Message]:
    """The messages that arrived in who's chat after it had `count` of them."""
    return h.chat(who)[count:]


def seen(h: Harness, who: Person, count: int, *fragments: str) -> Message:
    """The newest message since `count` whose text has all the fragments."""
    for message in reversed(since(h, who, count)):
        if all(f in message.text for f in fragments):
            return message
    shown = [m.text for m in since(h, who, count)]
    raise AssertionError(f"{who.name} did not see {fragments!r}; new messages: {shown}")


def unknown_command(message: Message) -> bool:
    return "don't know the command" in message.text


async def pay_on_the_sandbox_page(h: Harness, url: str) -> None:
    """What the payment page's Pay does: the signed link names our payment, and the
    page reports it through PaymentNews.succeeded (the path a Stripe webhook takes)."""
    parts = urlsplit(url)
    payment_id = int(parts.path.rsplit("/", 1)[1])
    gateway = h.engine.gateway
    assert isinstance(gateway, SandboxGateway)
    assert gateway.signer.verify(payment_id, parse_qs(parts.query)["sig"][0])
    [payment] = await rows(h, "payments", id=payment_id)
    assert payment.status == "pending"
    news = PaymentNews(runner(h))
    assert await news.succeeded(
        SANDBOX, payment.external_id, charge_ref=sandbox_charge_ref(payment_id)
    )
    await h.deliver()


def checkout_url(message: Message) -> str:
    [url] = [b["url"] for row in message.buttons or [] for b in row if "url" in b]
    return url


async def test_the_whole_story_from_start_to_withdrawal(h: Harness) -> None:
    gaps = Gaps()
    carla = h.person("Carla")
    fred = h.person("Fred")
    ada = h.person("Ada", id=ADMIN_ID)

    # --- everyone: /start and a role --------------------------------------------------
    for who, role in ((carla, "💼 I hire (client)"), (fred, "🧑‍💻 I work (freelancer)")):
        await h.send(who, "/start")
        assert "Welcome to Gigbot" in h.last(who).text
        await h.press(who, role)
    await h.send(ada, "/start")
    await h.press(ada, "🔁 Both")
    assert "You're set up as a client" in h.texts(carla)[-1]
    assert "📝 Post a job" in h.last(carla).labels()
    assert "🪪 My profile" in h.last(fred).labels()

    # --- the freelancer: a profile and a job alert -----------------------------------
    await h.send(fred, "/profile")
    assert "Profile 0% complete" in h.last(fred).text
    await h.press(fred, "➕ Add a headline")
    await h.send(fred, "Python developer, Telegram bots")
    await h.press(fred, "➕ Add skills")
    await h.press(fred, "Development")
    for skill in ("Python", "Telegram bots", "Backend & APIs"):
        await h.press(fred, skill)
    await h.press(fred, "✅ Done")
    await h.press(fred, "➕ Choose a category")
    await h.press(fred, "Development")
    await h.press(fred, "✏️ Hourly rate")
    await h.send(fred, "40")
    card = h.last(fred).text
    assert "Python developer, Telegram bots" in card and "$40.00/hour" in card
    assert "Skills: Python, Telegram bots, Backend & APIs" in card
    assert "Profile 55% complete" in card and "Next: write a bio" in card

    await h.send(fred, "/alerts")
    await h.press(fred, "➕ New alert")
    await h.press(fred, "Development")
    await h.press(fred, "Next ›")
    await h.press(fred, "Skip ›")  # any skill
    await h.send(fred, "bot")
    await h.send(fred, "100")
    await h.press(fred, "🔔 Instantly")
    assert "Alert created" in h.last(fred).text
    assert "Minimum budget: $100.00" in h.last(fred).text

    # --- the client posts a job through the wizard ------------------------------------
    await h.send(carla, "/post")
    await h.send(carla, "Telegram bot for a bakery")
    await h.send(carla, "A Telegram bot that takes orders for a small bakery, with an admin panel.")
    await h.press(carla, "Development")
    await h.press(carla, "Python")
    await h.press(carla, "✅ Done")
    await h.press(carla, "💰 Fixed price")
    await h.send(carla, "500")
    await h.press(carla, "⏭ No deadline")
    assert "Preview" in h.last(carla).text and "$500.00" in h.last(carla).text
    fred_seen = len(h.chat(fred))
    await h.press(carla, "🚀 Publish")
    assert "Published" in h.last(carla).text

    # --- the freelancer gets the alert and pitches from it ------------------------------
    alert = seen(h, fred, fred_seen, "New job for you", "Telegram bot for a bakery")
    assert alert.labels() == ["✋ Pitch", "🙈 Not interested"]
    await h.press(fred, "✋ Pitch")
    await h.send(fred, "I have built three ordering bots for cafés; two weeks is enough.")
    await h.send(fred, "450")
    await h.send(fred, "14")
    await h.press(fred, "No milestones")
    assert "Preview of your pitch" in h.last(fred).text
    carla_seen = len(h.chat(carla))
    await h.press(fred, "📤 Send pitch")
    assert "was sent" in h.last(fred).text
    seen(h, carla, carla_seen, "New pitch", "from Fred: $450.00, 14 days")

    # --- the client looks at the ranked pitches and hires with two milestones --------
    await h.send(carla, "/myjobs")
    await h.press(carla, "🟢 Telegram bot for a bakery · 1 ✋")
    await h.press(carla, "✋ Pitches (1)")
    ranked = h.last(carla)
    assert "best first" in ranked.text and "1. Fred — $450.00" in ranked.text
    assert "score" in ranked.text  # the freelancer's reputation beside the pitch
    await h.press(carla, "1. Fred")
    assert "I have built three ordering bots" in h.last(carla).text
    await h.press(carla, "🤝 Hire")
    await h.send(carla, "Ordering bot")
    await h.send(carla, "300")
    await h.press(carla, "No due date")
    await h.press(carla, "➕ Add a milestone")
    await h.send(carla, "Admin panel")
    await h.send(carla, "150")
    await h.press(carla, "No due date")
    offer = h.last(carla).text
    whole = funding_quote(M1 + M2, CLIENT_BP)
    assert f"You pay ${whole.total / 100:,.2f}" in offer  # 472.50: fees first, to the client
    fred_seen = len(h.chat(fred))
    await h.press(carla, "📨 Send offer")
    assert "Offer sent to Fred" in h.last(carla).text

    # --- the freelancer accepts --------------------------------------------------------
    offered = seen(h, fred, fred_seen, "offers you a contract", "1. Ordering bot — $300.00")
    assert "2. Admin panel — $150.00" in offered.text
    assert offered.labels() == ["✅ Accept", "❌ Decline", "✏️ Propose changes", "🚫 Block"]
    carla_seen = len(h.chat(carla))
    await h.press(fred, "✅ Accept")
    assert "The contract is active" in h.last(fred).text
    seen(h, carla, carla_seen, "Fred accepted your offer")
    [contract] = await rows(h, "contracts")
    m1, m2 = await rows(h, "milestones", contract_id=contract.id, order_by="position")

    # --- milestone 1: fees shown first, paid through the sandbox gateway -------------
    await h.press(carla, "💳 Fund milestone 1")
    quote = h.last(carla).text
    q1 = funding_quote(M1, CLIENT_BP)
    assert "Milestone: $300.00" in quote and "Client fee (5%): $15.00" in quote
    assert "Total to pay: $315.00" in quote and q1.total == 31_500
    assert await rows(h, "payments") == []  # nothing is charged before Pay
    await h.press(carla, "💳 Pay $315.00")
    carla_seen, fred_seen = len(h.chat(carla)), len(h.chat(fred))
    await pay_on_the_sandbox_page(h, checkout_url(h.last(carla)))
    seen(h, carla, carla_seen, "“Ordering bot” is funded.")
    assert "In escrow: $300.00 + $15.00 client fee" in h.last(carla).text
    funded = seen(h, fred, fred_seen, "funded “Ordering bot” ($300.00)")
    assert "📤 Submit work" in funded.labels()

    # --- the freelancer submits work with a file; the client approves and releases --
    await h.press(fred, "📤 Submit work")
    await h.upload(fred, "file-ordering-bot-v1", caption="The ordering bot: source and notes.")
    carla_seen = len(h.chat(carla))
    await h.press(fred, "📤 Submit work")
    assert "submitted" in h.last(fred).text
    files = [m for m in since(h, carla, carla_seen) if m.file_id == "file-ordering-bot-v1"]
    assert len(files) == 1
    review = seen(h, carla, carla_seen, "Fred submitted work for “Ordering bot”")
    assert "The ordering bot: source and notes." in review.text
    assert review.labels()[:2] == ["✅ Approve & release", "✏️ Request changes"]
    r1 = settlement(M1, M1, CLIENT_BP, FREELANCER_BP)
    await h.press(carla, "✅ Approve & release")
    assert "Fred receives $270.00 (after the 10% fee)" in h.last(carla).text
    assert r1.to_freelancer == 27_000
    fred_seen = len(h.chat(fred))
    await h.press(carla, "✅ Yes, release")
    assert "Released “Ordering bot”: Fred receives $270.00" in h.last(carla).text
    seen(h, fred, fred_seen, "approved “Ordering bot”: $270.00 is added to your balance")

    # --- milestone 2: funded from the contract card, submitted ----------------------
    await h.send(carla, "/contracts")
    await h.press(carla, "#1 Telegram bot for a bakery · active")
    assert "1. ✅ Ordering bot — $300.00 (released)" in h.last(carla).text
    await h.press(carla, "💳 Fund #2")
    assert "Total to pay: $157.50" in h.last(carla).text
    await h.press(carla, "💳 Pay $157.50")
    fred_seen = len(h.chat(fred))
    await pay_on_the_sandbox_page(h, checkout_url(h.last(carla)))
    seen(h, fred, fred_seen, "funded “Admin panel” ($150.00)")
    await h.press(fred, "📤 Submit work")
    await h.send(fred, "The admin panel is live on the staging bot.")
    await h.upload(fred, "file-admin-panel-v1", caption="Screenshots of the panel.")
    carla_seen = len(h.chat(carla))
    await h.press(fred, "📤 Submit work")
    review = seen(h, carla, carla_seen, "Fred submitted work for “Admin panel”")
    gaps.check(
        "The admin panel is live on the staging bot." in review.text,
        "work flow: a submission's typed message is silently replaced by a later file's "
        "caption (handlers/flows/work.py keeps only the last text as the message)",
    )

    # --- the client disputes milestone 2 with a reason and evidence -----------------
    await h.send(carla, "/mydisputes")
    await h.press(carla, "⚖️ Open a dispute")
    await h.press(carla, "Telegram bot for a ba… · Admin panel · $150.00")
    assert "$150.00 in escrow" in h.last(carla).text
    reason = "The admin panel is missing the order export we agreed on."
    await h.send(carla, reason)
    await h.upload(carla, "file-agreed-spec", caption="The spec we agreed.")
    fred_seen, ada_seen = len(h.chat(fred)), len(h.chat(ada))
    await h.press(carla, "⚖️ Open the dispute")
    assert "Dispute #1 — open" in h.last(carla).text and reason in h.last(carla).text
    told = seen(h, fred, fred_seen, "Carla opened dispute #1 on “Admin panel”", reason)
    assert "➗ Propose a split" in told.labels()  # Fred proposes nothing
    seen(h, ada, ada_seen, "New dispute #1 by Carla", "$150.00")
    [dispute] = await rows(h, "disputes")

    # --- the admin: /disputes, /dispute <id>, /resolve <id> 40% and confirm ---------
    r2 = settlement(M2, SHARE_M2, CLIENT_BP, FREELANCER_BP)
    carla_seen, fred_seen = len(h.chat(carla)), len(h.chat(fred))
    await h.send(ada, "/disputes")
    if gaps.check(
        not unknown_command(h.last(ada)),
        "admin flow missing: /disputes, /dispute <id> and /resolve <id> <share> answer "
        "“I don't know the command” (no handlers/flows/admin.py); the dispute is resolved "
        "through domain.usecases.disputes.resolve_dispute instead",
    ):
        assert "Open disputes (1)" in h.last(ada).text
        assert "⚖️ #1 · $150.00 · waiting for an answer" in h.last(ada).labels()
        await h.send(ada, f"/dispute {dispute.id}")
        evidence = h.last(ada).text
        assert reason in evidence and "🔒 In escrow: $150.00 + $7.50 client fee" in evidence
        assert "Timeline" in evidence and "Work submitted by Fred" in evidence
        assert "Freelancer Fred: 0 completed, 1 disputed" in evidence  # both records
        await h.send(ada, f"/resolve {dispute.id} 40%")
        confirm = h.last(ada)
        assert "Fred receives $54.00" in confirm.text and "Carla gets back $94.50" in confirm.text
        assert confirm.labels() == ["⏭ Skip — resolve without a reason", "✖️ Cancel"]
        assert [d.status for d in await rows(h, "disputes")] == [DisputeStatus.OPEN]
        await h.press(ada, "⏭ Skip — resolve without a reason")
    else:

        async def resolve(uow):  # type: ignore[no-untyped-def]
            return await resolve_dispute(
                uow, h.clock, h.config, h.engine.gateway, ADMIN_ID, dispute.id, SHARE_M2
            )

        assert await runner(h).run(resolve) == r2
        await h.deliver()
    for party in (carla, fred):
        told = seen(h, party, carla_seen if party is carla else fred_seen, "resolved")
        assert f"Fred receives ${r2.to_freelancer / 100:.2f}" in told.text  # $54.00
        assert f"Carla gets back ${r2.to_client / 100:.2f}" in told.text  # $94.50
    [dispute] = await rows(h, "disputes")
    assert dispute.status is DisputeStatus.RESOLVED and dispute.resolution_share == SHARE_M2

    # --- the contract ends; both rate each other; the reviews are revealed --------------
    await h.send(carla, "/contracts")
    await h.press(carla, "#1 Telegram bot for a bakery · active")
    assert "🔒 In escrow: $0.00" in h.last(carla).text
    await h.press(carla, "🏁 End contract")
    fred_seen = len(h.chat(fred))
    await h.press(carla, "🏁 Yes, end it")
    seen(h, carla, 0, "has ended")
    seen(h, fred, fred_seen, "Carla ended the contract")
    assert (await rows(h, "contracts"))[0].status is ContractStatus.ENDED
    await h.press(carla, "⭐⭐⭐⭐")
    await h.send(carla, "Fast and friendly; the export came after a dispute.")
    assert "stays hidden" in h.last(carla).text
    await h.send(fred, "/rate")
    await h.press(fred, "⭐ Carla · Telegram bot for a bakery")
    carla_seen, fred_seen = len(h.chat(carla)), len(h.chat(fred))
    await h.press(fred, "⭐⭐⭐⭐⭐")
    await h.send(fred, "Clear brief, paid promptly.")
    for party, about, stars in ((carla, "Clear brief", "★★★★★"), (fred, "Fast and", "★★★★☆")):
        shown = seen(
            h, party, carla_seen if party is carla else fred_seen, "are now visible", about
        )
        assert stars in shown.text

    # --- the ledger, against domain.fees ------------------------------------------------
    async with h.db.uow() as uow:
        assert await uow.ledger.total() == 0  # all postings sum to zero
        for m in (m1, m2):
            assert await uow.ledger.balance(ledger.escrow_account(m.id)) == 0
        balance = await uow.ledger.balance(ledger.freelancer_account(fred.id))
        fees = await uow.ledger.balance(ledger.PLATFORM_FEES)
        refund = [
            p.amount
            for p in await uow.ledger.postings_of(ledger.settle_key(m2.id))
            if p.account == ledger.gateway_account(SANDBOX)
        ]
    assert balance == r1.to_freelancer + r2.to_freelancer == 32_400
    assert fees == r1.to_platform + r2.to_platform == 5_400
    assert refund == [r2.to_client] and r2.to_client == 9_450
    assert [m.status for m in await rows(h, "milestones", order_by="position")] == [
        MilestoneStatus.RELEASED,
        MilestoneStatus.SPLIT,
    ]

    # --- the freelancer withdraws the balance -------------------------------------------
    await h.send(fred, "/balance")
    assert "Available to withdraw: $324.00" in h.last(fred).text
    await h.press(fred, "💸 Withdraw")
    await h.press(fred, "💸 Withdraw all ($324.00)")
    on_its_way, paid = h.texts(fred)[-2:]
    assert "Withdrawal #1 of $324.00 to your sandbox account is on its way" in on_its_way
    assert "✅ Paid out $324.00 to your sandbox account" in paid
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.freelancer_account(fred.id)) == 0
        assert await uow.ledger.balance(ledger.payouts_account(SANDBOX)) == balance
        assert await uow.ledger.total() == 0
    [payout] = await rows(h, "payouts")
    assert payout.amount == balance and payout.user_id == fred.id

    if gaps.found:
        pytest.xfail("; ".join(gaps.found))
