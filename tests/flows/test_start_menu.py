"""/start, roles, deep links, /menu, /help, /settings and the fallback, through the engine."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

from domain.entities import Job, User
from domain.states import JobStatus
from handlers.commands import admin_command_menu, admin_commands, command_menu, user_commands
from handlers.flows import load_flows
from handlers.i18n import translator
from handlers.routing import ROUTER
from tests.flows.conftest import ADMIN_ID


async def make_job(db, clock, client_id=500, status=JobStatus.OPEN, title="Logo <design> & more"):
    async with db.uow() as uow:
        if await uow.users.get(client_id) is None:
            await uow.users.add(User(id=client_id, name="Client", is_client=True))
        job = await uow.jobs.add(
            Job(
                client_id=client_id,
                title=title,
                description="Need a logo 🎨 for <my> shop",
                budget=50_000,
                status=status,
                created_at=clock.now(),
            )
        )
        await uow.commit()
        return job.id


async def user_row(db, user_id) -> SimpleNamespace:
    """The user's row as it is in the database now (a detached copy)."""
    async with db.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        return SimpleNamespace(**{f.name: getattr(user, f.name) for f in fields(User)})


async def test_start_welcomes_and_asks_for_a_role(h, db):
    alice = h.person("Alice <b>&</b>")
    await h.send(alice, "/start")
    msg = h.last(alice)
    assert "Welcome to Gigbot, Alice <b>&</b>!" in msg.text  # escaped, shown literally
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in msg.html
    assert msg.labels() == ["💼 I hire (client)", "🧑‍💻 I work (freelancer)", "🔁 Both"]

    await h.press(alice, "🔁 Both")
    assert len(h.chat(alice)) == 1 and msg.edits == 1  # the welcome became the menu
    assert "client and freelancer" in msg.text and "Main menu" in msg.text
    assert h.last_answer(alice).text == "Saved."
    user = await user_row(db, alice.id)
    assert user.is_client and user.is_freelancer and user.language == "en"


async def test_start_in_russian_from_telegram_language(h, db):
    boris = h.person("Борис", lang="ru-RU")
    await h.send(boris, "/start")
    assert "Добро пожаловать" in h.last(boris).text
    await h.press(boris, "💼 Я нанимаю (заказчик)")
    assert "заказчик" in h.last(boris).text
    user = await user_row(db, boris.id)
    assert user.language == "ru" and user.is_client and not user.is_freelancer


async def test_unsupported_language_falls_back_to_english(h):
    pablo = h.person("Pablo", lang="es")
    await h.send(pablo, "/start")
    assert "Welcome" in h.last(pablo).text


async def test_returning_user_gets_the_menu(h):
    alice = h.person("Alice")
    await h.send(alice, "/start")
    await h.press(alice, "🧑‍💻 I work (freelancer)")
    await h.send(alice, "/start")
    assert "Welcome back" in h.last(alice).text and "Main menu" in h.last(alice).text


async def test_deep_link_opens_an_open_job_with_pitch_and_report(h, db, clock):
    job_id = await make_job(db, clock)
    fred = h.person("Fred")
    await h.send(fred, f"/start job_{job_id}")
    card = h.last(fred)
    assert "Logo <design> & more" in card.text and "$500.00" in card.text
    assert card.labels() == ["✋ Pitch", "🚩 Report"]
    assert card.button("✋ Pitch")["data"] == f"pitch:start:{job_id}"


async def test_deep_link_own_job_has_no_pitch_button(h, db, clock):
    owner = h.person("Owner")
    job_id = await make_job(db, clock, client_id=owner.id)
    await h.send(owner, f"/start job_{job_id}")
    assert h.last(owner).buttons is None


async def test_deep_link_to_a_closed_or_missing_job(h, db, clock):
    closed = await make_job(db, clock, status=JobStatus.CLOSED)
    fred = h.person("Fred")
    for link in (f"job_{closed}", "job_999999"):
        await h.send(fred, f"/start {link}")
        assert "no longer open" in h.last(fred).text
    await h.send(fred, "/start job_<b>")
    assert "doesn't lead anywhere" in h.last(fred).text


async def test_admin_sees_a_closed_job(h, db, clock):
    closed = await make_job(db, clock, status=JobStatus.CLOSED)
    admin = h.person("Admin", id=ADMIN_ID)
    await h.press_data(admin, f"open:job:{closed}")
    assert "closed" in h.last(admin).text


