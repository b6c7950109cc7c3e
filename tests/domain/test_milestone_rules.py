"""The milestone rules the handlers ask instead of copying: which states allow an
action (Machine.allowing) and who may refund alone (milestones.refund_allowed)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.entities import Milestone
from domain.states import MILESTONE, MilestoneStatus
from domain.usecases.milestones import refund_allowed

M = MilestoneStatus
DUE = date(2026, 3, 1)


def test_allowing_lists_the_states_of_an_action():
    # A partial release offered is disputed when the freelancer declines (issue 13).
    assert MILESTONE.allowing("dispute") == {
        M.FUNDED,
        M.SUBMITTED,
        M.CHANGES_REQUESTED,
        M.PARTIAL,
    }
    assert MILESTONE.allowing("release") == {M.FUNDED, M.SUBMITTED, M.CHANGES_REQUESTED}
    assert MILESTONE.allowing("cancel") == {M.PENDING, M.FUNDING, M.PROPOSED}
    assert MILESTONE.allowing("refund") == {M.FUNDED}
    assert MILESTONE.allowing("no_such_action") == frozenset()
    for action in MILESTONE.actions():
        for state in M:
            assert (state in MILESTONE.allowing(action)) == MILESTONE.allows(state, action)


def _milestone(status: MilestoneStatus, due: date | None = DUE) -> Milestone:
    return Milestone(contract_id=1, title="Design", amount=10_000, status=status, due_date=due)


@pytest.mark.parametrize("status", list(M))
def test_the_freelancer_may_refund_whatever_is_funded(status):
    allowed = refund_allowed("freelancer", _milestone(status), DUE)
    assert allowed == (status is M.FUNDED)


@pytest.mark.parametrize(
    ("today", "due", "allowed"),
    [
        (date(2026, 2, 28), DUE, False),  # before the due date
        (DUE, DUE, False),  # on it
        (date(2026, 3, 2), DUE, True),  # overdue with nothing submitted
        (date(2030, 1, 1), None, False),  # no due date: never overdue
    ],
)
def test_the_client_may_refund_alone_only_when_overdue(today, due, allowed):
    assert refund_allowed("client", _milestone(M.FUNDED, due), today) is allowed
    for status in (M.SUBMITTED, M.CHANGES_REQUESTED, M.DISPUTED, M.PENDING):
        assert not refund_allowed("client", _milestone(status, due), today)
