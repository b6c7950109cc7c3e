"""The admin's side of a decision (issue 11, item 15): amounts in /audit as money,
"No dispute #9" for one that never existed, a reason both parties receive, and a
timeline of only that milestone's events, each labelled in words."""

from __future__ import annotations

from domain.states import DisputeStatus
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_disputes import open_by
from tests.flows.test_messaging import HOSTILE, admin, deal, fund, gateway, h, person

__all__ = ["gateway", "h"]  # fixtures shared with the messaging tests


def told(h: Harness, who, text: str, last: int = 3) -> bool:
    """Did `who` get `text` among their latest messages (others may follow it)?"""
    return any(text in t for t in h.texts(who)[-last:])


async def setting(h: Harness, amounts: tuple[int, ...] = (10_000,)):
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran, amounts=amounts)
    for ms in d.milestones:
        await fund(h, cleo, ms)
    return ada, cleo, fran, d


async def test_audit_shows_amounts_as_money(h: Harness) -> None:
    ada, cleo, _fran, d = await setting(h)
    did = await open_by(h, cleo, d.milestones[0])
    await h.press_data(ada, f"adm:confirm_resolve:{did}:3000")  # 30 %, confirmed
    await h.send(ada, "/audit")
    log = h.last(ada).text
    assert f"resolve dispute:{did} share=$30.00" in log
    assert "3000" not in log and "currency" not in log


async def test_resolve_a_dispute_that_never_existed_or_is_closed(h: Harness) -> None:
    ada, cleo, _fran, d = await setting(h)
    await h.send(ada, "/resolve 9 50%")
    assert h.last(ada).text == "No dispute #9."
    await h.send(ada, "/dispute 9")
    assert h.last(ada).text == "No dispute #9."
    await h.send(ada, "/take 9")
    assert h.last(ada).text == "No dispute #9."
    did = await open_by(h, cleo, d.milestones[0])
    await h.send(ada, f"/resolve {did} all")
    await h.press(ada, "⏭ Skip — resolve without a reason")
    await h.send(ada, f"/resolve {did} 50%")
    assert h.last(ada).text == f"Dispute #{did} no longer exists: it has been closed."


async def test_a_typed_reason_reaches_both_parties(h: Harness) -> None:
    ada, cleo, fran, d = await setting(h)
    did = await open_by(h, cleo, d.milestones[0])
    await h.press_data(ada, f"adm:evidence:{did}")
    await h.press(ada, "50 / 50")
    asked = h.last(ada)
    assert "Freelancer's share: $50.00 of $100.00" in asked.text
    assert "Type a short reason both parties will receive" in asked.text
    reason = "Half was delivered on time " + HOSTILE
    await h.send(ada, reason)
    shown = h.last(ada)
    assert f"Reason for both parties: {reason}" in shown.text  # escaped, shown as typed
    await h.press(ada, "✅ Resolve so")
    assert "Dispute #1 resolved" in h.last(ada).text
    assert told(h, cleo, f"The admin's reason: {reason}")
    assert told(h, fran, f"Причина решения: {reason}")
    async with h.db.uow() as uow:
        dispute = await uow.disputes.get(did)
        assert (dispute.status, dispute.resolution_reason) == (DisputeStatus.RESOLVED, reason)
        [entry] = await uow.audit.find(action="resolve")
        assert entry.details["reason"] == reason
    # The parties' card shows it too.
    await h.press_data(cleo, f"dsp:view:{did}")
    assert f"The admin's reason: {reason}" in h.last(cleo).text


async def test_a_reason_after_the_share_and_skipping_it(h: Harness) -> None:
    ada, cleo, fran, d = await setting(h, amounts=(10_000, 20_000))
    first = await open_by(h, cleo, d.milestones[0])
    await h.send(ada, f"/resolve {first} 50 % the logo came late")
    assert "Reason for both parties: the logo came late" in h.last(ada).text
    await h.press(ada, "✅ Resolve so")
    assert told(h, cleo, "The admin's reason: the logo came late")
    assert told(h, fran, "Причина решения: the logo came late")
    second = await open_by(h, fran, d.milestones[1], reason="The client stopped answering me.")
    await h.press_data(ada, f"adm:evidence:{second}")
    await h.press(ada, "All to freelancer")
    await h.send(ada, "typed, but then skipped")
    # An older screen's Skip resolves without the reason typed since.
    await h.press_data(ada, f"adm:skip_reason:{second}:20000")
    assert not told(h, cleo, "typed, but then skipped", last=5)
    async with h.db.uow() as uow:
        assert (await uow.disputes.get(second)).resolution_reason == ""
    assert h.chat(ADMIN_ID)[-1].text.startswith(f"✅ Dispute #{second} resolved")


async def test_the_timeline_is_that_milestones_own_labelled(h: Harness) -> None:
    ada, cleo, fran, d = await setting(h, amounts=(10_000, 20_000))
    first = await open_by(h, cleo, d.milestones[0])
    await h.press_data(fran, f"dsp:answer:{first}")
    await h.send(fran, "About part one only")
    await h.press_data(ada, f"adm:confirm_resolve:{first}:0")  # refund, confirmed
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, "Let us talk about part two")
    second = await open_by(h, cleo, d.milestones[1], reason="Part two is missing its tests.")
    await h.press_data(fran, f"dsp:answer:{second}")
    await h.send(fran, "Tests are in the second folder")

    await h.send(ada, f"/dispute {second}")
    ev = h.last(ada).text
    timeline = ev[ev.index("Timeline") :]
    assert "About part one only" not in timeline  # the other milestone's dispute
    assert "Nothing was" not in timeline and "$100.00" not in timeline
    assert "💰 Funded by Cleo · $200.00" in timeline
    assert "⚖️ Dispute opened by Cleo\nPart two is missing its tests." in timeline
    assert "🗣 Fran in the dispute\nTests are in the second folder" in timeline
    assert "💬 Message from Cleo\nLet us talk about part two" in timeline
    for code in ("dispute_opened", "split_proposed", "funded —", "message —"):
        assert code not in timeline


async def test_cancel_on_the_reason_screen_stops_waiting_for_a_reason(h: Harness) -> None:
    ada, cleo, _fran, d = await setting(h)
    did = await open_by(h, cleo, d.milestones[0])
    await h.press_data(ada, f"adm:evidence:{did}")
    await h.press(ada, "Refund client")
    await h.press(ada, "✖️ Cancel")
    assert f"Dispute #{did}" in h.last(ada).text
    await h.send(ada, "just chatting")  # not taken as a reason
    assert "Reason for both parties" not in h.last(ada).text
    async with h.db.uow() as uow:
        assert (await uow.disputes.get(did)).status is DisputeStatus.OPEN
