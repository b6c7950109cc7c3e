import pytest

from domain.errors import NotAllowed, ValidationError
from domain.usecases import accounts
from tests.usecases.conftest import ADMIN, CLIENT, STRANGER


async def test_register_then_refresh_keeps_chosen_language(any_db, clock):
    async with any_db.uow() as uow:
        user, created = await accounts.register_user(
            uow, clock, 42, name=" Ana ", username="@ana", language_code="ru-RU"
        )
        assert created and user.language == "ru" and user.username == "ana"
        assert [e.kind for e in uow.events] == ["user_registered"]
        await uow.commit()
    async with any_db.uow() as uow:
        await accounts.set_language(uow, clock, 42, "es")
        await accounts.set_roles(uow, clock, 42, client=True, freelancer=False)
        await uow.commit()
    clock.advance(hours=1)
    async with any_db.uow() as uow:
        user, created = await accounts.register_user(
            uow, clock, 42, name="Ana B", username=None, language_code="en"
        )
        assert not created and uow.events == []
        await uow.commit()
    async with any_db.uow() as uow:
        user = await uow.users.get(42)
        assert (user.name, user.username, user.language) == ("Ana B", None, "es")
        assert user.is_client and not user.is_freelancer
        assert user.last_active_at == clock.now()


def test_pick_language_falls_back_to_english():
    assert accounts.pick_language("pt-BR") == "en"
    assert accounts.pick_language(None) == "en"
    assert accounts.pick_language("es_MX") == "es"


async def test_roles_and_language_refusals(sqlite_users, clock):
    async with sqlite_users.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await accounts.set_roles(uow, clock, CLIENT, client=False, freelancer=False)
        assert err.value.code == "roles_none"
        with pytest.raises(ValidationError) as err:
            await accounts.set_language(uow, clock, CLIENT, "xx")
        assert err.value.code == "language_unsupported"
        user = await accounts.add_role(uow, clock, CLIENT, "freelancer")
        assert user.is_client and user.is_freelancer
        with pytest.raises(ValidationError):
            await accounts.add_role(uow, clock, CLIENT, "boss")


async def test_ban_and_unban_are_admin_only_and_audited(sqlite_users, clock, config):
    db = sqlite_users
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await accounts.ban_user(uow, clock, config, CLIENT, STRANGER, "spam")
        assert err.value.code == "admin_only"
        with pytest.raises(NotAllowed) as err:
            await accounts.ban_user(uow, clock, config, ADMIN, ADMIN, "oops")
        assert err.value.code == "ban_admin"
        await accounts.ban_user(uow, clock, config, ADMIN, STRANGER, "spam")
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await accounts.set_roles(uow, clock, STRANGER, client=True, freelancer=False)
        assert err.value.code == "user_banned"
        with pytest.raises(ValidationError):
            await accounts.ban_user(uow, clock, config, ADMIN, STRANGER, "again")
        await accounts.unban_user(uow, clock, config, ADMIN, STRANGER)
        await uow.commit()
    async with db.uow() as uow:
        user = await uow.users.get(STRANGER)
        assert not user.banned and user.ban_reason is None
        entries = await uow.audit.find()
        assert [(a.action, a.target, a.admin_id) for a in entries] == [
            ("ban", f"user:{STRANGER}", ADMIN),
            ("unban", f"user:{STRANGER}", ADMIN),
        ]
        assert entries[0].details == {"reason": "spam"}


async def test_unreachable_flag_cleared_when_user_writes_again(sqlite_users, clock):
    async with sqlite_users.uow() as uow:
        await accounts.set_unreachable(uow, CLIENT)
        await uow.commit()
    async with sqlite_users.uow() as uow:
        assert (await uow.users.get(CLIENT)).unreachable
        await accounts.register_user(uow, clock, CLIENT, name="C")
        await uow.commit()
    async with sqlite_users.uow() as uow:
        assert not (await uow.users.get(CLIENT)).unreachable
