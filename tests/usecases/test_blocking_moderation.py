"""Blocking and moderation's use cases on SQLite and PostgreSQL: the block rows,
the search and digest filters they drive (client_id NOT IN …), the flags' JSON,
the case queue and a ban's appeal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.entities import AlertSubscription, Pitch
from domain.errors import NotAllowed
from domain.ports import JobQuery
from domain.usecases import accounts, alerts, blocking, jobs, moderation, queries
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER


async def publish(uow, clock, config, client_id: int, title: str) -> int:
    fields = jobs.JobFields(
        title=title, description="A job described at some length.", skills=("python",)
    )
    job = await jobs.post_job(uow, clock, config, client_id, fields)
    await jobs.publish_job(uow, clock, client_id, job.id)
    return job.id


async def test_a_block_hides_jobs_in_search_and_digests(users, clock, config) -> None:
    db = users
    async with db.uow() as uow:
        await uow.subscriptions.add(
            AlertSubscription(
                user_id=FREELANCER, skills=["python"], mode="daily", created_at=clock.now()
            )
        )
        clock.advance(minutes=1)
        mine = await publish(uow, clock, config, CLIENT, "Client's python job")
        other = await publish(uow, clock, config, OTHER_FREELANCER, "Other's python job")
        await uow.pitches.add(Pitch(job_id=mine, freelancer_id=FREELANCER, price=100))
        await uow.commit()
    async with db.uow() as uow:
        await blocking.block(uow, clock, config, FREELANCER, CLIENT)
        await blocking.block(uow, clock, config, FREELANCER, CLIENT)  # twice is harmless
        await uow.commit()
    async with db.uow() as uow:
        assert await blocking.hidden_clients(uow, CLIENT) == {FREELANCER}
        found, total = await queries.browse_jobs(uow, FREELANCER, JobQuery(limit=10))
        assert [j.id for j in found] == [other] and total == 1
        clock.advance(days=1)
        assert await alerts.daily_digest(uow, clock, config) == {FREELANCER: [other]}
        with pytest.raises(NotAllowed):
            await blocking.require_contact(uow, CLIENT, FREELANCER)
        await blocking.unblock(uow, FREELANCER, CLIENT)
        await uow.commit()
    async with db.uow() as uow:
        found, _ = await queries.browse_jobs(uow, FREELANCER, JobQuery(limit=10))
        assert {j.id for j in found} == {mine, other}


async def test_flags_open_a_case_and_a_ban_is_appealed_once(users, clock, config) -> None:
    db = users
    async with db.uow() as uow:
        for n in range(2):
            await moderation.screen(
                uow, clock, FREELANCER, "profile", None, f"mail me: me{n}@example.com"
            )
            clock.advance(hours=1)
        assert await moderation.open_cases(uow, config, ADMIN) == []
        await moderation.screen(uow, clock, FREELANCER, "pitch", 7, "call +7 916 123-45-67")
        [case] = await moderation.open_cases(uow, config, ADMIN)
        view = await moderation.case_view(uow, config, ADMIN, case.id)
        assert [f.found for f in view.flags] == [
            ["me0@example.com"],
            ["me1@example.com"],
            ["+7 916 123-45-67"],
        ]
        with pytest.raises(NotAllowed):
            await moderation.open_cases(uow, config, CLIENT)
        clock.advance(minutes=5)
        await moderation.decide(uow, clock, config, ADMIN, case.id, "banned", "Off-platform deals")
        await uow.commit()
    async with db.uow() as uow:
        assert (await uow.users.get(FREELANCER)).banned
        appeal = await moderation.file_appeal(uow, clock, FREELANCER, "Please reconsider it")
        with pytest.raises(NotAllowed):
            await moderation.file_appeal(uow, clock, FREELANCER, "And once more, please")
        view = await moderation.appeal_view(uow, config, ADMIN, appeal.id)
        assert view.appeal.ban_reason == "Off-platform deals"
        assert [c.status for c in view.record.cases] == ["banned"] and view.record.flags == 3
        await moderation.decide_appeal(uow, clock, config, ADMIN, appeal.id, accept=False)
        await uow.commit()
    async with db.uow() as uow:
        await accounts.unban_user(uow, clock, config, ADMIN, FREELANCER)
        clock.advance(days=1)
        await accounts.ban_user(uow, clock, config, ADMIN, FREELANCER, "Again")
        await moderation.file_appeal(uow, clock, FREELANCER, "A new ban, a new appeal")
        # Flags after the decided case count afresh, within 30 days.
        await accounts.unban_user(uow, clock, config, ADMIN, FREELANCER)
        await moderation.screen(uow, clock, FREELANCER, "profile", None, "skype: me.here")
        assert await moderation.open_cases(uow, config, ADMIN) == []
        await uow.commit()
    assert moderation.REPEAT_WINDOW == timedelta(days=30)
