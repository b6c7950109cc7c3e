"""The admins' commands (FLOWS 21–23, and the admin side of reports)."""

from __future__ import annotations

import pytest

from domain import ledger
from domain.states import DisputeStatus, MilestoneStatus
from domain.usecases.disputes import freeze_on_chargeback
from handlers.events import IncomingFile
from handlers.system import SystemRunner
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_disputes import open_by
from tests.flows.test_messaging import HOSTILE, admin, deal, fund, gateway, h, person

__all__ = ["gateway", "h"]  # fixtures shared with the messaging tests

ADMIN_COMMANDS = (
    "disputes",
    "dispute 1",
    "resolve 1 all",
    "resolve 1 50% a reason",
    "take 1",
    "stalled",
    "ban 1",
    "unban 1",
    "user 1",
    "stats",
    "audit",
    "reports",
)


async def setting(h: Harness):
    """Ada (admin), Cleo and Fran with a funded milestone of $100 disputed by Cleo."""
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran)
    await fund(h, cleo, d.milestones[0])
    did = await open_by(h, cleo, d.milestones[0], reason="Nothing was delivered " + HOSTILE)
    return ada, cleo, fran, d, did


async def audit_rows(h: Harness):
    async with h.db.uow() as uow:
        return [(a.admin_id, a.action, a.target) for a in await uow.audit.find(order_by="id")]


@pytest.mark.parametrize("text", ADMIN_COMMANDS)
async def test_admin_commands_do_not_exist_for_others(h: Harness, text: str) -> None:
    eve = await person(h, "Eve", "client")
    await admin(h)
    before = len(h.chat(ADMIN_ID))
    await h.send(eve, "/" + text)
    command = text.split()[0]
    assert f"I don't know the command /{command}." in h.last(eve).text
    assert len(h.chat(ADMIN_ID)) == before
    for data in ("adm:user:1", "adm:take:1", "adm:skip_reason:1:0", "adm:stalled::1"):
        await h.press_data(eve, data)
        assert h.last_answer(eve).text == "Only an admin can do this."


async def test_disputes_evidence_and_resolve_with_confirmation(h: Harness) -> None:
    ada, cleo, fran, d, did = await setting(h)
    ms = d.milestones[0]
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, "Where is my bot?")
    await h.press_data(fran, f"dsp:answer:{did}")
    await h.upload(fran, IncomingFile("fran-proof", "photo"), caption="Here is the code")

    await h.send(ada, "/disputes")
    assert "Open disputes (1)" in h.last(ada).text
    await h.press(ada, f"⚖️ #{did} · $100.00 · negotiating")  # Fran answered
    ev = h.last(ada).text
    assert f"Dispute #{did} — open" in ev
    assert "Client: Cleo" in ev and "Freelancer: Fran" in ev
    assert "🔒 In escrow: $100.00 + $5.00 client fee" in ev
    assert "Nothing was delivered " + HOSTILE in ev  # escaped, shown as typed
    assert "Where is my bot?" in ev and "Here is the code" in ev
    assert ev.index("Funded by Cleo") < ev.index("Dispute opened by Cleo")
    assert ev.index("Dispute opened by Cleo") < ev.index("Message from Cleo")
    assert ev.index("Message from Cleo") < ev.index("Where is my bot?")
    assert "Fran in the dispute" in ev
    await h.press(ada, "📎 Evidence files (1)")
    assert (h.last(ada).file_id, h.last(ada).media) == ("fran-proof", "photo")
    assert h.last(ada).text == "📎 message — Fran\nHere is the code"  # with its caption

    # /resolve with bad input first.
    await h.send(ada, "/resolve")
    assert "/resolve 12 60%" in h.last(ada).text
    await h.send(ada, f"/resolve {did} lots")
    assert "all, none, a percentage (50%) or an amount" in h.last(ada).text
    await h.send(ada, f"/resolve {did} 101")
    assert "can't be more than the milestone amount" in h.last(ada).text
    await h.send(ada, "/resolve 9999 50%")
    assert h.last(ada).text == "No dispute #9999."

    await h.send(ada, f"/resolve {did} 30%")
    confirm = h.last(ada).text
    assert "Freelancer's share: $30.00 of $100.00" in confirm
    assert "Fran receives $27.00" in confirm  # 30 − 10 % fee
    assert "Cleo gets back $73.50" in confirm  # 70 + (5.00 − 1.50) of the client fee
    async with h.db.uow() as uow:  # nothing moved yet
        assert await uow.ledger.balance(ledger.escrow_account(ms)) == 10_500
    assert "Type a short reason both parties will receive" in confirm
    data = h.last(ada).button("⏭ Skip — resolve without a reason")["data"]
    await h.press_data(ada, data, h.last(ada).message_id, update_id=990_001)
    assert (await h.press_data(ada, data, update_id=990_001)).duplicate
    await h.press_data(ada, data)  # a second resolution is refused
    assert h.last_answer(ada).show_alert

    async with h.db.uow() as uow:
        dispute = await uow.disputes.get(did)
        milestone = await uow.milestones.get(ms)
        assert (dispute.status, dispute.resolution_share) == (DisputeStatus.RESOLVED, 3_000)
        assert milestone.status is MilestoneStatus.SPLIT
        assert await uow.ledger.balance(ledger.freelancer_account(fran.id)) == 2_700
        assert await uow.ledger.total() == 0
    assert h.engine.gateway.refunds == [(7_350, f"refund:milestone:{ms}")]
    # Read back: the contract's own "all settled" offer may follow the notice.
    assert any("Cleo gets back $73.50" in t for t in h.texts(cleo)[-2:])
    assert any("решён администратором" in t for t in h.texts(fran)[-2:])
    assert (ADMIN_ID, "resolve", f"dispute:{did}") in await audit_rows(h)


