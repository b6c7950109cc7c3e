"""Disputes between the parties (FLOWS 19), through the real engine on SQLite."""

from __future__ import annotations

from domain import ledger
from domain.states import DisputeStatus, MilestoneStatus
from handlers.events import IncomingFile
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person
from tests.flows.test_messaging import HOSTILE, admin, deal, fund, gateway, h, person

__all__ = ["gateway", "h"]  # fixtures shared with the messaging tests

REASON = "The delivered bot crashes on every order; nothing works as agreed."


async def dispute_row(h: Harness, milestone_id: int):
    async with h.db.uow() as uow:
        [d] = await uow.disputes.find(milestone_id=milestone_id)
        m = await uow.milestones.get(milestone_id)
        return d.id, d.status, d.reason, list(d.evidence), d.proposed_share, m.status


async def funded_deal(h: Harness, amount: int = 10_000):
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    await admin(h)
    d = await deal(h, cleo, fran, amounts=(amount,))
    await fund(h, cleo, d.milestones[0])
    return cleo, fran, d


async def open_by(h: Harness, who: Person, milestone_id: int, reason: str = REASON) -> int:
    await h.press_data(who, f"dsp:open:{milestone_id}")
    await h.send(who, reason)
    await h.press_data(who, "dsp:submit", h.last(who).message_id)
    return (await dispute_row(h, milestone_id))[0]


