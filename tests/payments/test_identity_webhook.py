"""🪪 Identity verified with Stripe: the badge follows what Stripe's account.updated
says of the Connect account's person (individual.verification.status and the
requirements still due), delivered signed to POST /stripe/webhook; it appears only
after Stripe says "verified" and goes when Stripe asks for the identity again."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import stripe_payments
from bot.config import Settings
from bot.payments.stripe_gateway import identity_status
from domain.usecases.track_record import freelancer_records
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import deal, label
from tests.payments.market import CONFIG
from tests.payments.stripe_servers import API_KEY, WEBHOOK_SECRET
from tests.payments.test_connect_webhook import CONNECT_SECRET, post


async def verified(h: Harness, who: Person) -> bool:
    async with h.db.uow() as uow:
        return (await freelancer_records(uow, h.clock, [who.id]))[who.id].identity_verified


def said(h: Harness, who: Person, text: str) -> int:
    return sum(text in m.text for m in h.chat(who))


async def test_account_updated_gives_and_takes_the_identity_badge(chat_env, db, clock) -> None:
    settings = Settings(
        _env_file=None,
        payments="stripe",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_connect_webhook_secret=CONNECT_SECRET,
        stripe_api_base=chat_env.base_url,
    )
    payments = stripe_payments(
        settings, db, clock, settings.public_url, "https://t.me/gigbot_test_bot"
    )
    app = web.Application()
    for hook in payments.route_hooks:
        hook(app)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        h = Harness(db, clock, CONFIG, payments.gateway)
        carla, fred, _cid, _ = await deal(h)
        # The profile's button leads to Stripe's onboarding, which checks identity.
        await h.send(fred, "/profile")
        await h.press(fred, label("verify.btn.open"))
        [go] = [b for row in h.last(fred).buttons or [] for b in row if "url" in b]
        assert go["url"].startswith("http")
        (account_id,) = chat_env.standin.accounts

        # Onboarding finished but nothing said of the person's identity: no badge.
        assert (
            await post(client, chat_env.standin.complete_onboarding(account_id), CONNECT_SECRET)
            == 200
        )
        await h.deliver()
        assert not await verified(h, fred)
        # Stripe is still checking: no badge.
        pending = chat_env.standin.verify_identity(account_id, "pending")
        assert await post(client, pending, CONNECT_SECRET) == 200
        assert not await verified(h, fred)

        # Stripe says verified: the badge, both parties told; a replay is no news.
        event = chat_env.standin.verify_identity(account_id, "verified")
        assert await post(client, event, "whsec_someone_else") == 400
        assert not await verified(h, fred)
        for _ in range(2):
            assert await post(client, event, CONNECT_SECRET) == 200
            await h.deliver()
        assert await verified(h, fred)
        assert said(h, fred, "Our payment provider verified your identity") == 1
        assert said(h, carla, "Fred 🦊's identity is now verified") == 1
        await h.send(fred, "/profile")
        assert "🪪 Identity verified" in h.last(fred).text

        # Stripe asks for an identity document again: the badge goes, both told.
        again = chat_env.standin.verify_identity(
            account_id, "verified", due=("individual.verification.document",)
        )
        assert await post(client, again, CONNECT_SECRET) == 200
        await h.deliver()
        assert not await verified(h, fred)
        assert said(h, fred, "no longer confirms your identity") == 1
        assert said(h, carla, "Fred 🦊's identity is no longer verified") == 1

        # Verified again at Stripe, but the event is lost: the next press of Verify
        # identity asks Stripe and gives the badge.
        chat_env.standin.verify_identity(account_id, "verified")  # not delivered
        assert not await verified(h, fred)
        await h.send(fred, "/profile")
        await h.press(fred, label("verify.btn.open"))
        assert said(h, fred, "Our payment provider verified your identity") == 2
        assert await verified(h, fred)
        assert said(h, carla, "Fred 🦊's identity is now verified") == 2
        assert chat_env.standin.violations == []
    finally:
        await client.close()
        assert payments.close is not None
        await payments.close()


def test_identity_status_reads_the_account_object() -> None:
    person = {"individual": {"verification": {"status": "verified"}}}
    assert identity_status(person) == "verified"
    assert identity_status({**person, "requirements": {"currently_due": []}}) == "verified"
    for due in ("currently_due", "past_due"):
        asked = {"requirements": {due: ["individual.verification.document"]}}
        assert identity_status({**person, **asked}) == "unverified"
    error = {"requirements": {"errors": [{"requirement": "individual.id_number"}]}}
    assert identity_status({**person, **error}) == "unverified"
    # Other requirements (a bank account) are not about identity.
    other = {"requirements": {"past_due": ["external_account"]}}
    assert identity_status({**person, **other}) == "verified"
    assert identity_status({"individual": {"verification": {"status": "pending"}}}) == "pending"
    # Nothing said of a person (e.g. a company's account): never inferred.
    assert identity_status({"details_submitted": True, "charges_enabled": True}) == "unverified"
