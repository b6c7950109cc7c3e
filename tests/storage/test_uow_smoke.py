from domain import ledger
from domain.entities import Job, User


async def test_unit_of_work_round_trip_and_idempotent_ledger(any_db):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=5, name="Clara"))
        job = await uow.jobs.add(Job(client_id=5, title="Logo", currency="USD"))
        assert await uow.ledger.record(ledger.funding(1, 1050, "USD", "sandbox"))
        assert not await uow.ledger.record(ledger.funding(1, 1050, "USD", "sandbox"))
        await uow.commit()
    async with any_db.uow() as uow:
        assert await uow.ledger.balance("escrow:milestone:1") == 1050
        assert await uow.ledger.total() == 0
        stored = await uow.jobs.get_for_update(job.id)
        stored.skills.append("python")
        await uow.commit()
    async with any_db.uow() as uow:
        assert (await uow.jobs.get(job.id)).skills == ["python"]
        assert await uow.jobs.count(client_id=5) == 1


async def test_leaving_without_commit_rolls_back(db):
    async with db.uow() as uow:
        await uow.users.add(User(id=7))
    async with db.uow() as uow:
        assert await uow.users.get(7) is None


async def test_count_without_filters_counts_every_row(db):
    async with db.uow() as uow:
        assert await uow.users.count() == 0
        for user_id in (1, 2, 3):
            await uow.users.add(User(id=user_id))
        assert await uow.users.count() == 3
        assert await uow.users.count(id=[1, 2]) == 2
