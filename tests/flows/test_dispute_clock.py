"""The dispute clock (issue 12, part 1), as stories through the real engine on
SQLite and PostgreSQL: a dispute nobody answers settles for its opener after the
response window, with both reminders; another is answered, goes to the admins,
is taken, reminded and decided with a reason. Both parties are told what happens
next, and by when, at every step; every deadline is a database row ticked by a
fresh engine (a restart loses nothing)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from domain import ledger
from domain.states import DisputeStage, DisputeStatus, MilestoneStatus
from handlers.engine import Engine
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person
from tests.flows.test_disputes import open_by
from tests.flows.test_messaging import admin, deal, fund, gateway, person

__all__ = ["gateway"]


@pytest.fixture
def h(any_db, clock, config, gateway) -> Harness:
    return Harness(any_db, clock, config, gateway=gateway)


def recent(h: Harness, who: Person | int, count: int) -> str:
    """The latest `count` messages of `who`, as one text."""
    return "\n---\n".join(h.texts(who)[-count:])


async def restart_and_tick(h: Harness) -> int:
    """A new process: a fresh engine on the same database runs the deadlines."""
    h.engine = Engine(h.db.uow, h.clock, h.config, h.engine.gateway)
    return await h.tick()


async def dispute(h: Harness, did: int) -> SimpleNamespace:
    """The dispute's row as it is now (a copy: the unit of work ends here)."""
    async with h.db.uow() as uow:
        row = await uow.disputes.get(did)
        return SimpleNamespace(
            **{k: getattr(row, k) for k in ("stage", "due_at", "reminders_sent")}
        )


async def test_an_unanswered_dispute_settles_for_its_opener(h: Harness) -> None:
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran)
    ms = d.milestones[0]
    await fund(h, cleo, ms)
    opened = h.clock.now()  # Mon 5 Jan 2026, 09:00 UTC
    did = await open_by(h, cleo, ms)

    # Both told what happens next and by when: 4 days to answer, or Cleo gets it back.
    assert (
        "⏳ Fran has until Fri 09 Jan 2026, 09:00 UTC to answer. Without an answer the "
        "dispute settles in your favour: the client gets back $105.00."
    ) in h.last(cleo).text
    assert (
        "⏳ Ответьте до 09.01.2026, 09:00 UTC. Без ответа спор решится в пользу Cleo: "
        "заказчику вернётся $105.00."
    ) in h.last(fran).text
    stored = await dispute(h, did)
    assert (stored.stage, stored.due_at) == (DisputeStage.RESPONSE, opened.replace(day=9))
    # The admins hear of it with Take, and read the clock about the parties.
    assert h.last(ada).button("👤 Take")["data"] == f"adm:take:{did}"
    await h.send(ada, f"/dispute {did}")
    assert (
        "⏳ Fran has until Fri 09 Jan 2026, 09:00 UTC to answer; without an answer the "
        "dispute settles for Cleo: the client gets back $105.00."
    ) in h.last(ada).text

    # Nothing before 48 h are left.
    h.clock.advance(days=1, hours=23)
    before = (len(h.chat(cleo)), len(h.chat(fran)))
    await restart_and_tick(h)
    assert (len(h.chat(cleo)), len(h.chat(fran))) == before

    # 48 h before: both reminded, once.
    h.clock.advance(hours=1)
    await restart_and_tick(h)
    assert "Dispute #1 (“Part 1”) is still unanswered: about 48 h left." in h.last(cleo).text
    assert "Fran has until Fri 09 Jan 2026, 09:00 UTC to answer" in h.last(cleo).text
    assert "осталось около 48 ч" in h.last(fran).text
    assert "Ответьте до 09.01.2026, 09:00 UTC" in h.last(fran).text
    counts = (len(h.chat(cleo)), len(h.chat(fran)))
    await restart_and_tick(h)
    assert (len(h.chat(cleo)), len(h.chat(fran))) == counts

    # 24 h before: the second reminder.
    h.clock.advance(days=1, minutes=30)
    await restart_and_tick(h)
    assert "about 23 h left" in h.last(cleo).text and "около 23 ч" in h.last(fran).text
    assert (await dispute(h, did)).reminders_sent == 2

    # The window ends: settled for the opener through the one settlement rule.
    h.clock.advance(hours=23, minutes=30)
    await restart_and_tick(h)
    lapsed_en = "Dispute #1 settled for Cleo (“Part 1”): Fran did not answer in time."
    assert lapsed_en in recent(h, cleo, 2) and "Cleo gets back $105.00" in recent(h, cleo, 2)
    assert "Спор №1 решён в пользу Cleo" in recent(h, fran, 2)
    async with h.db.uow() as uow:
        stored = await uow.disputes.get(did)
        milestone = await uow.milestones.get(ms)
        assert (stored.status, stored.resolution_share, stored.due_at) == (
            DisputeStatus.LAPSED,
            0,
            None,
        )
        assert milestone.status is MilestoneStatus.REFUNDED
        assert await uow.ledger.balance(ledger.escrow_account(ms)) == 0
        assert await uow.ledger.balance(ledger.freelancer_account(fran.id)) == 0
        assert await uow.ledger.total() == 0
    assert h.engine.gateway.refunds == [(10_500, f"refund:milestone:{ms}")]
    # Later ticks change nothing; the admins were never needed.
    h.clock.advance(days=5)
    await restart_and_tick(h)
    assert h.engine.gateway.refunds == [(10_500, f"refund:milestone:{ms}")]
    assert not any("awaits an admin" in t for t in h.texts(ada))
    await h.press_data(cleo, f"dsp:view:{did}")
    assert "settled: no answer in time" in h.last(cleo).text


