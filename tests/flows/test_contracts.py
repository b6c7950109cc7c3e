"""My contracts (list, card, buttons by role and state) and ending a contract (FLOWS 17)."""

from __future__ import annotations

import pytest

from domain.states import ContractStatus, MilestoneStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness
from tests.flows.test_offers import (
    add_pitch,
    contract,
    deal,
    fund,
    join_as,
    label,
    milestones,
    money_harness,
    open_job,
    send_offer,
)
from tests.flows.test_work import submit


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def test_contracts_from_the_menu_and_the_card_for_each_side(h):
    carla, fred, cid, [m1, m2] = await deal(h, amounts=("100", "50"), titles=("<Design>", "Build"))
    await fund(h, carla, m1)
    await h.send(carla, "/menu")
    await h.press(carla, label("menu.contracts"))
    listing = h.last(carla)
    assert "My contracts (1)" in listing.text
    await h.press_data(carla, listing.buttons[0][0]["data"])  # type: ignore[index]
    card = h.last(carla)
    assert "Client: Carla <Client> & Co · Freelancer: Fred 🦊" in card.text
    assert "1. 🔒 <Design> — $100.00 (funded, in escrow)" in card.text
    assert "2. ⏳ Build — $50.00 (awaiting funding)" in card.text
    assert "🔒 In escrow: $100.00 + $5.00 client fee" in card.text
    # The client: no refund of #1 before its due date (the policy), cancel only unfunded.
    assert card.labels() == [
        label("contracts.btn.release", n=1),
        label("contracts.btn.dispute_n", n=1),
        label("contracts.btn.fund", n=2),
        label("contracts.btn.cancel_n", n=2),
        label("msg.btn.write"),
        label("contracts.btn.add_milestone"),
        label("contracts.btn.end"),
        label("bonus.btn.start"),  # issue 13: the client's bonus
        label("contracts.btn.list"),
    ]
    assert card.buttons[1] == [  # type: ignore[index]
        {"text": label("contracts.btn.fund", n=2), "data": f"fd:quote:{m2}"},
        {"text": label("contracts.btn.cancel_n", n=2), "data": f"wk:cancel_milestone:{m2}"},
    ]
    assert card.button(label("contracts.btn.dispute_n", n=1))["data"] == f"dsp:open:{m1}"  # type: ignore[index]
    assert card.button(label("msg.btn.write"))["data"] == f"msg:write:{cid}"  # type: ignore[index]
    await h.send(fred, "/contracts")
    await h.press_data(fred, encode("ct", "view", cid))
    assert h.last(fred).labels() == [
        label("contracts.btn.submit", n=1),
        label("contracts.btn.refund_n", n=1),
        label("contracts.btn.dispute_n", n=1),
        label("msg.btn.write"),
        label("contracts.btn.add_milestone"),  # issue 13: either party proposes one
        label("contracts.btn.end"),
        label("contracts.btn.list"),
    ]


async def test_offer_card_buttons_and_paging(h):
    carla, fred = await _people(h)
    ids = []
    for k in range(8):
        job = await open_job(h, carla, title=f"Job {k}")
        ids.append(await send_offer(h, carla, await add_pitch(h, job, fred)))
    await h.send(fred, "/contracts")
    first = h.last(fred)
    assert "My contracts (8)" in first.text
    assert f"#{ids[-1]} Job 7" in first.text and "Job 0" not in first.text
    await h.press(fred, label("btn.next"))
    assert "Job 0" in h.last(fred).text
    await h.press_data(fred, encode("ct", "view", ids[0]))
    assert h.last(fred).labels()[:3] == [
        label("offers.btn.accept"),
        label("offers.btn.decline"),
        label("offers.btn.counter"),
    ]
    await h.press_data(carla, encode("ct", "view", ids[0]))
    assert label("offers.btn.withdraw") in h.last(carla).labels()
    assert "The offer expires on 2026-01-12" in h.last(carla).text


async def _people(h: Harness):
    carla = h.person("Carla")
    fred = h.person("Fred")
    await join_as(h, carla, "client")
    await join_as(h, fred, "freelancer")
    return carla, fred