async def test_open_with_evidence_notifies_other_side_and_admins(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    ms = d.milestones[0]
    await h.send(cleo, "/mydisputes")
    assert "You have no disputes" in h.last(cleo).text
    await h.press(cleo, "⚖️ Open a dispute")
    await h.press(cleo, "Build a Telegram bot · Part 1 · $100.00")
    assert "Dispute on “Part 1”" in h.last(cleo).text
    await h.send(cleo, "too short")
    assert "at least 10 characters" in h.last(cleo).text
    await h.send(cleo, REASON)
    assert "Add evidence" in h.last(cleo).text
    await h.upload(cleo, "shot-1")
    await h.upload(cleo, "shot-2", caption="Logs attached")
    assert "Evidence: 2 of 20 files" in h.last(cleo).text
    await h.press(cleo, "⚖️ Open the dispute")
    assert any("Dispute #1 is open" in t for t in h.texts(cleo))
    card = h.last(cleo)
    assert "Dispute #1 — open" in card.text and "Evidence files: 2" in card.text
    assert "↩️ Withdraw" in card.labels()

    did, status, reason, evidence, _, m_status = await dispute_row(h, ms)
    assert (status, m_status) == (DisputeStatus.OPEN, MilestoneStatus.DISPUTED)
    assert reason == REASON and evidence == ["shot-1", "shot-2"]  # the caption is a note
    note = h.last(fran)
    assert "Cleo открыл(а) спор №1" in note.text and REASON in note.text
    assert "• Logs attached (📎 1)" in note.text
    assert "💬 Ответить" in note.labels() and "↩️ Отозвать" not in note.labels()
    admin_note = h.last(ADMIN_ID)
    assert "New dispute #1" in admin_note.text
    assert admin_note.button("🔎 Evidence")["data"] == f"adm:evidence:{did}"


async def test_captions_and_notes_stay_apart_from_the_reason(h: Harness) -> None:
    """The reason is kept and shown as typed; a caption goes with its files and a text
    note stands on its own, in the notifications and in the admin's evidence."""
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    ada = await admin(h)
    d = await deal(h, cleo, fran, amounts=(10_000,))
    await fund(h, cleo, d.milestones[0])
    ms = d.milestones[0]
    reason = "The delivered bot ignores the booking rules we agreed on."
    await h.press_data(cleo, f"dsp:open:{ms}")
    await h.send(cleo, reason)
    await h.upload(cleo, IncomingFile("spec", "photo"), caption="The spec we agreed.")
    assert "Evidence: 1 of 20 files" in h.last(cleo).text
    await h.send(cleo, "Page 3 lists the rules.")
    assert "Note kept with the evidence" in h.last(cleo).text
    await h.upload(cleo, "log-1")  # no caption: a file without a note
    await h.press(cleo, "⚖️ Open the dispute")

    did, _, stored, evidence, _, _ = await dispute_row(h, ms)
    assert stored == reason and evidence == ["photo:spec", "log-1"]
    async with h.db.uow() as uow:
        msgs = await uow.messages.find(order_by="id", dispute_id=did)
        assert [(m.sender_id, m.recipient_id, m.text, list(m.files)) for m in msgs] == [
            (cleo.id, fran.id, "The spec we agreed.", ["photo:spec"]),
            (cleo.id, fran.id, "Page 3 lists the rules.", []),
        ]

    told = h.last(fran).text
    assert f"Причина: {reason}\n" in told  # not "…we agreed on. The spec we agreed."
    assert "we agreed on. The spec" not in told and "on.\n\nThe spec" not in told
    notes = told[told.index("Пояснения к доказательствам") :]
    assert "• The spec we agreed. (📎 1)" in notes and "• Page 3 lists the rules." in notes
    admin_note = h.last(ada).text
    assert f"Reason: {reason}\n" in admin_note and "evidence files: 2" in admin_note
    assert "• The spec we agreed. (📎 1)\n• Page 3 lists the rules." in admin_note

    # The admin gets each file with what was written about it.
    await h.press_data(ada, f"adm:evidence:{did}")
    await h.press(ada, "📎 Evidence files (2)")
    sent = [(m.file_id, m.text) for m in h.chat(ada)[-2:]]
    assert sent == [
        ("spec", "📎 message — Cleo\nThe spec we agreed."),
        ("log-1", "📎 dispute opened — Cleo"),
    ]


async def test_no_more_notes_than_evidence_files(h: Harness) -> None:
    cleo, _fran, d = await funded_deal(h)
    ms = d.milestones[0]
    await h.press_data(cleo, f"dsp:open:{ms}")
    await h.send(cleo, REASON)
    for k in range(20):
        await h.send(cleo, f"note {k}")
    await h.send(cleo, "one too many")
    assert "At most 20 notes" in h.last(cleo).text
    await h.press(cleo, "⚖️ Open the dispute")
    did, _, reason, _, _, _ = await dispute_row(h, ms)
    async with h.db.uow() as uow:
        notes = [m.text for m in await uow.messages.find(order_by="id", dispute_id=did)]
    assert reason == REASON and notes == [f"note {k}" for k in range(20)]


async def test_split_proposal_accepted_settles_once_and_tells_both(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    ms = d.milestones[0]
    did = await open_by(h, cleo, ms)
    await h.press(fran, "➗ Предложить раздел")
    await h.send(fran, "abc")
    refusals = h.texts(fran)[-1:]
    await h.send(fran, "150%")
    refusals += h.texts(fran)[-1:]
    await h.send(fran, "$200")
    refusals += h.texts(fran)[-1:]
    assert refusals == [
        "Отправьте долю фрилансера: all, none, процент (50%) или сумму.",
        "Процент должен быть от 0% до 100%.",
        "Доля не может быть больше суммы этапа.",
    ]
    await h.send(fran, "60%")
    confirm = h.last(fran).text
    assert "60,00 $" in confirm or "$60.00" in confirm
    await h.press(fran, "📤 Отправить предложение")
    assert (await dispute_row(h, ms))[4] == 6_000

    proposal = h.last(cleo)
    assert "Fran proposes a split" in proposal.text
    # Fees by the one rule: 10 % of 60 for the freelancer; client fee 5 % of 100 = 5,
    # of which 5 % of 60 = 3 is kept: the client gets 40 + 2 back.
    assert "the freelancer receives $54.00" in proposal.text
    assert "the client gets back $42.00" in proposal.text
    # The proposer cannot accept their own proposal.
    await h.press_data(fran, f"dsp:accept:{did}")
    assert h.last_answer(fran).show_alert
    await h.press(cleo, "✅ Accept split")
    assert "Accept this split?" in h.last(cleo).text
    settle = h.last(cleo).button("✅ Yes, settle it")["data"]
    await h.press_data(cleo, settle, update_id=555_001)
    dup = await h.press_data(cleo, settle, update_id=555_001)
    assert dup.duplicate
    await h.press_data(cleo, settle)  # again, a new update: refused, nothing moves
    assert h.last_answer(cleo).show_alert

    _, status, _, _, _, m_status = await dispute_row(h, ms)
    assert (status, m_status) == (DisputeStatus.SETTLED, MilestoneStatus.SPLIT)
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(ms)) == 0
        assert await uow.ledger.balance(ledger.freelancer_account(fran.id)) == 5_400
        assert await uow.ledger.total() == 0
    assert h.engine.gateway.refunds == [(4_200, f"refund:milestone:{ms}")]
    # The news of the split, then (its only milestone settled) the offer to end and rate.
    assert "Dispute #1 is settled" in h.chat(cleo)[-2].text
    assert "Fran receives $54.00" in h.chat(cleo)[-2].text
    assert "Спор №1 урегулирован" in h.chat(fran)[-2].text
    assert "Завершить контракт" in h.last(fran).text


async def test_counter_proposal_makes_the_old_accept_button_stale(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    ms = d.milestones[0]
    did = await open_by(h, cleo, ms)
    await h.press_data(fran, f"dsp:propose_split:{did}")
    await h.send(fran, "all")
    await h.press(fran, "📤 Отправить предложение")
    await h.press(cleo, "✅ Accept split")
    old_accept = h.last(cleo).button("✅ Yes, settle it")["data"]
    # Meanwhile Fran counters with less.
    await h.press_data(fran, f"dsp:propose_split:{did}")
    await h.send(fran, "80")
    await h.press(fran, "📤 Отправить предложение")
    await h.press_data(cleo, old_accept)
    # Refused under the lock, and Cleo sees the proposal as it is now.
    answer = h.last_answer(cleo)
    assert answer.show_alert and answer.text.startswith("The proposal changed")
    assert "$80.00" in h.last(cleo).text
    assert (await dispute_row(h, ms))[1] is DisputeStatus.SPLIT_PROPOSED
    # Cleo rejects; Fran hears of it.
    await h.press_data(cleo, f"dsp:reject:{did}")
    assert (await dispute_row(h, ms))[1] is DisputeStatus.OPEN
    assert "отклонил(а) ваш раздел" in h.last(fran).text


async def test_answer_with_files_and_hostile_text(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    did = await open_by(h, cleo, d.milestones[0], reason=HOSTILE + " and more words")
    assert HOSTILE in h.last(fran).text
    await h.press_data(fran, f"dsp:answer:{did}")
    await h.send(fran, "x" * 10_000)
    assert "3000" in h.last(fran).text
    await h.send(fran, HOSTILE)
    assert HOSTILE in h.last(cleo).text
    await h.press_data(fran, f"dsp:answer:{did}")
    await h.upload(fran, IncomingFile("proof-1", "photo"))
    assert (h.last(cleo).file_id, h.last(cleo).media) == ("proof-1", "photo")
    async with h.db.uow() as uow:
        msgs = await uow.messages.find(order_by="id", dispute_id=did)
        assert [(m.text, list(m.files)) for m in msgs] == [(HOSTILE, []), ("", ["photo:proof-1"])]


async def test_withdraw_by_opener_only(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    ms = d.milestones[0]
    did = await open_by(h, cleo, ms)
    await h.press_data(fran, f"dsp:withdraw:{did}")
    assert h.last_answer(fran).show_alert
    await h.press_data(fran, f"dsp:confirm_withdraw:{did}")
    assert (await dispute_row(h, ms))[1] is DisputeStatus.OPEN
    await h.press_data(cleo, f"dsp:view:{did}")
    await h.press(cleo, "↩️ Withdraw")
    await h.press(cleo, "↩️ Yes, withdraw")
    _, status, _, _, _, m_status = await dispute_row(h, ms)
    assert status is DisputeStatus.WITHDRAWN
    assert m_status is MilestoneStatus.CHANGES_REQUESTED  # nothing was ever submitted
    assert "отозвал(а) спор №1" in h.last(fran).text
    # A closed dispute takes no more answers.
    await h.press_data(fran, f"dsp:answer:{did}")
    assert h.last_answer(fran).text == "Этот спор закрыт."


async def test_outsiders_wrong_state_and_forged_buttons(h: Harness) -> None:
    cleo, fran, d = await funded_deal(h)
    eve = await person(h, "Eve", "client")
    ms = d.milestones[0]
    await h.press_data(eve, f"dsp:open:{ms}")
    assert h.last_answer(eve).text == "This contract is not yours."
    # An unfunded milestone cannot be disputed.
    d2 = await deal(h, cleo, fran, title="Second job")
    await h.press_data(cleo, f"dsp:open:{d2.milestones[0]}")
    assert "holding money" in h.last_answer(cleo).text
    did = await open_by(h, cleo, ms)
    for data in (
        f"dsp:view:{did}",
        f"dsp:answer:{did}",
        f"dsp:propose_split:{did}",
        f"dsp:confirm_accept:{did}:0",
    ):
        await h.press_data(eve, data)
        assert h.last_answer(eve).text == "This contract is not yours."
    await h.press_data(cleo, f"dsp:open:{ms}")  # already disputed
    assert "holding money" in h.last_answer(cleo).text
    for data in ("dsp:view:99999", "dsp:zz", "dsp:confirm_accept:1:x", "dsp:submit", "dsp:back"):
        await h.press_data(cleo, data)
        assert h.last_answer(cleo).show_alert, data
    async with h.db.uow() as uow:
        assert await uow.disputes.count() == 1


async def test_cancel_and_state_survive_a_restart(h: Harness) -> None:
    cleo, _fran, d = await funded_deal(h)
    ms = d.milestones[0]
    await h.press_data(cleo, f"dsp:open:{ms}")
    await h.send(cleo, REASON)
    # A new engine (a restart) continues the same draft from the database.
    h2 = Harness(h.db, h.clock, h.config, gateway=h.engine.gateway, first_update_id=10_000)
    h2.chats, h2._messages = h.chats, h._messages  # the same chats, continued
    await h2.upload(cleo, "late-file")
    assert "1 of 20" in h2.last(cleo).text
    await h2.press(cleo, "✖️ Cancel")
    assert "Nothing was changed" in h2.last(cleo).text
    async with h.db.uow() as uow:
        assert await uow.disputes.count() == 0
