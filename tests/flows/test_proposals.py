"""A milestone added later (issue 13, part 4): either party proposes it on an
active contract, the other accepts or declines with buttons, and the client funds
an accepted one through the usual funding path; in English and Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import ledger
from domain.states import ContractStatus, MilestoneStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    confirm_paid,
    contract,
    deal,
    enter_milestone,
    label,
    milestones,
    money_harness,
)


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def propose(h: Harness, who: Person, cid: int, title: str, amount: str, due: str | None):
    lang = who.language_code or "en"
    await h.press_data(who, encode("ct", "view", cid))
    await h.press(who, label("contracts.btn.add_milestone", lang))
    await enter_milestone(h, who, title, amount, due)
    await h.press(who, label("offers.btn.send_add", lang))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_freelancer_proposes_the_client_accepts_and_funds(h, lang):
    carla, fred, cid, _ = await deal(h, client_lang=lang, freelancer_lang=lang)
    due = (h.clock.now().date() + timedelta(days=10)).isoformat()
    await propose(h, fred, cid, "Extra <page>", "40", due)
    new = (await milestones(h, cid))[-1]
    assert (new.title, new.amount, new.status, new.proposed_by) == (
        "Extra <page>",
        4_000,
        MilestoneStatus.PROPOSED,
        fred.id,
    )
    assert new.due_date is not None and new.due_date.isoformat() == due
    asked = h.last(carla)
    assert "$40.00" in asked.text and due in asked.text and "Extra &lt;page&gt;" in asked.html
    # The proposer cannot accept their own proposal; a proposal is not fundable yet.
    await h.press_data(fred, encode("mp", "accept", new.id))
    await h.press_data(carla, encode("fd", "quote", new.id))
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.PROPOSED

    await h.press(carla, label("proposal.btn.accept", lang))
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.PENDING
    assert "$40.00" in h.last(fred).text  # the proposer hears the answer
    # The client funds it the usual way: the quote, Pay, the gateway's confirmation.
    await h.press(carla, label("offers.btn.fund_now", lang))
    await h.press(carla, label("funding.btn.pay", lang, total="$42.00"))
    assert await confirm_paid(h, new.id)
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.FUNDED
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(new.id)) == 4_200


async def test_a_declined_proposal_is_cancelled_and_ending_cancels_an_open_one(h):
    carla, fred, cid, _ = await deal(h)
    await propose(h, carla, cid, "Logo", "25", None)
    await h.press(fred, label("proposal.btn.decline"))
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.CANCELLED
    assert "declined" in h.last(carla).text
    await h.press_data(fred, encode("mp", "accept", (await milestones(h, cid))[-1].id))
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.CANCELLED

    await propose(h, fred, cid, "Icons", "15", None)
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.PROPOSED
    await h.press_data(carla, encode("ct", "end_contract", cid))
    assert "(2)" in h.last(carla).text  # Part 1 unfunded, and the open proposal
    await h.press(carla, label("contracts.btn.end_confirm"))
    assert (await contract(h, cid)).status is ContractStatus.ENDED
    assert (await milestones(h, cid))[-1].status is MilestoneStatus.CANCELLED
