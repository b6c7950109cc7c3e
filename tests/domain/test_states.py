"""Every state machine: each listed transition works, every other (state, action)
pair over all states × all actions of the machine is refused."""

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.entities import Contract, Dispute, Job, Milestone, Pitch, Review
from domain.errors import IllegalTransition
from domain.states import (
    CONTRACT,
    DISPUTE,
    HELD,
    JOB,
    MILESTONE,
    PITCH,
    REVIEW,
    SETTLED_MILESTONE,
    ContractStatus,
    DisputeStatus,
    JobStatus,
    Machine,
    MilestoneStatus,
    PitchStatus,
    ReviewStatus,
)

MACHINES: list[tuple[Machine, type[StrEnum], object]] = [
    (JOB, JobStatus, lambda: Job(client_id=1, title="t")),
    (PITCH, PitchStatus, lambda: Pitch(job_id=1, freelancer_id=2)),
    (CONTRACT, ContractStatus, lambda: Contract(job_id=1, client_id=1, freelancer_id=2)),
    (MILESTONE, MilestoneStatus, lambda: Milestone(contract_id=1, title="m", amount=100)),
    (
        DISPUTE,
        DisputeStatus,
        lambda: Dispute(milestone_id=1, contract_id=1, opened_by=1, reason="r"),
    ),
    (REVIEW, ReviewStatus, lambda: Review(contract_id=1, reviewer_id=1, reviewee_id=2, rating=5)),
]


def all_pairs():
    for machine, states, make in MACHINES:
        for state in states:
            for action in sorted(machine.actions()):
                yield pytest.param(
                    machine, state, action, make, id=f"{machine.entity}-{state}-{action}"
                )


@pytest.mark.parametrize(("machine", "state", "action", "make"), list(all_pairs()))
def test_every_state_action_pair(machine, state, action, make):
    entity = make()
    entity.status = state
    if (state, action) in machine.table:
        entity.apply(action)
        assert entity.status == machine.table[(state, action)]
        assert machine.allows(state, action)
    else:
        assert not machine.allows(state, action)
        with pytest.raises(IllegalTransition) as exc:
            entity.apply(action)
        assert entity.status == state, "a refused transition changes nothing"
        assert (exc.value.entity, exc.value.state, exc.value.action) == (
            machine.entity,
            str(state),
            action,
        )
        assert exc.value.code == "illegal_transition"


@pytest.mark.parametrize(
    ("machine", "states", "make"), MACHINES, ids=lambda m: getattr(m, "entity", "")
)
def test_tables_only_use_their_own_states(machine, states, make):
    for (state, _), target in machine.table.items():
        assert isinstance(state, states) and isinstance(target, states)
    assert make().status == next(iter(states)), "new entities start in the first state"


def test_unknown_actions_are_refused():
    with pytest.raises(IllegalTransition):
        JOB.next(JobStatus.OPEN, "explode")


def test_specific_expectations():
    for action in ("release", "refund", "dispute", "resolve_release", "fund", "submit", "freeze"):
        assert not MILESTONE.allows(MilestoneStatus.RELEASED, action)
    assert not JOB.allows(JobStatus.DRAFT, "pause")
    assert not JOB.allows(JobStatus.CLOSED, "resume")
    assert not PITCH.allows(PitchStatus.HIRED, "withdraw")
    assert not CONTRACT.allows(ContractStatus.ENDED, "accept")
    assert not DISPUTE.allows(DisputeStatus.RESOLVED, "resolve")
    assert not REVIEW.allows(ReviewStatus.REVEALED, "reveal")
    assert MILESTONE.next(MilestoneStatus.FUNDING, "payment_failed") == MilestoneStatus.PENDING


def test_settled_milestones_are_terminal_and_held_money_can_always_leave():
    for (state, _action), _ in MILESTONE.table.items():
        assert state not in SETTLED_MILESTONE
    for state in HELD:
        exits = {
            MILESTONE.table[(state, a)]
            for a in MILESTONE.actions()
            if (state, a) in MILESTONE.table
        }
        # held money reaches a settled state, directly or via dispute/freeze
        assert exits & (SETTLED_MILESTONE | {MilestoneStatus.DISPUTED, MilestoneStatus.FROZEN})
    assert HELD.isdisjoint(SETTLED_MILESTONE)
    assert {MilestoneStatus.PENDING, MilestoneStatus.FUNDING}.isdisjoint(HELD)


# States a row may be created in besides its enum's first: a milestone added to a
# running contract starts proposed (domain/usecases/proposals.py).
OTHER_STARTS = {MilestoneStatus.PROPOSED}


def test_every_state_is_reachable_from_the_start():
    for machine, states, _ in MACHINES:
        start = next(iter(states))
        seen = {start} | {s for s in OTHER_STARTS if s in set(states)}
        frontier = list(seen)
        while frontier:
            current = frontier.pop()
            for (state, _), target in machine.table.items():
                if state == current and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert seen == set(states), machine.entity


@given(st.lists(st.sampled_from(sorted(MILESTONE.actions())), max_size=30))
def test_random_milestone_histories_settle_at_most_once(actions):
    m = Milestone(contract_id=1, title="m", amount=100)
    settled = 0
    for action in actions:
        before = m.status
        try:
            m.apply(action)
        except IllegalTransition:
            assert m.status == before
            continue
        if m.status in SETTLED_MILESTONE and m.status != MilestoneStatus.CANCELLED:
            settled += 1
        if before in HELD and m.status not in HELD:
            assert m.status in SETTLED_MILESTONE or m.status == MilestoneStatus.SUBMITTED
    assert settled <= 1
