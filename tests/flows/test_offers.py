"""Hire (FLOWS 14) and answering an offer (FLOWS 9) through the real engine on SQLite.

The helpers at the top (people, a job with a pitch, an offer, an active deal,
funding through the sandbox gateway) are shared by the other money-flow tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import SandboxGateway, sandbox_charge_ref
from domain.config import MarketConfig
from domain.entities import Contract, Invitation, Job, Milestone, Pitch
from domain.states import ContractStatus, JobStatus, MilestoneStatus, PitchStatus
from handlers.callbacks import encode
from handlers.i18n import translator
from handlers.system import SystemRunner
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person

EN = translator("en")
RU = translator("ru")
HOSTILE = '<b>bold</b> <script>alert(1)</script> "a < b & c" 👩‍💻'


def label(key: str, lang: str = "en", **params: object) -> str:
    return translator(lang).plain(key, **params)


# --- fixtures and shared helpers -------------------------------------------------------


def money_harness(db, clock) -> Harness:  # type: ignore[no-untyped-def]
    """The harness with the sandbox gateway, as `gigbot run` wires it without Stripe."""
    gateway = SandboxGateway("http://127.0.0.1:8080", "test-secret")
    return Harness(db, clock, MarketConfig(admin_ids=frozenset({ADMIN_ID})), gateway)


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def join_as(h: Harness, who: Person, role: str) -> None:
    await h.send(who, "/start")
    await h.press(who, label(f"role.pick_{role}", who.language_code or "en"))


async def people(h: Harness, client_lang: str = "en", freelancer_lang: str = "en"):
    carla = h.person("Carla <Client> & Co", lang=client_lang)
    fred = h.person("Fred 🦊", lang=freelancer_lang)
    await join_as(h, carla, "client")
    await join_as(h, fred, "freelancer")
    return carla, fred


async def open_job(h: Harness, client: Person, title: str = "Landing <page> & logo") -> int:
    async with h.db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=client.id,
                title=title,
                description="A responsive landing page for a bakery.",
                budget=50_000,
                status=JobStatus.OPEN,
                created_at=h.clock.now(),
                published_at=h.clock.now(),
            )
        )
        await uow.commit()
    return job.id  # type: ignore[return-value]


async def add_pitch(
    h: Harness, job_id: int, freelancer: Person, proposed: Sequence[dict] = ()
) -> int:
    async with h.db.uow() as uow:
        pitch = await uow.pitches.add(
            Pitch(
                job_id=job_id,
                freelancer_id=freelancer.id,
                cover_letter="I can do it.",
                price=15_000,
                proposed_milestones=list(proposed),
                created_at=h.clock.now(),
            )
        )
        await uow.commit()
    return pitch.id  # type: ignore[return-value]


async def enter_milestone(
    h: Harness, who: Person, title: str, amount: str, due: str | None = None
) -> None:
    await h.send(who, title)
    await h.send(who, amount)
    if due is None:
        await h.press(who, label("offers.btn.skip_due", who.language_code or "en"))
    else:
        await h.send(who, due)


async def send_offer(
    h: Harness,
    client: Person,
    pitch_id: int,
    milestones: Sequence[tuple[str, str, str | None]] = (("Design", "100", None),),
) -> int:
    lang = client.language_code or "en"
    await h.press_data(client, encode("of", "hire", pitch_id))
    for k, (title, amount, due) in enumerate(milestones):
        if k:
            await h.press(client, label("offers.btn.more", lang))
        await enter_milestone(h, client, title, amount, due)
    await h.press(client, label("offers.btn.send_new", lang))
    contracts = await all_of(h, "contracts")
    return contracts[-1].id


def detached(obj):  # type: ignore[no-untyped-def]
    """A plain copy that stays readable after its unit of work ends."""
    return dataclasses.replace(obj)


async def all_of(h: Harness, repo: str, **where: object) -> list:
    async with h.db.uow() as uow:
        return [detached(o) for o in await getattr(uow, repo).find(**where)]


async def contract(h: Harness, contract_id: int) -> Contract:
    async with h.db.uow() as uow:
        found = await uow.contracts.get(contract_id)
        assert found is not None
        return detached(found)


async def milestones(h: Harness, contract_id: int) -> list[Milestone]:
    async with h.db.uow() as uow:
        found = await uow.milestones.find(contract_id=contract_id, order_by="position")
        return [detached(m) for m in found]


async def deal(
    h: Harness,
    amounts: Sequence[str] = ("100",),
    titles: Sequence[str] | None = None,
    client_lang: str = "en",
    freelancer_lang: str = "en",
) -> tuple[Person, Person, int, list[int]]:
    """An active contract: (client, freelancer, contract id, milestone ids)."""
    carla, fred = await people(h, client_lang, freelancer_lang)
    job_id = await open_job(h, carla)
    pitch_id = await add_pitch(h, job_id, fred)
    titles = titles or [f"Part {k}" for k in range(1, len(amounts) + 1)]
    cid = await send_offer(
        h, carla, pitch_id, [(t, a, None) for t, a in zip(titles, amounts, strict=True)]
    )
    await h.press_data(fred, encode("of", "accept", cid))
    assert (await contract(h, cid)).status is ContractStatus.ACTIVE
    return carla, fred, cid, [m.id for m in await milestones(h, cid)]  # type: ignore[misc]


def news(h: Harness) -> PaymentNews:
    return PaymentNews(SystemRunner(h.db.uow, h.clock, h.config, gateway=h.engine.gateway))


async def start_payment(h: Harness, client: Person, milestone_id: int) -> str:
    """Quote, then Pay: returns the checkout URL shown as a button."""
    await h.press_data(client, encode("fd", "quote", milestone_id))
    pay = next(b for b in h.last(client).buttons[0])  # type: ignore[index]
    await h.press_data(client, pay["data"], h.last(client).message_id)
    url_buttons = [b for row in h.last(client).buttons or [] for b in row if "url" in b]
    assert url_buttons, h.last(client).labels()
    return url_buttons[0]["url"]


async def confirm_paid(h: Harness, milestone_id: int) -> bool:
    payments = await all_of(h, "payments", milestone_id=milestone_id, status="pending")
    assert payments, "no pending payment"
    done = await news(h).succeeded(
        "sandbox", payments[0].external_id, charge_ref=sandbox_charge_ref(payments[0].id)
    )
    await h.deliver()
    return done


async def fund(h: Harness, client: Person, milestone_id: int) -> None:
    await start_payment(h, client, milestone_id)
    assert await confirm_paid(h, milestone_id)


# --- hire: the offer wizard ----------------------------------------------------------------


async def test_offer_with_two_milestones_shows_fees_and_reaches_the_freelancer(h):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    pitch_id = await add_pitch(h, job_id, fred)

    await h.press_data(carla, encode("of", "hire", pitch_id))
    assert "Milestone 1" in h.last(carla).text
    await enter_milestone(h, carla, "Design", "100", "in 10 days")
    await h.press(carla, label("offers.btn.more"))
    await enter_milestone(h, carla, "Build", "$50.00")
    review = h.last(carla).text
    assert "1. Design — $100.00 — due 2026-01-15" in review
    assert "2. Build — $50.00" in review
    assert "Milestones total: $150.00" in review
    assert "You pay $157.50" in review and "5% fee of $7.50" in review
    assert "receives $135.00" in review
    await h.press(carla, label("offers.btn.send_new"))
    assert "Offer sent to Fred 🦊" in h.last(carla).text

    [c] = await all_of(h, "contracts")
    assert c.status is ContractStatus.OFFERED and c.freelancer_id == fred.id
    offer = h.last(fred)
    assert "Carla <Client> & Co offers you a contract" in offer.text
    assert "Landing <page> & logo" in offer.text
    assert offer.labels() == [
        label("offers.btn.accept"),
        label("offers.btn.decline"),
        label("offers.btn.counter"),
        label("block.btn.block"),
    ]

    await h.press(fred, label("offers.btn.accept"))
    assert (await contract(h, c.id)).status is ContractStatus.ACTIVE
    assert "accepted your offer" in h.last(carla).text
    assert label("offers.btn.fund_first", n=1) in h.last(carla).labels()
    async with h.db.uow() as uow:
        pitch = await uow.pitches.get(pitch_id)
        assert pitch is not None
        assert pitch.status is PitchStatus.HIRED


async def test_pitch_milestones_prefill_the_draft_and_can_be_removed(h):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    proposed = [{"title": "Mockups", "amount": 6000}, {"title": "Code", "amount": 9000}]
    pitch_id = await add_pitch(h, job_id, fred, proposed)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    assert "1. Mockups — $60.00" in h.last(carla).text
    await h.press(carla, label("offers.btn.remove", n=1))
    assert "Mockups" not in h.last(carla).text and "1. Code — $90.00" in h.last(carla).text
    await h.press(carla, label("offers.btn.send_new"))
    [c] = await all_of(h, "contracts")
    assert [m.title for m in await milestones(h, c.id)] == ["Code"]


async def test_hire_an_invited_freelancer(h):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    async with h.db.uow() as uow:
        await uow.invitations.add(
            Invitation(job_id=job_id, client_id=carla.id, freelancer_id=fred.id)
        )
        await uow.commit()
    await h.press_data(carla, encode("of", "hire_invited", job_id, fred.id))
    await enter_milestone(h, carla, "All of it", "300")
    await h.press(carla, label("offers.btn.send_new"))
    [c] = await all_of(h, "contracts")
    assert c.pitch_id is None and c.freelancer_id == fred.id


async def test_bad_inputs_are_refused_and_change_nothing(h):
    carla, fred = await people(h)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await h.send(carla, "   ")
    assert "can't be empty" in h.last(carla).text
    await h.send(carla, "x" * 10_000)
    assert "at most 120 characters" in h.last(carla).text
    await h.send(carla, HOSTILE[:100])
    for bad, says in [
        ("abc", "not an amount"),
        ("-5", "positive"),
        ("0", "more than zero"),
        ("1.234", "decimal places"),
        ("50 EUR", "currency"),
    ]:
        await h.send(carla, bad)
        assert says in h.last(carla).text.lower(), (bad, h.last(carla).text)
    await h.send(carla, "1,250.50")
    for bad, says in [
        ("31.02.2026", "not a date"),
        ("2020-01-01", "past"),
        ("2099-01-01", "too far ahead"),
    ]:
        await h.send(carla, bad)
        assert says in h.last(carla).text, (bad, h.last(carla).text)
    await h.upload(carla, "file-1")
    assert "send text" in h.last(carla).text.lower()
    await h.send(carla, "tomorrow")
    review = h.last(carla)
    assert HOSTILE[:100] in review.text  # shown back escaped: the harness parsed the HTML
    assert "<script>" not in review.html and "&lt;script&gt;" in review.html
    assert "$1,250.50 — due 2026-01-06" in review.text
    await h.press(carla, label("offers.btn.send_new"))
    [m] = await milestones(h, (await all_of(h, "contracts"))[0].id)
    assert m.title == HOSTILE[:100] and m.amount == 125_050
    assert HOSTILE[:100] in h.last(fred).text  # the freelancer's notification, escaped too


async def test_back_and_cancel_at_every_step(h):
    carla, fred = await people(h)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await h.send(carla, "Design")
    await h.send(carla, "100")
    await h.press(carla, label("offers.btn.back"))  # due → amount
    assert "Amount for “Design”" in h.last(carla).text
    await h.press(carla, label("offers.btn.back"))  # amount → title
    assert "Milestone 1" in h.last(carla).text
    await h.send(carla, "Design v2")
    await h.press(carla, label("btn.cancel"))
    assert "Cancelled" in h.last(carla).text
    await h.send(carla, "100")  # no wizard any more: not taken as an amount
    assert await all_of(h, "contracts") == []
    # A stale wizard button after cancelling does nothing.
    await h.press_data(carla, encode("of", "send"))
    assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]
    assert await all_of(h, "contracts") == []


async def test_a_restart_mid_wizard_loses_nothing(h, db, clock):
    carla, fred = await people(h)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await h.send(carla, "Design")
    await h.send(carla, "100")
    # A new engine on the same database, as after a restart.
    h2 = Harness(db, clock, h.config, h.engine.gateway)
    h2.chats = h.chats
    h2._messages = h._messages
    h2._updates = h._updates
    await h2.press(carla, label("offers.btn.skip_due"))
    await h2.press(carla, label("offers.btn.send_new"))
    [c] = await all_of(h2, "contracts")
    assert [(m.title, m.amount) for m in await milestones(h2, c.id)] == [("Design", 10_000)]


async def test_a_duplicate_update_has_one_effect(h):
    carla, fred = await people(h)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await h.send(carla, "Design", update_id=50_001)
    await h.send(carla, "Design again", update_id=50_001)  # redelivered: ignored
    assert "Amount for “Design”" in h.last(carla).text
    await h.send(carla, "100")
    await h.press(carla, label("offers.btn.skip_due"))
    msg = h.last(carla)
    send = msg.button(label("offers.btn.send_new"))
    assert send is not None
    first = await h.press_data(carla, send["data"], msg.message_id, update_id=50_002)
    again = await h.press_data(carla, send["data"], msg.message_id, update_id=50_002)
    assert again.duplicate and not first.duplicate
    await h.press_data(carla, send["data"], msg.message_id)  # a real second tap: stale
    assert len(await all_of(h, "contracts")) == 1
    assert sum("offers you a contract" in t for t in h.texts(fred)) == 1


async def test_wrong_people_and_forged_buttons_are_refused(h):
    carla, fred = await people(h)
    mallory = h.person("Mallory")
    await join_as(h, mallory, "client")
    job_id = await open_job(h, carla)
    pitch_id = await add_pitch(h, job_id, fred)

    await h.press_data(mallory, encode("of", "hire", pitch_id))  # not her job
    assert "not yours" in h.last_answer(mallory).text  # type: ignore[union-attr]
    assert not h.chat(mallory)[-1].text.startswith("Milestone")
    await h.press_data(carla, encode("of", "hire", 987_654))  # no such pitch
    assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]
    for forged in ("of:acc", "of:zzz:1", "of:new:abc", "of"):
        await h.press_data(carla, forged)
        assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]

    cid = await send_offer(h, carla, pitch_id)
    await h.press_data(carla, encode("of", "accept", cid))  # the client cannot accept
    assert "freelancer" in h.last_answer(carla).text.lower()  # type: ignore[union-attr]
    await h.press_data(mallory, encode("of", "accept", cid))  # a stranger neither
    assert "not yours" in h.last_answer(mallory).text  # type: ignore[union-attr]
    # only the client accepts a counter
    await h.press_data(fred, encode("of", "accept_counter", cid))
    assert (await contract(h, cid)).status is ContractStatus.OFFERED

    await h.press_data(carla, encode("of", "hire", pitch_id))  # an offer is already out
    assert "already an offer" in h.last_answer(carla).text  # type: ignore[union-attr]


async def test_counter_then_accept_and_counter_then_revise(h):
    carla, fred = await people(h, freelancer_lang="ru")
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    cid = await send_offer(h, carla, pitch_id, [("Design", "100", None)])
    assert "предлагает вам контракт" in h.last(fred).text  # the freelancer's language

    await h.press(fred, label("offers.btn.counter", "ru"))
    assert "1. Design — $100.00" in h.last(fred).text
    await h.press(fred, label("offers.btn.remove", "ru", n=1))
    await h.press(fred, label("offers.btn.more", "ru"))
    await enter_milestone(h, fred, "Design + research", "180")
    await h.press(fred, label("offers.btn.send_counter", "ru"))
    assert (await contract(h, cid)).status is ContractStatus.COUNTERED
    counter = h.last(carla)
    assert "proposes other milestones" in counter.text
    assert "1. Design + research — $180.00" in counter.text

    await h.press(carla, label("offers.btn.revise"))
    await h.press(carla, label("offers.btn.remove", n=1))
    await h.press(carla, label("offers.btn.more"))
    await enter_milestone(h, carla, "Design", "150")
    await h.press(carla, label("offers.btn.send_revise"))
    assert (await contract(h, cid)).status is ContractStatus.OFFERED
    assert "изменил(а) предложение" in h.last(fred).text

    await h.press(fred, label("offers.btn.counter", "ru"))
    await h.press(fred, label("offers.btn.send_counter", "ru"))  # the same milestones back
    await h.press(carla, label("offers.btn.accept_counter"))
    assert (await contract(h, cid)).status is ContractStatus.ACTIVE
    assert "принял(а) ваши этапы" in h.last(fred).text
    assert [m.amount for m in await milestones(h, cid)] == [15_000]


async def test_decline_and_withdraw_tell_the_other_side_and_stale_buttons_fail(h):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    cid = await send_offer(h, carla, await add_pitch(h, job_id, fred))
    await h.press(fred, label("offers.btn.decline"))
    assert (await contract(h, cid)).status is ContractStatus.DECLINED
    assert "declined your offer" in h.last(carla).text
    await h.press_data(fred, encode("of", "accept", cid))  # the old Accept button
    assert "current state" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert (await contract(h, cid)).status is ContractStatus.DECLINED

    # A second freelancer's offer is withdrawn by the client.
    gina = h.person("Gina")
    await join_as(h, gina, "freelancer")
    cid2 = await send_offer(h, carla, await add_pitch(h, job_id, gina))
    await h.press_data(carla, encode("of", "withdraw", cid2))
    assert (await contract(h, cid2)).status is ContractStatus.WITHDRAWN
    assert "withdrew the offer" in h.last(gina).text
    await h.press(gina, label("offers.btn.accept"))
    assert (await contract(h, cid2)).status is ContractStatus.WITHDRAWN


async def test_an_expired_offer_cannot_be_accepted(h, clock):
    carla, fred = await people(h)
    cid = await send_offer(h, carla, await add_pitch(h, await open_job(h, carla), fred))
    clock.advance(days=8)
    await h.press(fred, label("offers.btn.accept"))
    assert "expired" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert (await contract(h, cid)).status is ContractStatus.OFFERED


async def test_offer_expiry_notification_reaches_both_in_their_language(h, clock):
    carla, fred = await people(h, client_lang="ru")
    cid = await send_offer(h, carla, await add_pitch(h, await open_job(h, carla), fred))
    clock.advance(days=7, minutes=1)
    await h.tick()
    assert (await contract(h, cid)).status is ContractStatus.EXPIRED
    assert "expired without an answer" in h.last(fred).text
    assert "истёк без ответа" in h.last(carla).text
    await h.press(fred, label("offers.btn.accept"))
    assert (await contract(h, cid)).status is ContractStatus.EXPIRED


async def test_add_a_milestone_to_an_active_contract(h):
    carla, fred, cid, _ = await deal(h)
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("contracts.btn.add_milestone"))
    await enter_milestone(h, carla, "Extra page", "40")
    review = h.last(carla)
    assert label("offers.btn.more") not in review.labels()  # one milestone at a time
    await h.press(carla, label("offers.btn.send_add"))
    # Issue 13: a proposal the freelancer accepts (tests/flows/test_proposals.py).
    ms = await milestones(h, cid)
    assert [(m.title, m.status) for m in ms][-1] == ("Extra page", MilestoneStatus.PROPOSED)
    assert "proposes a new milestone" in h.last(fred).text
    await h.press(fred, label("proposal.btn.accept"))
    ms = await milestones(h, cid)
    assert [(m.title, m.status) for m in ms][-1] == ("Extra page", MilestoneStatus.PENDING)
    assert label("offers.btn.fund_now") in h.last(carla).labels()
