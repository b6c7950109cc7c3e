"""Repository find() and count() (storage/repository.py): every filter operator, on
both databases — and the statements kept by shape give each call its own values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.entities import Job, User
from domain.states import JobStatus

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _seed(db) -> list[int]:
    async with db.uow() as uow:
        for user_id in (1, 2, 3):
            await uow.users.add(User(id=user_id, name=f"U{user_id}"))
        ids = []
        for k in range(6):
            job = await uow.jobs.add(
                Job(
                    client_id=1 + k % 3,
                    title=f"job {k}",
                    currency="USD",
                    budget=100 * (k + 1),
                    status=JobStatus.OPEN if k % 2 == 0 else JobStatus.CLOSED,
                    published_at=T0 + timedelta(days=k) if k < 4 else None,
                )
            )
            ids.append(job.id)
        await uow.commit()
    return ids


async def test_every_operator_with_changing_values(any_db):
    ids = await _seed(any_db)
    async with any_db.uow() as uow:
        jobs = uow.jobs

        async def titles(**filters) -> list[str]:
            return [j.title for j in await jobs.find(**filters)]

        for client in (1, 2, 3):  # one statement, three values
            assert await titles(client_id=client) == [f"job {client - 1}", f"job {client + 2}"]
        assert await titles(client_id=[1, 3]) == ["job 0", "job 2", "job 3", "job 5"]
        assert await titles(client_id={2}) == ["job 1", "job 4"]
        assert await titles(client_id__in=(2, 3)) == ["job 1", "job 2", "job 4", "job 5"]
        assert await titles(client_id__in=[]) == []
        assert await titles(client_id__notin=[1, 2]) == ["job 2", "job 5"]
        assert await titles(client_id__ne=1) == ["job 1", "job 2", "job 4", "job 5"]
        assert await titles(published_at=None) == ["job 4", "job 5"]
        assert await titles(published_at__ne=None) == ["job 0", "job 1", "job 2", "job 3"]
        assert await titles(published_at__isnull=True) == ["job 4", "job 5"]
        assert await titles(published_at__isnull=False) == ["job 0", "job 1", "job 2", "job 3"]
        assert await titles(budget__lt=300) == ["job 0", "job 1"]
        assert await titles(budget__lte=300) == ["job 0", "job 1", "job 2"]
        assert await titles(budget__gt=500) == ["job 5"]
        assert await titles(budget__gte=500) == ["job 4", "job 5"]
        assert await titles(published_at__gte=T0 + timedelta(days=2)) == ["job 2", "job 3"]
        assert await titles(status=JobStatus.CLOSED) == ["job 1", "job 3", "job 5"]
        assert await titles(status=JobStatus.OPEN, client_id=1) == ["job 0"]
        newest = await jobs.find(order_by="-budget", limit=2, status=JobStatus.OPEN)
        assert [j.title for j in newest] == ["job 4", "job 2"]
        assert [j.id for j in await jobs.find(order_by="", id=ids[5])] == [ids[5]]
        assert await jobs.count() == 6
        assert await jobs.count(client_id=2) == 2
        assert await jobs.count(client_id=3) == 2
        assert await jobs.count(client_id__in=[1, 2], published_at__isnull=False) == 3
        assert await uow.users.count(id=[1, 2]) == 2
        # Lists of every length around the one-parameter-a-value bound (FEW): each
        # length its own statement, the values of each call its own.
        every = [ids[k] for k in (5, 0, 3, 1, 4, 2)]
        for size in range(0, 7):
            wanted = every[:size]
            found = await jobs.find(id__in=wanted)
            assert sorted(j.id for j in found) == sorted(wanted)
            left = await jobs.find(id__notin=set(wanted))
            assert sorted(j.id for j in left) == sorted(set(ids) - set(wanted))
            assert await jobs.count(id=tuple(reversed(wanted))) == size
            shifted = every[1 : size + 1]  # the same length, other values
            assert sorted(j.id for j in await jobs.find(id=shifted)) == sorted(shifted)
