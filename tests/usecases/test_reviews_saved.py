"""Issue 14 on both databases: review details and the one reply, the record the
score reads (repeat clients, long-term, nothing delivered, private feedback),
saved lists and the direct offer of Hire again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.entities import Contract
from domain.errors import NotAllowed, ValidationError
from domain.saved import SavedKind
from domain.states import ContractStatus, JobStatus
from domain.usecases import contracts, queries, reviews, saved
from domain.usecases.contracts import MilestoneSpec
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER
from tests.usecases.story import hired, open_job


async def _ended(db, clock, config, client_id: int = CLIENT) -> int:
    contract_id, _ = await hired(db, clock, config, (10_000,), client_id=client_id)
    async with db.uow() as uow:
        await contracts.end_contract(uow, clock, config, client_id, contract_id)
        await uow.commit()
    return contract_id


async def test_details_are_kept_and_the_reviewee_replies_once(users, clock, config):
    db = users
    cid = await _ended(db, clock, config)
    async with db.uow() as uow:
        with pytest.raises(ValidationError):
            await reviews.leave_review(uow, clock, config, CLIENT, cid, 5, recommend=11)
    async with db.uow() as uow:
        mine = await reviews.leave_review(
            uow,
            clock,
            config,
            CLIENT,
            cid,
            5,
            "Great",
            subs=(5, 4, 3),
            recommend=9,
            end_reason="done",
        )
        about_freelancer = mine.id
        with pytest.raises(NotAllowed) as err:  # hidden: nothing to answer yet
            await reviews.reply_to_review(uow, clock, FREELANCER, about_freelancer, "Thanks")
        assert err.value.code == "review_hidden"
        await uow.commit()
    async with db.uow() as uow:
        await reviews.leave_review(uow, clock, config, FREELANCER, cid, 4, end_reason="bogus")
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await reviews.reply_to_review(uow, clock, CLIENT, about_freelancer, "Mine")
        assert err.value.code == "not_your_review"
    async with db.uow() as uow:
        await reviews.reply_to_review(uow, clock, FREELANCER, about_freelancer, "  Thanks!  ")
        assert [e.kind for e in uow.events] == ["review_replied"]
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await reviews.reply_to_review(uow, clock, FREELANCER, about_freelancer, "Again")
        assert err.value.code == "already_replied"
        found = {r.reviewer_id: r for r in await uow.reviews.find(contract_id=cid)}
        c, f = found[CLIENT], found[FREELANCER]
        assert (c.sub1, c.sub2, c.sub3, c.recommend, c.end_reason) == (5, 4, 3, 9, "done")
        assert (c.reply, c.replied_at) == ("Thanks!", clock.now())
        assert (f.sub1, f.recommend, f.end_reason) == (
            None,
            None,
            "",
        )  # an unknown reason is dropped
        record = await queries.freelancer_record(uow, clock, FREELANCER)
    assert record.recommendations == [9] and record.rating_ages == [0]
    assert record.contracts_no_work == 1  # ended, nothing released


async def test_repeat_clients_and_long_term_contracts_are_counted(users, clock, config):
    db = users
    await _ended(db, clock, config)
    await _ended(db, clock, config)
    await _ended(db, clock, config, client_id=OTHER_FREELANCER)  # a second, one-off client
    async with db.uow() as uow:
        record = await queries.freelancer_record(uow, clock, FREELANCER)
    assert (record.clients, record.repeat_clients, record.contracts_completed) == (2, 1, 3)
    assert record.long_term_contracts == 0
    start = clock.now()
    long = Contract(
        job_id=1,
        client_id=CLIENT,
        freelancer_id=FREELANCER,
        status=ContractStatus.ENDED,
        accepted_at=start,
        ended_at=start + timedelta(days=60),
    )
    short = Contract(
        job_id=1,
        client_id=CLIENT,
        freelancer_id=FREELANCER,
        status=ContractStatus.ENDED,
        accepted_at=start,
        ended_at=start + timedelta(days=59),
    )
    assert queries.repeat_business([long, short], start).long_term == 1


async def test_saved_lists(users, clock, config):
    db = users
    job_id = await open_job(db, clock, OTHER_FREELANCER, "Saved job")
    async with db.uow() as uow:
        item, fresh = await saved.save(uow, clock, config, CLIENT, SavedKind.FREELANCER, FREELANCER)
        again, fresh_again = await saved.save(
            uow, clock, config, CLIENT, SavedKind.FREELANCER, FREELANCER
        )
        assert fresh and not fresh_again and again.id == item.id
        with pytest.raises(NotAllowed):  # clients save freelancers; jobs are for freelancers
            await saved.save(uow, clock, config, CLIENT, SavedKind.JOB, job_id)
        job_item, _ = await saved.save(uow, clock, config, FREELANCER, SavedKind.JOB, job_id)
        with pytest.raises(NotAllowed) as err:
            await saved.remove(uow, CLIENT, job_item.id)
        assert err.value.code == "not_your_saved"
        await uow.commit()
    async with db.uow() as uow:
        assert [i.target_id for i in await saved.saved_of(uow, CLIENT, SavedKind.FREELANCER)] == [
            FREELANCER
        ]
        await saved.remove(uow, FREELANCER, job_item.id)
        await uow.commit()
    async with db.uow() as uow:
        assert await saved.saved_of(uow, FREELANCER, SavedKind.JOB) == []


async def test_hire_again_is_a_direct_offer_on_a_private_copy(users, clock, config):
    db = users
    active, _ = await hired(db, clock, config, (10_000,))
    spec = [MilestoneSpec("Again", 7_000)]
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await saved.send_rehire_offer(uow, clock, config, CLIENT, active, spec)
        assert err.value.code == "contract_not_ended"
    cid = await _ended(db, clock, config)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):  # the freelancer's side has no Hire again
            await saved.send_rehire_offer(uow, clock, config, FREELANCER, cid, spec)
    async with db.uow() as uow:
        offer = await saved.send_rehire_offer(uow, clock, config, CLIENT, cid, spec)
        await uow.commit()
        offer_id, job_id = offer.id, offer.job_id
    async with db.uow() as uow:
        job = await uow.jobs.get(job_id)
        old = await uow.contracts.get(cid)
        assert job is not None and old is not None
        assert (job.status, job.published_at, job.title) == (JobStatus.PAUSED, None, old.title)
        assert job.id != old.job_id
        assert await uow.invitations.count(job_id=job_id, freelancer_id=FREELANCER) == 1
        got = await uow.contracts.get(offer_id)
        assert got is not None and got.status is ContractStatus.OFFERED
        assert [m.amount for m in await uow.milestones.find(contract_id=offer_id)] == [7_000]
