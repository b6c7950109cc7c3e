from datetime import timedelta

import pytest

from domain.entities import Pitch
from domain.errors import IllegalTransition, NotAllowed, ValidationError
from domain.states import ContractStatus, JobStatus, MilestoneStatus, PitchStatus
from domain.usecases import contracts, deadlines, milestones
from domain.usecases.contracts import MilestoneSpec
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER
from tests.usecases.story import RecordingGateway, fund, hired, open_job

SPECS = [MilestoneSpec("Sketches", 10_000), MilestoneSpec("Final files", 20_000)]


async def _pitched(db, clock, freelancer_id=FREELANCER) -> int:
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        await uow.pitches.add(
            Pitch(job_id=job_id, freelancer_id=freelancer_id, price=30_000, created_at=clock.now())
        )
        await uow.commit()
    return job_id


async def test_offer_counter_revise_accept(users, clock, config):
    db = users
    job_id = await _pitched(db, clock)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await contracts.send_offer(uow, clock, config, CLIENT, job_id, OTHER_FREELANCER, SPECS)
        assert err.value.code == "no_pitch"
        with pytest.raises(ValidationError):
            await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, [])
        with pytest.raises(ValidationError):
            await contracts.send_offer(
                uow, clock, config, CLIENT, job_id, FREELANCER, [MilestoneSpec("A", 0)]
            )
        offer = await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, SPECS)
        assert (offer.client_fee_bp, offer.freelancer_fee_bp) == (500, 1000)
        assert offer.expires_at == clock.now() + timedelta(days=config.offer_expiry_days)
        with pytest.raises(NotAllowed) as err:
            await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, SPECS)
        assert err.value.code == "offer_exists"
        with pytest.raises(NotAllowed):
            await contracts.accept_offer(uow, clock, CLIENT, offer.id)
        await contracts.counter_offer(
            uow, clock, FREELANCER, offer.id, [MilestoneSpec("Everything", 35_000)]
        )
        assert [m.amount for m in await uow.milestones.find(contract_id=offer.id)] == [35_000]
        with pytest.raises(IllegalTransition):
            await contracts.accept_offer(uow, clock, FREELANCER, offer.id)
        await contracts.revise_offer(uow, clock, config, CLIENT, offer.id, SPECS)
        active = await contracts.accept_offer(uow, clock, FREELANCER, offer.id)
        assert active.status is ContractStatus.ACTIVE and active.accepted_at == clock.now()
        assert (await uow.pitches.get(active.pitch_id)).status is PitchStatus.HIRED
        ms = await uow.milestones.find(contract_id=offer.id)
        assert [(m.position, m.amount) for m in ms] == [(1, 10_000), (2, 20_000)]
        kinds = [e.kind for e in uow.events]
        # The hire takes the open job off the market first (jobs.hold_after_hire).
        assert kinds == [
            "offer_sent",
            "offer_countered",
            "offer_revised",
            "job_held_after_hire",
            "offer_accepted",
        ]
        assert (await uow.jobs.get(job_id)).status is JobStatus.PAUSED


async def test_decline_withdraw_and_expiry(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await _pitched(db, clock)
    await _pitched(db, clock, OTHER_FREELANCER)
    async with db.uow() as uow:
        offer = await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, SPECS)
        await contracts.decline_offer(uow, clock, FREELANCER, offer.id, "busy")
        again = await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, SPECS)
        await contracts.withdraw_offer(uow, clock, CLIENT, again.id)
        third = await contracts.send_offer(uow, clock, config, CLIENT, job_id, FREELANCER, SPECS)
        await uow.commit()
    clock.advance(days=config.offer_expiry_days)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await contracts.accept_offer(uow, clock, FREELANCER, third.id)
        assert err.value.code == "offer_expired"
        assert await deadlines.expire_offers(uow, clock) == [third.id]
        assert await deadlines.expire_offers(uow, clock) == []
        await uow.commit()
    async with db.uow() as uow:
        assert (await uow.contracts.get(third.id)).status is ContractStatus.EXPIRED


async def test_add_milestone_and_end_contract(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, (m1,) = await hired(db, clock, config, (10_000,))
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await contracts.add_milestone(
                uow, clock, FREELANCER, contract_id, MilestoneSpec("More", 5_000)
            )
        m2 = await contracts.add_milestone(
            uow, clock, CLIENT, contract_id, MilestoneSpec("More", 5_000)
        )
        assert m2.position == 2
        await uow.commit()
    await fund(db, clock, config, gw, m1)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await contracts.end_contract(uow, clock, config, CLIENT, contract_id)
        assert err.value.code == "escrow_not_empty"
        await milestones.release(uow, clock, config, CLIENT, m1)
        with pytest.raises(NotAllowed):
            await contracts.end_contract(uow, clock, config, STRANGER, contract_id)
        ended = await contracts.end_contract(uow, clock, config, FREELANCER, contract_id)
        assert ended.review_deadline == clock.now() + timedelta(days=config.review_window_days)
        assert (await uow.milestones.get(m2.id)).status is MilestoneStatus.CANCELLED
        await uow.commit()


async def test_auto_release_and_reminders(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (m1, m2) = await hired(db, clock, config, (10_000, 10_000))
    await fund(db, clock, config, gw, m1)
    await fund(db, clock, config, gw, m2)
    async with db.uow() as uow:
        await milestones.submit_work(uow, clock, config, FREELANCER, m1, "Here you go")
        await milestones.submit_work(uow, clock, config, FREELANCER, m2, "And this")
        await uow.commit()
    clock.advance(days=config.auto_release_days, hours=-47)
    async with db.uow() as uow:
        assert await deadlines.send_release_reminders(uow, clock, config) == [m1, m2]
        assert await deadlines.send_release_reminders(uow, clock, config) == []
        assert uow.events[0].hours_left == 47
        # The client asks for changes on m2: its clock stops.
        await milestones.request_changes(uow, clock, CLIENT, m2, "Bigger font please")
        await uow.commit()
    clock.advance(hours=24)
    async with db.uow() as uow:
        assert await deadlines.send_release_reminders(uow, clock, config) == [m1]
        assert await deadlines.auto_release_due(uow, clock, config) == []
        await uow.commit()
    clock.advance(hours=23)
    async with db.uow() as uow:
        assert await deadlines.auto_release_due(uow, clock, config) == [m1]
        assert uow.events[-1].auto is True
        await uow.commit()
    async with db.uow() as uow:
        assert await deadlines.auto_release_due(uow, clock, config) == []
        assert (await uow.milestones.get(m1)).status is MilestoneStatus.RELEASED
        assert (await uow.milestones.get(m2)).status is MilestoneStatus.CHANGES_REQUESTED
