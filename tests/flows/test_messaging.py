"""Messaging between the parties (FLOWS 18), through the real engine on SQLite.

The set-up helpers here (people, a contract, funding) are shared by the other
tests of this area (disputes, reviews, admin).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.config import MarketConfig
from domain.entities import Job, Pitch
from domain.states import ContractStatus, JobStatus
from domain.usecases import contracts, payments
from domain.usecases.contracts import MilestoneSpec
from handlers.events import IncomingFile
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person
from tests.funding import open_checkout
from tests.usecases.story import RecordingGateway

HOSTILE = '<b>bold</b> <script>alert(1)</script> a < b & c "q" 👩‍💻'
CLIENT_ROLE = {"en": "💼 I hire (client)", "ru": "💼 Я нанимаю (заказчик)"}
FREELANCER_ROLE = {"en": "🧑‍💻 I work (freelancer)", "ru": "🧑‍💻 Я работаю (фрилансер)"}


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def h(db, clock, config, gateway) -> Harness:
    return Harness(db, clock, config, gateway=gateway)


async def person(h: Harness, name: str, role: str, lang: str = "en") -> Person:
    who = h.person(name, lang=lang)
    await h.send(who, "/start")
    await h.press(who, (CLIENT_ROLE if role == "client" else FREELANCER_ROLE)[lang])
    return who


async def admin(h: Harness, lang: str = "en") -> Person:
    who = h.person("Ada Admin", lang=lang, id=ADMIN_ID)
    await h.send(who, "/start")
    return who


@dataclass
class Deal:
    job_id: int
    pitch_id: int
    contract_id: int
    milestones: list[int]


async def deal(
    h: Harness,
    client: Person,
    freelancer: Person,
    amounts: tuple[int, ...] = (10_000,),
    accept: bool = True,
    title: str = "Build a Telegram bot",
) -> Deal:
    """A job, a pitch, an offer with milestones of `amounts` (accepted unless told)."""
    clock, config = h.clock, h.config
    async with h.db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=client.id,
                title=title,
                description="A bot that takes orders for a bakery.",
                budget=sum(amounts),
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        pitch = await uow.pitches.add(
            Pitch(
                job_id=job.id,
                freelancer_id=freelancer.id,
                cover_letter="I can do it well.",
                price=sum(amounts),
                created_at=clock.now(),
            )
        )
        contract = await contracts.send_offer(
            uow,
            clock,
            config,
            client.id,
            job.id,
            freelancer.id,
            [MilestoneSpec(f"Part {i}", a) for i, a in enumerate(amounts, 1)],
        )
        if accept:
            await contracts.accept_offer(uow, clock, freelancer.id, contract.id)
        await uow.commit()
        ids = [m.id for m in await uow.milestones.find(contract_id=contract.id, order_by="id")]
        return Deal(job.id, pitch.id, contract.id, ids)


async def fund(h: Harness, client: Person, milestone_id: int) -> None:
    """Pay a milestone into escrow as the payment page would."""
    gateway = h.engine.gateway
    payment = await open_checkout(h.db, h.clock, h.config, gateway, client.id, milestone_id)
    async with h.db.uow() as uow:
        await payments.confirm_payment(
            uow, h.clock, h.config, gateway.name, payment.external_id, f"ch_{payment.id}"
        )
        await uow.commit()
    await h.deliver()


async def messages_of(h: Harness, **where) -> list[tuple[int, int, str, list[str], bool]]:
    async with h.db.uow() as uow:
        return [
            (m.sender_id, m.recipient_id, m.text, list(m.files), m.flagged_contact)
            for m in await uow.messages.find(order_by="id", **where)
        ]


# --- tests ---------------------------------------------------------------------------


async def test_message_from_the_list_reaches_the_other_party_with_reply(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran)

    await h.send(cleo, "/message")
    assert "choose a contract" in h.last(cleo).text
    await h.press(cleo, "✉️ Fran · Build a Telegram bot")
    assert "Write to Fran about “Build a Telegram bot”" in h.last(cleo).text
    await h.send(cleo, "Hi! When can you start?")
    assert "Delivered to Fran" in h.last(cleo).text

    note = h.last(fran)
    assert "Cleo по контракту «Build a Telegram bot»" in note.text
    assert "Hi! When can you start?" in note.text
    assert note.labels() == ["↩️ Ответить", "🗂 Переписка", "📄 Контракт", "🚫 Заблокировать"]
    await h.press(fran, "↩️ Ответить")
    await h.send(fran, "Tomorrow.")
    assert "Tomorrow." in h.last(cleo).text
    assert "↩️ Reply" in h.last(cleo).labels()

    assert await messages_of(h, contract_id=d.contract_id) == [
        (cleo.id, fran.id, "Hi! When can you start?", [], False),
        (fran.id, cleo.id, "Tomorrow.", [], False),
    ]
    # The record, latest page first.
    await h.press(cleo, "🗂 Messages")
    record = h.last(cleo).text
    assert "Messages on “Build a Telegram bot” (2)" in record
    assert record.index("Hi! When") < record.index("Tomorrow.")


async def test_compose_stays_open_for_files_until_done(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran)
    await h.press_data(fran, f"msg:write:{d.contract_id}")
    await h.upload(fran, "file-1", caption="the draft")
    await h.upload(fran, IncomingFile("file-2", "photo"))
    docs = [m for m in h.chat(cleo) if m.file_id]
    assert [(m.file_id, m.media) for m in docs] == [("file-1", "document"), ("file-2", "photo")]
    assert "↩️ Reply" in docs[-1].labels()
    await h.press(fran, "✅ Done")
    assert "closed" in h.last(fran).text
    await h.send(fran, "this goes nowhere")
    assert await messages_of(h, contract_id=d.contract_id) == [
        (fran.id, cleo.id, "the draft", ["file-1"], False),
        (fran.id, cleo.id, "", ["photo:file-2"], False),
    ]


async def test_hostile_and_long_text_is_escaped_and_limited(h: Harness) -> None:
    cleo = await person(h, "Cleo <b>&", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran, title="Bot <i>x</i> & co")
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, HOSTILE)
    assert HOSTILE in h.last(fran).text  # shown as typed: the harness parsed valid HTML
    assert "Cleo <b>&" in h.last(fran).text
    await h.send(cleo, "x" * 10_000)
    assert "at most 3000 characters" in h.last(cleo).text
    await h.send(cleo, "   ")
    assert "can't be empty" in h.last(cleo).text
    assert len(await messages_of(h, contract_id=d.contract_id)) == 1
    await h.press(fran, "🗂 Messages")
    assert HOSTILE in h.last(fran).text


async def test_outsiders_stale_and_forged_buttons_change_nothing(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    eve = await person(h, "Eve", "freelancer")
    d = await deal(h, cleo, fran)
    await h.press_data(eve, f"msg:write:{d.contract_id}")
    assert h.last_answer(eve).text == "This contract is not yours."
    await h.press_data(eve, f"msg:history:{d.contract_id}:1")
    assert h.last_answer(eve).text == "This contract is not yours."
    await h.press_data(eve, f"msg:write_pitch:{d.pitch_id}")
    # The hire took the job off the market: to Eve it does not exist (visibility.py).
    assert h.last_answer(eve).text == "This job no longer exists."
    await h.press_data(eve, "msg:write:999999")
    assert h.last_answer(eve).text == "This contract no longer exists."
    await h.press_data(eve, "msg:zz:1")
    assert h.last_answer(eve).text == "This button is no longer available."
    await h.press_data(eve, "msg:write")
    assert h.last_answer(eve).text == "This button is no longer available."
    # Eve answers a message that was not sent to her.
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, "for Fran only")
    async with h.db.uow() as uow:
        [message_id] = [m.id for m in await uow.messages.find(contract_id=d.contract_id)]
    await h.press_data(eve, f"msg:reply:{message_id}")
    assert h.last_answer(eve).text == "This message was not sent to you."
    await h.send(eve, "sneaky")
    assert len(await messages_of(h)) == 1


async def test_declined_offer_is_closed_for_messages(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran, accept=False)
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    async with h.db.uow() as uow:
        await contracts.decline_offer(uow, h.clock, fran.id, d.contract_id)
        await uow.commit()
    await h.send(cleo, "still there?")
    assert "closed" in h.last(cleo).text
    assert await messages_of(h) == []


async def test_contact_details_before_agreement_warn_and_flag(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran, accept=False)  # an offer: not yet a contract
    await h.press_data(fran, f"msg:write:{d.contract_id}")
    await h.send(fran, "mail me at fran@example.com")
    assert "contains contact details" in h.last(fran).text
    assert "contact details" in h.last(cleo).text
    # After the contract is agreed, the same is not flagged.
    async with h.db.uow() as uow:
        await contracts.accept_offer(uow, h.clock, fran.id, d.contract_id)
        await uow.commit()
    await h.send(fran, "mail me at fran@example.com")
    assert "contains contact details" not in h.last(fran).text
    flags = [m[4] for m in await messages_of(h, contract_id=d.contract_id)]
    assert flags == [True, False]


async def test_pitch_message_before_a_contract(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    eve = await person(h, "Eve", "client")
    d = await deal(h, cleo, fran, accept=False)
    await h.press_data(cleo, f"msg:write_pitch:{d.pitch_id}")
    assert "about their pitch" in h.last(cleo).text
    await h.send(cleo, "Call me: +1 415 555 0132 🙂")
    assert "contains contact details" in h.last(cleo).text
    note = h.last(fran)
    assert "about your pitch on “Build a Telegram bot”" in note.text
    await h.press(fran, "↩️ Reply")
    await h.upload(fran, "file-y")
    assert h.last(cleo).file_id == "file-y"
    await h.send(fran, "Sure <b>thing</b>")
    assert "Sure <b>thing</b>" in h.last(cleo).text
    assert [(m[0], m[2], m[4]) for m in await messages_of(h, job_id=d.job_id)] == [
        (cleo.id, "Call me: +1 415 555 0132 🙂", True),
        (fran.id, "", False),
        (fran.id, "Sure <b>thing</b>", False),
    ]
    await h.press_data(eve, f"msg:write_pitch:{d.pitch_id}")
    assert h.last_answer(eve).text == "This job is not yours."


async def test_duplicate_update_delivers_once(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran)
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, "once", update_id=777_001)
    outcome = await h.send(cleo, "once", update_id=777_001)
    assert outcome.duplicate
    assert len(await messages_of(h)) == 1
    assert sum("once" in m.text for m in h.chat(fran)) == 1


async def test_history_pages_and_empty_list(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    await h.send(fran, "/message")
    assert "no contracts to write on" in h.last(fran).text
    d = await deal(h, cleo, fran)
    await h.press_data(fran, f"msg:history:{d.contract_id}:1")
    assert "No messages" in h.last(fran).text
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    for k in range(10):
        await h.send(cleo, f"note {k}")
    await h.press_data(fran, f"msg:history:{d.contract_id}:1")
    latest = h.last(fran)
    assert "note 9" in latest.text and "note 1" not in latest.text
    await h.press(fran, "Older ›")
    assert "note 1" in h.last(fran).text and "note 9" not in h.last(fran).text


def test_contract_status_sets_are_consistent() -> None:
    from domain.usecases.messaging import CONTRACT_OPEN, WRITABLE

    assert set(CONTRACT_OPEN) <= WRITABLE
    assert ContractStatus.DECLINED not in WRITABLE


_ = MarketConfig  # the `config` fixture comes from tests/flows/conftest.py
