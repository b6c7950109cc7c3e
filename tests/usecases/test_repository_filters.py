from datetime import timedelta

from domain.entities import User


async def test_django_style_filters(db, clock):
    async with db.uow() as uow:
        for uid in (1, 2, 3, 4):
            await uow.users.add(
                User(id=uid, name=f"u{uid}", created_at=clock.now() + timedelta(days=uid))
            )
        await uow.users.add(User(id=5, name="u5", created_at=None))
        since = clock.now() + timedelta(days=2)
        ids = lambda rows: [u.id for u in rows]  # noqa: E731
        assert ids(await uow.users.find(created_at__gte=since)) == [2, 3, 4]
        assert ids(await uow.users.find(created_at__gt=since)) == [3, 4]
        assert ids(await uow.users.find(created_at__lt=since)) == [1]
        assert ids(await uow.users.find(created_at__lte=since)) == [1, 2]
        assert ids(await uow.users.find(id__in=[1, 3, 9])) == [1, 3]
        assert ids(await uow.users.find(id__notin=[1, 3])) == [2, 4, 5]
        assert ids(await uow.users.find(id__ne=2, created_at__isnull=False)) == [1, 3, 4]
        assert ids(await uow.users.find(created_at=None)) == [5]
        assert ids(await uow.users.find(order_by="-id", limit=2)) == [5, 4]
        assert await uow.users.count(id__gt=2) == 3