async def test_a_freelancer_who_is_not_answered_is_paid(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran)
    ms = d.milestones[0]
    await fund(h, cleo, ms)
    await open_by(h, fran, ms, reason="The client has not answered for two weeks.")
    assert "settles for Fran: the freelancer is paid $90.00" in h.last(cleo).text
    h.clock.advance(days=4)
    await restart_and_tick(h)
    async with h.db.uow() as uow:
        assert (await uow.milestones.get(ms)).status is MilestoneStatus.RELEASED
        assert await uow.ledger.balance(ledger.freelancer_account(fran.id)) == 9_000
        assert await uow.ledger.total() == 0
    assert "Fran receives $90.00" in recent(h, fran, 2)


async def test_an_answered_dispute_reaches_an_admin_who_takes_and_decides_it(
    h: Harness,
) -> None:
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran)
    ms = d.milestones[0]
    await fund(h, cleo, ms)
    did = await open_by(h, fran, ms, reason="Delivered on time; the client went silent.")

    # Cleo answers on day 1: the parties have 7 days to agree.
    h.clock.advance(days=1)
    await h.press_data(cleo, f"dsp:answer:{did}")
    await h.send(cleo, "Half of it does not work.")
    next_en = "Agree a split by Tue 13 Jan 2026, 09:00 UTC"
    assert next_en in h.last(cleo).text
    assert "Договоритесь о разделе до 13.01.2026, 09:00 UTC" in h.last(fran).text
    assert "Half of it does not work." in h.last(fran).text
    # The response reminders are off: Cleo answered.
    h.clock.advance(days=2, hours=12)
    counts = (len(h.chat(cleo)), len(h.chat(fran)))
    await restart_and_tick(h)
    assert (len(h.chat(cleo)), len(h.chat(fran))) == counts

    # No agreement by then: it goes to the admins.
    h.clock.advance(days=4, hours=12)
    await restart_and_tick(h)
    assert "was not settled in time and goes to the admins" in h.last(cleo).text
    assert "Waiting for an admin since Tue 13 Jan 2026, 09:00 UTC" in h.last(cleo).text
    assert "передан администраторам" in h.last(fran).text
    assert "Ждёт администратора с 13.01.2026, 09:00 UTC" in h.last(fran).text
    assert "Dispute #1 (“Part 1”, $100.00) was not settled" in h.last(ada).text
    await h.send(ada, "/disputes")
    assert "⚖️ #1 · $100.00 · ⏳ awaiting an admin" in h.last(ada).labels()
    assert (await dispute(h, did)).stage is DisputeStage.ADMIN

    # Waiting more than 2 days: every admin is reminded, at most once a day.
    h.clock.advance(days=2, minutes=1)
    await restart_and_tick(h)
    reminder = "has been waiting for an admin since Tue 13 Jan 2026, 09:00 UTC, and nobody"
    assert reminder in h.last(ada).text
    admin_count = len(h.chat(ada))
    await restart_and_tick(h)
    h.clock.advance(hours=12)
    await restart_and_tick(h)
    assert len(h.chat(ada)) == admin_count

    # Ada takes it: both parties see who handles it.
    await h.press(ada, "👤 Take")
    assert "Ada Admin (admin) now handles dispute #1" in h.last(cleo).text
    assert "Ada Admin (admin) handles this dispute and will decide" in h.last(cleo).text
    assert "теперь ведёт администратор Ada Admin" in h.last(fran).text
    assert "Taken by Ada Admin" in h.last(ada).text  # the timeline
    await h.send(ada, "/take 1")
    assert h.last(ada).text == "You already handle dispute #1."

    # Still undecided a day later: reminded again, naming who has it.
    h.clock.advance(hours=12)
    await restart_and_tick(h)
    assert "has been waiting for a decision since" in h.last(ada).text
    assert "Ada Admin has taken it" in h.last(ada).text

    # Decided, with a reason both receive.
    await h.send(ada, "/resolve 1 70% Most of the work was delivered and works.")
    await h.press(ada, "✅ Resolve so")
    reason = "Most of the work was delivered and works."
    assert f"The admin's reason: {reason}" in recent(h, cleo, 2)
    assert "Fran receives $63.00" in recent(h, cleo, 2)
    assert f"Причина решения: {reason}" in recent(h, fran, 2)
    async with h.db.uow() as uow:
        stored = await uow.disputes.get(did)
        assert (stored.status, stored.handled_by, stored.resolution_share) == (
            DisputeStatus.RESOLVED,
            ADMIN_ID,
            7_000,
        )
        assert await uow.ledger.balance(ledger.escrow_account(ms)) == 0
        assert await uow.ledger.balance(ledger.freelancer_account(fran.id)) == 6_300
        assert await uow.ledger.total() == 0
        assert [a.action for a in await uow.audit.find(order_by="id")] == ["take", "resolve"]
    # Nothing more once decided.
    h.clock.advance(days=3)
    admin_count = len(h.chat(ada))
    await restart_and_tick(h)
    assert len(h.chat(ada)) == admin_count