async def test_settings_switches_language_and_rerenders(h, db):
    alice = h.person("Alice")
    await h.send(alice, "/start")
    await h.press(alice, "🔁 Both")
    await h.send(alice, "/settings")
    settings = h.last(alice)
    assert "Language: English" in settings.text
    await h.press(alice, "Русский")
    assert settings.edits == 1 and "Язык: Русский" in settings.text
    assert "✓ Русский" in settings.labels()
    assert h.last_answer(alice).text == "Язык изменён."
    # The choice sticks, although Telegram still says "en".
    await h.send(alice, "/menu")
    assert "Главное меню" in h.last(alice).text
    assert (await user_row(db, alice.id)).language == "ru"


async def test_settings_toggles_roles_but_keeps_one(h, db):
    alice = h.person("Alice")
    await h.send(alice, "/start")
    await h.press(alice, "🔁 Both")
    await h.send(alice, "/settings")
    await h.press(alice, "✓ Client")
    user = await user_row(db, alice.id)
    assert not user.is_client and user.is_freelancer
    assert "Roles: Freelancer" in h.last(alice).text
    before = len(h.chat(alice))
    await h.press(alice, "✓ Freelancer")  # the last role cannot go
    answer = h.last_answer(alice)
    assert answer.show_alert and "at least one role" in answer.text
    assert len(h.chat(alice)) == before
    assert (await user_row(db, alice.id)).is_freelancer


async def test_menu_depends_on_roles(h):
    newbie = h.person("New")
    await h.send(newbie, "/menu")
    assert h.last(newbie).labels()[0] == "👤 Choose your role"
    await h.press(newbie, "👤 Choose your role")
    assert h.last(newbie).labels() == ["💼 I hire (client)", "🧑‍💻 I work (freelancer)", "🔁 Both"]


async def test_help_lists_commands_and_menu_buttons_run_commands(h):
    alice = h.person("Alice")
    await h.send(alice, "/help")
    text = h.last(alice).text
    assert "/start — Start and choose your role" in text and "/settings" in text
    await h.press(alice, "⚙️ Settings")
    assert "Settings" in h.last(alice).text


async def test_menu_button_for_a_missing_command_is_stale(h):
    alice = h.person("Alice")
    await h.press_data(alice, "cmd:nosuchthing")
    assert h.last_answer(alice).text == "This button is no longer available."
    assert h.chat(alice) == []


async def test_fallbacks(h):
    alice = h.person("Alice")
    await h.send(alice, "hello <there>")
    assert "I didn't get that" in h.last(alice).text
    await h.send(alice, "/frobnicate now")
    assert "I don't know the command /frobnicate" in h.last(alice).text
    await h.upload(alice, "file-1")
    assert "wasn't expecting a file" in h.last(alice).text


async def test_huge_and_hostile_names_and_links(h, db):
    mallory = h.person("<a href='x'>" + "😀" * 5000)
    await h.send(mallory, "/start " + "job_" + "9" * 10_000)
    assert "doesn't lead anywhere" in h.last(mallory).text
    await h.send(mallory, "/start")
    welcome = h.last(mallory)
    assert "<a href='x'>😀" in welcome.text and "&lt;a href=&#x27;x&#x27;&gt;" in welcome.html
    assert len((await user_row(db, mallory.id)).name) == 256


def test_every_command_is_in_the_telegram_menu_with_a_description():
    load_flows()
    admin = ROUTER.admin_commands()
    assert set(user_commands()) == set(ROUTER.commands) - admin
    assert set(admin_commands()) == admin
    for lang in ("en", "ru"):
        t = translator(lang)
        for name in user_commands() + admin_commands():
            assert t.plain(f"cmd.{name}") != f"cmd.{name}", (lang, name)
    assert ("message", "Написать другой стороне контракта") in command_menu("ru")
    assert {"mydisputes", "rate", "reputation"} <= {c for c, _ in command_menu("en")}
    assert "reports" in {c for c, _ in admin_command_menu("en")}
    assert "reports" not in {c for c, _ in command_menu("en")}


async def test_main_menu_entries_by_role(h):
    carla = h.person("Carla")
    await h.send(carla, "/start")
    await h.press(carla, "💼 I hire (client)")
    await h.send(carla, "/menu")
    client = h.last(carla).labels()
    assert {"✉️ Messages", "⚖️ My disputes", "🏅 Reputation", "📝 Post a job"} <= set(client)
    assert "🔎 Find jobs" not in client and "🚩 Reports" not in client
    await h.press(carla, "⚖️ My disputes")
    assert "You have no disputes" in h.last(carla).text
    await h.send(carla, "/menu")
    await h.press(carla, "✉️ Messages")
    assert "contract" in h.last(carla).text.lower()

    admin = h.person("Ada", id=ADMIN_ID)
    await h.send(admin, "/menu")
    assert "🚩 Reports" in h.last(admin).labels()
    await h.press(admin, "🚩 Reports")
    assert "report" in h.last(admin).text.lower()