async def test_quick_buttons_ask_before_moving(h: Harness) -> None:
    ada, _cleo, _fran, _d, did = await setting(h)
    await h.press_data(ada, f"adm:evidence:{did}")
    await h.press(ada, "Refund client")
    assert "Freelancer's share: $0.00 of $100.00" in h.last(ada).text
    await h.press(ada, "✖️ Cancel")
    assert f"Dispute #{did} — open" in h.last(ada).text
    await h.press_data(ada, f"adm:resolve:{did}:99999")  # a forged share
    assert h.last_answer(ada).text == "This button is no longer available."
    async with h.db.uow() as uow:
        assert (await uow.disputes.get(did)).status is DisputeStatus.OPEN
    assert await audit_rows(h) == []
    await h.send(ada, "/dispute abc")
    assert "/dispute 12" in h.last(ada).text


async def test_ban_unban_user_card_and_audit(h: Harness) -> None:
    ada, cleo, fran, _d, _did = await setting(h)
    await h.send(ada, f"/ban {fran.id} {'x' * 600}")
    assert "at most 500 characters" in h.last(ada).text
    await h.send(ada, f"/ban {fran.id} Scam <b>links</b>")
    assert "Fran (id" in h.last(ada).text and "Scam <b>links</b>" in h.last(ada).text
    assert "заблокирован администратором" in h.last(fran).text
    await h.send(fran, "/menu")
    assert h.last(fran).text == "Ваш аккаунт заблокирован. Обжаловать можно один раз: /appeal."
    await h.send(ada, f"/ban {fran.id}")
    assert "already banned" in h.last(ada).text
    await h.send(ada, f"/ban {ADMIN_ID}")
    assert h.last(ada).text == "An admin cannot be banned."
    await h.send(ada, "/ban nobody")
    assert "/ban 12345" in h.last(ada).text

    await h.send(ada, f"/user {fran.id}")
    card = h.last(ada).text
    assert "Fran" in card and "Banned: Scam <b>links</b>" in card
    assert "Roles: Freelancer · language: ru" in card
    await h.press(ada, "✅ Unban")
    assert "is unbanned" in h.last(ada).text
    assert "снова активен" in h.last(fran).text
    await h.send(ada, f"/unban {fran.id}")
    assert "not banned" in h.last(ada).text
    await h.send(ada, "/user 424242")
    assert h.last(ada).text == "There is no such user."

    await h.send(ada, "/audit")
    log = h.last(ada).text
    assert log.index("unban") < log.index("ban user:")  # latest first
    assert await audit_rows(h) == [
        (ADMIN_ID, "ban", f"user:{fran.id}"),
        (ADMIN_ID, "unban", f"user:{fran.id}"),
    ]
    _ = cleo