async def test_a_frozen_milestone_is_never_settled_by_silence(h: Harness) -> None:
    """A chargeback froze the money: only an admin settles it, so an unanswered
    dispute on it goes to the admins instead of settling for the opener."""
    from domain.usecases.disputes import freeze_on_chargeback

    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran)
    ms = d.milestones[0]
    await fund(h, cleo, ms)
    did = await open_by(h, cleo, ms)
    async with h.db.uow() as uow:
        [payment] = await uow.payments.find(milestone_id=ms)
        assert await freeze_on_chargeback(uow, h.clock, payment.gateway, payment.charge_ref)
        await uow.commit()
    h.clock.advance(days=4)
    await restart_and_tick(h)
    async with h.db.uow() as uow:
        assert (await uow.milestones.get(ms)).status is MilestoneStatus.FROZEN
        stored = await uow.disputes.get(did)
        assert (stored.status, stored.stage) == (DisputeStatus.OPEN, DisputeStage.ADMIN)
    assert h.engine.gateway.refunds == []
    assert any("awaits an admin" in t for t in h.texts(ada))


def test_the_clock_is_set_from_the_environment(monkeypatch, tmp_path) -> None:
    from bot.config import Settings

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("GIGBOT_DISPUTE_RESPONSE_DAYS", "GIGBOT_DISPUTE_NEGOTIATION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    market = Settings().market_config()
    assert (market.dispute_response_days, market.dispute_negotiation_days) == (4, 7)
    monkeypatch.setenv("GIGBOT_DISPUTE_RESPONSE_DAYS", "10")
    monkeypatch.setenv("GIGBOT_DISPUTE_NEGOTIATION_DAYS", "14")
    market = Settings().market_config()
    assert (market.dispute_response_days, market.dispute_negotiation_days) == (10, 14)
    monkeypatch.setenv("GIGBOT_DISPUTE_RESPONSE_DAYS", "1")  # reminders come 48 h before
    with pytest.raises(ValueError, match="dispute_response_days"):
        Settings()


async def test_two_schedulers_and_a_late_answer_at_the_deadline_act_once(h: Harness) -> None:
    """Two processes tick as the answer window ends while the other party answers:
    the dispute either lapsed (once: one refund) or was answered (no money moved)."""
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran)
    ms = d.milestones[0]
    await fund(h, cleo, ms)
    did = await open_by(h, cleo, ms)
    await h.press_data(fran, f"dsp:answer:{did}")
    h.clock.advance(days=4)
    first, second = (Engine(h.db.uow, h.clock, h.config, h.engine.gateway) for _ in "12")
    await asyncio.gather(first.tick(), second.tick(), h.send(fran, "My side, just in time."))
    await h.deliver()
    async with h.db.uow() as uow:
        stored = await uow.disputes.get(did)
        escrow = await uow.ledger.balance(ledger.escrow_account(ms))
        assert await uow.ledger.total() == 0
        status = stored.status
    lapsed = [t for t in h.texts(cleo) if "settled for Cleo" in t]
    if status is DisputeStatus.LAPSED:
        assert escrow == 0 and len(lapsed) == 1
        assert h.engine.gateway.refunds == [(10_500, f"refund:milestone:{ms}")]
        assert h.last(fran).text == "This dispute is closed."  # the answer came too late
    else:
        assert status is DisputeStatus.OPEN and escrow == 10_500 and not lapsed
        assert h.engine.gateway.refunds == []
        assert "Agree a split by" in h.last(cleo).text
