"""Verified badges (issue 12, part 3) with the sandbox gateway: 🪪 Identity verified
comes only from the gateway's identity page and goes when it is revoked; 💳 Payment
verified comes with a client's first succeeded payment and goes only when no payment
of theirs stands (a chargeback); both parties are told each time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.payments.sandbox import SandboxGateway, sandbox_charge_ref
from bot.payments.sandbox_page import install_routes
from domain.states import MilestoneStatus
from domain.usecases.track_record import client_records, freelancer_records
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import all_of, deal, fund, label, money_harness, news


@pytest.fixture
def h(any_db, clock) -> Harness:  # type: ignore[no-untyped-def]
    return money_harness(any_db, clock)


@pytest.fixture
async def page(h: Harness) -> AsyncIterator[TestClient]:
    """The sandbox gateway's pages, as `gigbot run` mounts them."""
    app = web.Application()
    gateway = h.engine.gateway
    assert isinstance(gateway, SandboxGateway)
    install_routes(app, gateway=gateway, news=news(h), chat_url="/")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def identity(h: Harness, who: Person) -> bool:
    async with h.db.uow() as uow:
        return (await freelancer_records(uow, h.clock, [who.id]))[who.id].identity_verified


async def payment(h: Harness, who: Person) -> bool:
    async with h.db.uow() as uow:
        return (await client_records(uow, h.config, [who.id]))[who.id].payment_verified


def said(h: Harness, who: Person, text: str) -> int:
    return sum(text in m.text for m in h.chat(who))


async def test_identity_only_from_the_gateways_page_and_gone_when_revoked(
    h: Harness, page: TestClient
) -> None:
    carla, fred, _cid, _ = await deal(h)
    await h.send(fred, "/profile")
    assert "🪪 Identity not verified" in h.last(fred).text
    await h.press(fred, label("verify.btn.open"))
    [go] = [b for row in h.last(fred).buttons or [] for b in row if "url" in b]
    link = urlsplit(go["url"])
    assert link.path == f"/verify/{fred.id}"
    target = f"{link.path}?{link.query}"

    # Opening the page, pressing the profile's button again, or a forged link
    # changes nothing: only the gateway's decision does.
    resp = await page.get(target)
    assert resp.status == 200 and "unverified" in await resp.text()
    forged = await page.post(f"/verify/{fred.id}?sig=0000", data={"action": "verify"})
    assert forged.status == 403
    someone_else = await page.post(f"/verify/{carla.id}?{link.query}", data={"action": "verify"})
    assert someone_else.status == 403
    assert not await identity(h, fred)
    assert await all_of(h, "verifications", order_by="user_id") == []

    # The gateway verifies: the badge appears and both parties are told.
    resp = await page.post(target, data={"action": "verify"}, allow_redirects=False)
    assert resp.status == 303
    await h.deliver()
    assert await identity(h, fred)
    assert said(h, fred, "Our payment provider verified your identity") == 1
    assert said(h, carla, "Fred 🦊's identity is now verified") == 1
    await h.send(fred, "/profile")
    assert "🪪 Identity verified" in h.last(fred).text
    assert label("verify.btn.open") not in h.last(fred).labels()
    await h.press_data(fred, "vf:start")  # an old button: nothing to check any more
    assert "Your identity is verified by our payment provider" in h.last(fred).text
    # Verified twice is one change: nobody is told again.
    await page.post(target, data={"action": "verify"}, allow_redirects=False)
    await h.deliver()
    assert said(h, fred, "Our payment provider verified your identity") == 1

    # The gateway revokes it: the badge goes, both are told.
    resp = await page.post(target, data={"action": "revoke"}, allow_redirects=False)
    assert resp.status == 303
    await h.deliver()
    assert not await identity(h, fred)
    assert said(h, fred, "no longer confirms your identity") == 1
    assert said(h, carla, "Fred 🦊's identity is no longer verified") == 1
    await h.send(fred, "/profile")
    assert "🪪 Identity not verified" in h.last(fred).text


async def test_payment_verified_from_the_first_payment_until_no_payment_stands(
    h: Harness,
) -> None:
    carla, fred, _cid, [first, second] = await deal(h, amounts=("100", "50"))
    assert not await payment(h, carla)

    await fund(h, carla, first)
    assert await payment(h, carla)
    assert said(h, carla, "Your first payment went through") == 1
    assert said(h, fred, "Carla <Client> & Co's payment is now verified") == 1
    # The funding stays the last word, with its buttons.
    assert "is funded" in h.last(carla).text

    # The marketplace refunds the first milestone in full: the card did pay, so the
    # badge stays (only the bank taking a payment back counts against it).
    await h.press_data(fred, encode("wk", "refund", first))
    await h.press(fred, label("work.btn.refund_confirm"))
    assert [m.status for m in await all_of(h, "milestones", id=first)] == [MilestoneStatus.REFUNDED]
    assert await payment(h, carla)
    assert said(h, carla, "was charged back") == 0

    await fund(h, carla, second)  # a second payment is no news
    assert said(h, carla, "Your first payment went through") == 1

    # A chargeback of one payment: another still proves it, the badge stays.
    one, two = await all_of(h, "payments", status="succeeded")
    await news(h).chargeback(
        "sandbox", [sandbox_charge_ref(one.id)], reason="chargeback:fraudulent"
    )
    await h.deliver()
    assert await payment(h, carla)
    assert said(h, carla, "was charged back") == 0

    # The last one charged back too: the badge goes, both are told; a replay is no news.
    for _ in range(2):
        await news(h).chargeback(
            "sandbox", [sandbox_charge_ref(two.id)], reason="chargeback:fraudulent"
        )
        await h.deliver()
    assert not await payment(h, carla)
    assert said(h, carla, "Your payment was charged back") == 1
    assert said(h, fred, "Carla <Client> & Co's payment is no longer verified") == 1