async def test_stats(h: Harness) -> None:
    ada, _cleo, _fran, _d, _did = await setting(h)
    await h.send(ada, "/stats")
    stats = h.last(ada).text
    assert "Users: 3 (clients 1, freelancers 1, banned 0)" in stats
    # The hire took the job off the market (paused) until its client answers.
    assert "Jobs: draft: 0 · open: 0 · paused: 1 · closed: 0" in stats
    assert "In escrow: $105.00 (1 milestone)" in stats
    assert "Fees earned: $0.00" in stats
    assert "Open disputes: 1" in stats


async def test_audit_pages(h: Harness) -> None:
    ada = await admin(h)
    victim = await person(h, "Vic", "client")
    for _ in range(5):
        await h.send(ada, f"/ban {victim.id}")
        await h.send(ada, f"/unban {victim.id}")
    await h.send(ada, "/audit")
    first = h.last(ada)
    assert "Next ›" in first.labels()
    await h.press(ada, "Next ›")
    assert "‹ Prev" in h.last(ada).labels()
    assert h.last(ada).text.count("user:") == 2


async def test_reports_admin_side(h: Harness) -> None:
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    mal = await person(h, "Mal", "freelancer")
    await h.send(cleo, f"/report user {mal.id}")
    await h.send(cleo, "Asks to pay outside <b>Gigbot</b>")
    await h.send(ada, "/reports")
    assert "Open reports (1)" in h.last(ada).text
    await h.press(ada, "🚩 #1 👤 Mal")
    view = h.last(ada)
    assert "Asks to pay outside <b>Gigbot</b>" in view.text
    await h.press(ada, "🚫 Ban")
    await h.press(ada, "🚫 Yes, ban")
    async with h.db.uow() as uow:
        assert (await uow.users.get(mal.id)).banned
    await h.press_data(ada, "adm:report:1")
    await h.press(ada, "✔️ Close report")
    assert "(closed)" in h.last(ada).text
    await h.press_data(ada, "adm:close_report:1")
    assert h.last_answer(ada).show_alert  # already closed
    assert [a[1] for a in await audit_rows(h)] == ["ban", "close_report"]
    await h.send(ada, "/reports")
    assert "No open reports" in h.last(ada).text


# --- chargebacks ------------------------------------------------------------------------------


async def chargeback(h: Harness, milestone_id: int) -> bool:
    """The gateway reports that the payer disputed the charge (as bot/payments does)."""
    async with h.db.uow() as uow:
        [payment] = await uow.payments.find(milestone_id=milestone_id, status="succeeded")
        gateway, ref = payment.gateway, payment.charge_ref or ""
    runner = SystemRunner(h.db.uow, h.clock, h.config, gateway=h.engine.gateway)
    frozen = await runner.run(lambda uow: freeze_on_chargeback(uow, h.clock, gateway, ref))
    await h.deliver()
    return frozen


