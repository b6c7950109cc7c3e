"""The sandbox gateway and its page, against a real SQLite database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import SandboxGateway
from bot.payments.sandbox_page import install_routes
from domain.states import MilestoneStatus
from storage.database import Database
from tests.clock import ManualClock
from tests.funding import open_checkout
from tests.payments.market import CONFIG, Deal, ledger_state, make_deal

PUBLIC = "http://127.0.0.1:8080"


@pytest.fixture
def gateway() -> SandboxGateway:
    return SandboxGateway(PUBLIC, "test-secret")


@pytest.fixture
async def client(gateway: SandboxGateway, news: PaymentNews) -> AsyncIterator[TestClient]:
    app = web.Application()
    install_routes(app, gateway=gateway, news=news, chat_url="/")
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c


async def _start(db: Database, clock: ManualClock, gateway: SandboxGateway, deal: Deal) -> str:
    payment = await open_checkout(db, clock, CONFIG, gateway, deal.client_id, deal.milestone_id)
    assert payment.checkout_url
    url = urlsplit(payment.checkout_url)
    assert f"{url.scheme}://{url.netloc}" == PUBLIC
    return f"{url.path}?{url.query}"


async def _milestone_status(db: Database, milestone_id: int) -> MilestoneStatus:
    async with db.uow() as uow:
        m = await uow.milestones.get(milestone_id)
        assert m is not None
        return m.status


async def _outbox_kinds(db: Database) -> list[str]:
    async with db.uow() as uow:
        return [m.payload.get("kind") for m in await uow.outbox.find()]


async def test_checkout_is_idempotent_per_key(gateway: SandboxGateway, db, clock) -> None:
    deal = await make_deal(db, clock)
    first = await _start(db, clock, gateway, deal)
    second = await _start(db, clock, gateway, deal)  # a double tap
    assert first == second
    async with db.uow() as uow:
        assert await uow.payments.count(milestone_id=deal.milestone_id) == 1


async def test_page_shows_amount_fee_and_total_escaped(client, gateway, db, clock) -> None:
    deal = await make_deal(db, clock, amounts=(12_345,))
    path = await _start(db, clock, gateway, deal)
    resp = await client.get(path)
    assert resp.status == 200
    page = await resp.text()
    assert "$123.45" in page  # amount
    assert "$6.17" in page  # 5 % client fee, rounded half up (617.25 cents → 617)
    assert "$129.62" in page  # total
    assert "Design &amp; &lt;b&gt;build&lt;/b&gt; 1" in page  # user text escaped
    assert "<b>build</b>" not in page
    assert "Pay (test card)" in page and "Decline (test card)" in page


async def test_pay_funds_once_even_when_posted_twice(client, gateway, db, clock) -> None:
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    first = await client.post(path, data={"action": "pay"})
    assert first.status == 200
    assert "Paid — return to the chat" in await first.text()
    assert 'href="/"' in await first.text()
    again = await asyncio.gather(*(client.post(path, data={"action": "pay"}) for _ in range(3)))
    assert all(r.status == 200 for r in again)

    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED
    balances = await ledger_state(db)
    assert balances[f"escrow:milestone:{deal.milestone_id}"] == 10_500
    assert balances["gateway:sandbox"] == -10_500
    async with db.uow() as uow:
        assert len(await uow.ledger.transactions("escrow:")) == 1
        (payment,) = await uow.payments.find(milestone_id=deal.milestone_id)
        assert payment.status == "succeeded" and payment.charge_ref == f"sbx_ch_{payment.id}"
    # The notification committed with the money, once.
    assert (await _outbox_kinds(db)).count("milestone_funded") == 1


async def test_decline_leaves_ledger_untouched_and_allows_retry(client, gateway, db, clock) -> None:
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    resp = await client.post(path, data={"action": "decline"})
    assert resp.status == 200
    assert "Payment declined" in await resp.text()
    assert await ledger_state(db) == {}
    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.PENDING
    # Pay after a decline does nothing: that payment is decided.
    await client.post(path, data={"action": "pay"})
    assert await ledger_state(db) == {}
    # A new attempt gets a new payment and a new link, and works.
    retry = await _start(db, clock, gateway, deal)
    assert retry != path
    assert (await client.post(retry, data={"action": "pay"})).status == 200
    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED


async def test_bad_signature_is_refused_and_changes_nothing(client, gateway, db, clock) -> None:
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    forged = path.split("?")[0] + "?sig=" + "0" * 64
    assert (await client.get(forged)).status == 403
    assert (await client.post(forged, data={"action": "pay"})).status == 403
    assert (await client.get(path.split("?")[0])).status == 403  # no sig at all
    # Another payment's signature does not open this one.
    other = path.replace(f"/pay/{path.split('/')[2].split('?')[0]}", "/pay/999")
    assert (await client.post(other, data={"action": "pay"})).status == 403
    assert await ledger_state(db) == {}
    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING


async def test_a_non_ascii_signature_is_refused_not_a_server_error(
    client, gateway, db, clock
) -> None:
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    forged = path.split("?")[0] + "?sig=%C3%A9"  # "é": hmac.compare_digest raises on str
    assert (await client.get(forged)).status == 403
    assert (await client.post(forged, data={"action": "pay"})).status == 403
    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING


async def test_a_form_bigger_than_pay_or_decline_is_refused(client, gateway, db, clock) -> None:
    """The form says "pay" or "decline": 64 KiB of it (well under aiohttp's own 1 MiB)
    is a 413 once the link is checked, and pays nothing."""
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    huge = {"action": "pay", "padding": "x" * (64 * 1024)}
    assert (await client.post(path, data=huge)).status == 413
    assert await ledger_state(db) == {}
    assert await _milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING


async def test_unknown_action_and_unknown_payment(client, gateway, db, clock) -> None:
    deal = await make_deal(db, clock)
    path = await _start(db, clock, gateway, deal)
    assert (await client.post(path, data={"action": "steal"})).status == 400
    assert (await client.get(f"/pay/77?sig={gateway.signer.sign(77)}")).status == 404
    assert (await client.get("/pay/abc?sig=x")).status == 404
    assert await ledger_state(db) == {}


async def test_every_page_says_test_no_real_money(client, gateway, db, clock) -> None:
    """Checkout, outcome and refusal pages alike carry the banner: the sandbox gateway
    never takes real money, and a payer must not think it did."""
    banner = "TEST — no real money"
    deal = await make_deal(db, clock, amounts=(10_000, 20_000))
    pay = await _start(db, clock, gateway, deal)
    pages = [await client.get(pay), await client.post(pay, data={"action": "pay"})]
    decline = await _start(db, clock, gateway, replace(deal, milestone_ids=deal.milestone_ids[1:]))
    pages.append(await client.post(decline, data={"action": "decline"}))
    pages += [
        await client.get(pay.split("?")[0] + "?sig=" + "0" * 64),  # 403
        await client.get(f"/pay/77?sig={gateway.signer.sign(77)}"),  # 404
        await client.get("/pay/abc?sig=x"),  # 404
        await client.post(pay, data={"action": "steal"}),  # 400
    ]
    assert [r.status for r in pages] == [200, 200, 200, 403, 404, 404, 400]
    for resp in pages:
        text = await resp.text()
        assert resp.content_type == "text/html"
        assert banner in text and "<title>TEST · " in text, text


async def test_refund_and_payout_succeed_locally(gateway: SandboxGateway) -> None:
    """The sandbox's books keep one movement per key: asked again (a retry after a
    crash), the same id comes back and nothing more is recorded."""
    from domain.entities import GatewayCall

    def call(kind: str, key: str, amount: int) -> GatewayCall:
        return GatewayCall(key=key, kind=kind, gateway="sandbox", amount=amount, currency="USD")

    re1 = await gateway.execute(call("refund", "refund:milestone:1", 50))
    assert re1.startswith("sbx_re_")
    assert re1 == await gateway.execute(call("refund", "refund:milestone:1", 50))
    tr = await gateway.execute(call("payout", "payout:3", 40))
    assert tr.startswith("sbx_tr_")
    moved = await gateway.books.movements()
    assert [(m.key, m.amount) for m in moved] == [("refund:milestone:1", 50), ("payout:3", 40)]