async def test_strangers_and_forged_buttons_see_nothing(h):
    _, _, cid, _ = await deal(h)
    mallory = h.person("Mallory <b>")
    await join_as(h, mallory, "client")
    await h.press_data(mallory, encode("ct", "view", cid))
    assert "not yours" in h.last_answer(mallory).text  # type: ignore[union-attr]
    await h.press_data(mallory, encode("ct", "confirm_end", cid))
    assert (await contract(h, cid)).status is ContractStatus.ACTIVE
    for forged in ("ct:list", "ct:list::x", "ct:v", "ct:nope:1"):
        await h.press_data(mallory, forged)
        assert "no longer available" in h.last_answer(mallory).text  # type: ignore[union-attr]
    await h.send(mallory, "/contracts")
    assert "no contracts yet" in h.last(mallory).text


async def test_end_only_when_nothing_is_held_and_the_other_side_is_told(h):
    carla, fred, cid, [m1, _] = await deal(h, amounts=("100", "50"))
    await fund(h, carla, m1)
    await h.press_data(fred, encode("ct", "end_contract", cid))
    assert "funded milestones first" in h.last_answer(fred).text  # type: ignore[union-attr]
    await h.press_data(fred, encode("ct", "confirm_end", cid))  # straight to the confirmation
    assert (await contract(h, cid)).status is ContractStatus.ACTIVE

    await submit(h, fred, m1, "done")
    await h.press(carla, label("work.btn.approve"))
    await h.press(carla, label("work.btn.release_confirm"))
    await h.press_data(carla, encode("ct", "end_contract", cid))
    ask = h.last(carla).text
    assert "End the contract" in ask and "Unfunded milestones (1) will be cancelled" in ask
    await h.press(carla, label("contracts.btn.end_confirm"))
    assert (await contract(h, cid)).status is ContractStatus.ENDED
    assert [m.status for m in await milestones(h, cid)] == [
        MilestoneStatus.RELEASED,
        MilestoneStatus.CANCELLED,
    ]
    # Fred is told who ended it, then both are asked to rate each other.
    assert "Carla <Client> & Co ended the contract" in h.texts(fred)[-2]
    for who, other in ((fred, "Carla <Client> & Co"), (carla, "Fred 🦊")):
        assert f"Rate {other}" in h.last(who).text
        assert h.last(who).button("⭐⭐⭐⭐⭐")["data"] == f"rv:stars:{cid}:5"  # type: ignore[index]
    await h.press_data(carla, encode("ct", "confirm_end", cid))  # the same button again
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]
    await h.press_data(carla, encode("ct", "view", cid))
    # Nothing left to do with the money; they can still write and rate each other.
    card = h.last(carla)
    assert card.labels() == [
        label("msg.btn.write"),
        label("rv.btn.rate"),
        label("bonus.btn.start"),  # a bonus is still possible once ended (issue 13)
        label("sv.btn.hire_again"),  # issue 14
        label("contracts.btn.list"),
    ]
    await h.press(carla, label("rv.btn.rate"))
    await h.press(carla, "⭐⭐⭐⭐")
    await h.press(carla, label("rv.btn.skip"))
    await h.press_data(carla, encode("ct", "view", cid))
    assert h.last(carla).labels() == [
        label("msg.btn.write"),
        label("bonus.btn.start"),
        label("sv.btn.hire_again"),
        label("contracts.btn.list"),
    ]
    h.clock.advance(days=h.config.review_window_days, seconds=1)
    await h.press_data(fred, encode("ct", "view", cid))  # too late to rate: no button
    assert h.last(fred).labels() == [label("msg.btn.write"), label("contracts.btn.list")]


async def test_ending_with_a_payment_under_way_is_refused_before_the_confirmation(h):
    """The ask and the end apply the same domain rule (contracts.require_endable)."""
    carla, _fred, cid, [m1] = await deal(h, amounts=("100",))
    await h.press_data(carla, encode("fd", "checkout", m1))
    assert [m.status for m in await milestones(h, cid)] == [MilestoneStatus.FUNDING]
    await h.press_data(carla, encode("ct", "end_contract", cid))
    assert "payment for a milestone is under way" in h.last_answer(carla).text  # type: ignore[union-attr]
    assert "End the contract" not in h.last(carla).text