async def test_chargeback_reaches_admins_and_parties_and_an_admin_settles_it(h: Harness) -> None:
    ada, cleo, fran, d, did = await setting(h)  # also under a live dispute
    ms = d.milestones[0]
    eve = await person(h, "Eve", "client")
    assert await chargeback(h, ms)
    assert await milestone_status(h, ms) is MilestoneStatus.FROZEN
    alert = h.last(ada)
    assert "Chargeback" in alert.text and "“Part 1” ($100.00)" in alert.text
    assert f"Milestone #{ms} is frozen" in alert.text
    assert alert.labels() == ["🔎 Inspect", "All to freelancer", "50 / 50", "Refund client"]
    assert "disputed with the bank" in h.last(cleo).text
    assert "оспорен через банк" in h.last(fran).text
    # Nothing else can move the money now; outsiders cannot even look.
    await h.press_data(cleo, f"wk:release:{ms}")
    assert "current state" in h.last_answer(cleo).text  # type: ignore[union-attr]
    await h.press_data(eve, f"adm:frozen:{ms}")
    assert h.last_answer(eve).text == "Only an admin can do this."
    await h.press_data(eve, f"adm:settle_frozen:{ms}:0")
    assert await milestone_status(h, ms) is MilestoneStatus.FROZEN

    await h.send(ada, "/disputes")
    assert h.last(ada).labels()[0].startswith(f"🧊 Chargeback on milestone #{ms}")
    await h.press(ada, "🔎 Inspect")  # the alert becomes the inspection view
    [view] = [m for m in h.chat(ada) if m.message_id == alert.message_id]
    assert f"Milestone #{ms} frozen by a chargeback" in view.text
    assert "via sandbox: $105.00" in view.text
    assert view.button("🔎 Evidence")["data"] == f"adm:evidence:{did}"  # type: ignore[index]

    await h.press_data(ada, f"adm:decide_frozen:{ms}:5000", view.message_id)
    ask = view.text
    assert "Settle frozen milestone" in ask and "Fran receives $45.00" in ask
    assert "Cleo gets back $52.50" in ask
    assert await milestone_status(h, ms) is MilestoneStatus.FROZEN  # asked, not moved
    await h.press(ada, "✅ Resolve so")
    assert await milestone_status(h, ms) is MilestoneStatus.SPLIT
    assert "settled: the freelancer receives $45.00" in view.text
    # The news, then (the only milestone settled) the offer to end and rate.
    assert "An admin decided the frozen milestone" in h.chat(cleo)[-2].text
    assert "фрилансер получает $45.00" in h.chat(fran)[-2].text
    assert (ADMIN_ID, "resolve", f"milestone:{ms}") in await audit_rows(h)
    async with h.db.uow() as uow:
        assert (await uow.disputes.get(did)).status is DisputeStatus.RESOLVED  # type: ignore[union-attr]
        assert await uow.ledger.balance(ledger.escrow_account(ms)) == 0
    await h.press_data(ada, f"adm:settle_frozen:{ms}:5000")  # the same decision again
    assert h.last_answer(ada).text == "This milestone is not frozen."

    # A chargeback after the money left escrow: admins are told, nothing can move.
    assert not await chargeback(h, ms)
    assert "Chargeback after settlement" in h.last(ada).text
    assert h.last(ada).labels() == ["👤 Client", "👤 Freelancer"]


async def milestone_status(h: Harness, milestone_id: int) -> MilestoneStatus:
    async with h.db.uow() as uow:
        return (await uow.milestones.get(milestone_id)).status  # type: ignore[union-attr]


async def test_a_frozen_disputes_card_offers_only_what_the_parties_may_still_do(
    h: Harness,
) -> None:
    """Once a chargeback froze the milestone, the dispute card shows Answer and
    Message only (domain.usecases.disputes.parties_may_settle); a stale Propose or
    Withdraw button is refused before it asks anything."""
    _ada, cleo, _fran, d, did = await setting(h)
    await h.press_data(cleo, f"dsp:view:{did}")
    assert h.last(cleo).labels() == ["💬 Answer", "➗ Propose a split", "✉️ Message", "↩️ Withdraw"]
    assert await chargeback(h, d.milestones[0])
    await h.press_data(cleo, f"dsp:view:{did}")
    assert h.last(cleo).labels() == ["💬 Answer", "✉️ Message"]
    for action in ("propose_split", "withdraw", "accept"):
        await h.press_data(cleo, f"dsp:{action}:{did}")
        answer = h.last_answer(cleo)
        assert answer is not None and answer.text == "An admin decides on this milestone now."
