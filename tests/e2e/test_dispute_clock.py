"""The dispute clock through the real frameworks (aiogram and python-telegram-bot,
long polling) against the Bot API emulator, with the real Runtime: a dispute opened
in chat is settled for its opener when its answer window ends; another goes to the
admins, is taken and decided with a reason — both parties told at every step.

The runtime's clock is the system's, so a deadline is brought forward in its row
and the runtime's own tick (Engine.tick, as the scheduler runs it) acts on it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.states import DisputeStatus
from tests.e2e.harness import ADA
from tests.e2e.story_steps import labels
from tests.e2e.test_capabilities import World, world

__all__ = ["world"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def open_in_chat(w: World, who: int, reason: str) -> int:
    s = w.stage
    await s.send(who, "/mydisputes")
    await s.press(who, "⚖️ Open a dispute")
    picks = await s.sees(who, "Which milestone")
    await s.press(who, labels(picks)[0])
    await s.send(who, reason)
    await s.press(who, "⚖️ Open the dispute")
    await s.sees(who, "is open")
    async with w.db.uow() as uow:
        [found] = await uow.disputes.find(order_by="-id", limit=1, opened_by=who)
        return found.id  # type: ignore[return-value]


async def deadline_passes(w: World, dispute_id: int, *watching: int) -> None:
    """The dispute's current deadline is now past; the runtime ticks."""
    async with w.db.uow() as uow:
        dispute = await uow.disputes.get_for_update(dispute_id)
        dispute.due_at = w.clock.now() - timedelta(seconds=1)
        await uow.commit()
    for who in watching:
        w.stage._mark(who)  # what follows comes from the tick, not from them
    assert await w.rt._tick() > 0


async def test_silence_settles_for_the_opener(world: World) -> None:
    s = world.stage
    kai = await world.join("Kai", "client")
    uma = await world.join("Uma", "freelancer")
    _, [mid] = await world.hired(kai, uma, "Silent freelancer contract", (10_000,))
    await world.funded(kai, mid)
    did = await open_in_chat(world, kai, "Nothing was delivered and Uma is silent.")
    await s.sees(kai, "Uma has until", "UTC to answer", "the client gets back $105.00")
    await s.sees(uma, "Answer by", "settles for Kai")
    await deadline_passes(world, did, kai, uma)
    for party in (kai, uma):
        await s.sees(party, f"Dispute #{did} settled for Kai", "Kai gets back $105.00")
    async with world.db.uow() as uow:
        assert (await uow.disputes.get(did)).status is DisputeStatus.LAPSED


async def test_an_admin_takes_and_decides_with_a_reason(world: World) -> None:
    s = world.stage
    ivy = await world.join("Ivy", "client")
    rex = await world.join("Rex", "freelancer")
    _, [mid] = await world.hired(ivy, rex, "Disagreement contract", (10_000,))
    await world.funded(ivy, mid)
    did = await open_in_chat(world, rex, "Delivered in full; the client will not release.")
    await s.press(ivy, "💬 Answer")
    await s.send(ivy, "Half of the pages are missing.")
    await s.sees(ivy, "Agree a split by")
    await s.sees(rex, "Half of the pages are missing.", "Agree a split by")
    await deadline_passes(world, did, ivy, rex, ADA)
    for party in (ivy, rex):
        await s.sees(party, "goes to the admins", "Waiting for an admin since")
    await s.sees(ADA, f"Dispute #{did}", "awaits an admin")
    await s.send(ADA, f"/take {did}")
    await s.sees(ADA, f"Dispute #{did}", "Taken by Ada")
    for party in (ivy, rex):
        await s.sees(party, f"now handles dispute #{did}")
    await s.send(ADA, f"/resolve {did} 60% Most pages were there and work.")
    confirm = await s.sees(ADA, "Reason for both parties: Most pages were there and work.")
    assert labels(confirm)[0] == "✅ Resolve so"
    await s.press(ADA, "✅ Resolve so")
    for party in (ivy, rex):
        await s.sees(party, "Rex receives $54.00", "The admin's reason: Most pages were there")
