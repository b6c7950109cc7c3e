"""Read models: built from the real data, refused to the wrong people."""

from datetime import date

import pytest

from domain.errors import NotAllowed
from domain.usecases import admin, contracts, disputes, milestones, pitches, queries
from domain.usecases.contracts import MilestoneSpec
from domain.usecases.pitches import PitchFields
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER
from tests.usecases.story import RecordingGateway, fund, hired, open_job


async def test_read_models_for_client_freelancer_and_admin(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, (m1, m2) = await hired(db, clock, config, (10_000, 6_000))
    async with db.uow() as uow:
        m3 = await contracts.add_milestone(
            uow, clock, CLIENT, contract_id, MilestoneSpec("Extra", 2_000, date(2026, 1, 6))
        )
        await uow.commit()
    await fund(db, clock, config, gw, m1)
    await fund(db, clock, config, gw, m2)
    async with db.uow() as uow:
        await milestones.submit_work(uow, clock, config, FREELANCER, m1, "Done")
        await milestones.release(uow, clock, config, CLIENT, m1)
        dispute = await disputes.open_dispute(uow, clock, CLIENT, m2, "Half of it is missing")
        await uow.commit()
    clock.advance(days=2)
    async with db.uow() as uow:
        summary = await queries.contract_summary(uow, config, CLIENT, contract_id)
        assert [v.escrow for v in summary.milestones] == [0, 6_300, 0]
        assert (summary.held, summary.released, summary.pending) == (6_300, 10_000, 2_000)
        with pytest.raises(NotAllowed):
            await queries.contract_summary(uow, config, OTHER_FREELANCER, contract_id)

        earned = await queries.earnings(uow, FREELANCER)
        assert earned.balance == 9_000
        assert [(e.kind, e.amount) for e in earned.entries] == [("release", 9_000)]

        record = await queries.freelancer_record(uow, clock, FREELANCER)
        assert (record.contracts_disputed, record.earnings_minor) == (1, 9_000)
        assert (record.milestones_on_time, record.milestones_late) == (0, 0)
        assert m3.due_date < clock.now().date()  # due, but unfunded: not counted late

        with pytest.raises(NotAllowed):
            await admin.stats(uow, config, CLIENT)
        s = await admin.stats(uow, config, ADMIN)
        assert (s.escrow_held, s.platform_fees, s.open_disputes) == (6_300, 1_500, 1)
        assert [d.id for d in await admin.open_disputes(uow, config, ADMIN)] == [dispute.id]
        evidence = await admin.dispute_evidence(uow, clock, config, ADMIN, dispute.id)
        assert [i.kind for i in evidence.timeline] == ["funded", "dispute_opened"]
        assert evidence.escrow == 6_300
        card = await admin.user_card(uow, clock, config, ADMIN, FREELANCER)
        assert card.balance == 9_000


async def test_my_jobs_and_ranked_pitches(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        letter = "I would love to draw this logo for you."
        await pitches.submit_pitch(
            uow, clock, config, FREELANCER, job_id, PitchFields(letter, 90_000)
        )
        clock.advance(minutes=1)
        await pitches.submit_pitch(
            uow, clock, config, OTHER_FREELANCER, job_id, PitchFields(letter, 40_000)
        )
        await uow.commit()
    async with db.uow() as uow:
        (summary,) = await queries.my_jobs(uow, CLIENT)
        assert (summary.pitches, summary.pending) == (2, 2)
        ranked = await queries.ranked_pitches(uow, clock, CLIENT, job_id)
        # Same (new) reputation: the price within the 50,000 budget ranks first.
        assert [p.freelancer_id for p, _, _ in ranked] == [OTHER_FREELANCER, FREELANCER]
        with pytest.raises(NotAllowed):
            await queries.ranked_pitches(uow, clock, FREELANCER, job_id)
    clock.advance(days=1)
    async with db.uow() as uow:
        assert len(await queries.my_pitches(uow, FREELANCER)) == 1
        assert (await queries.reputation_of(uow, clock, FREELANCER)).rating_count == 0
