"""A flow is declared in one place: its @command (order, menu entry, who sees it)
and its Steps enum. The command lists, /help, setMyCommands and the main menu
are derived from the routing table; conversation steps are enum members whose
values are the strings kept in the database."""

from __future__ import annotations

import pytest

from domain.entities import ConversationState, User
from handlers.commands import admin_command_menu, admin_commands, command_menu, user_commands
from handlers.context import Context
from handlers.flows import load_flows
from handlers.flows.post_job import PostJobStep
from handlers.i18n import LANGUAGES, Translator, translator
from handlers.routing import ROUTER, Menu, Router, Steps, command
from tests.flows.conftest import ADMIN_ID

load_flows()

# What users saw before the lists were derived: same order, same words.
USER_LIST = (
    "start", "menu", "help", "settings", "jobs", "post", "myjobs", "pitches", "profile",
    "alerts", "contracts", "message", "balance", "mydisputes", "rate", "reputation", "report",
)  # fmt: skip
ADMIN_LIST = (
    "disputes", "dispute", "resolve", "ban", "unban", "user", "stats", "audit", "reports",
)  # fmt: skip
MAIN_MENU = (
    ("post", Menu.CLIENT), ("myjobs", Menu.CLIENT),
    ("jobs", Menu.FREELANCER), ("pitches", Menu.FREELANCER), ("profile", Menu.FREELANCER),
    ("alerts", Menu.FREELANCER),
    ("contracts", Menu.ANY), ("message", Menu.ANY), ("balance", Menu.ANY),
    ("mydisputes", Menu.ANY), ("reputation", Menu.ANY), ("settings", Menu.ANY), ("help", Menu.ANY),
    ("disputes", Menu.ADMIN), ("reports", Menu.ADMIN), ("stats", Menu.ADMIN),
    ("audit", Menu.ADMIN),
)  # fmt: skip

# The (flow, step) strings stored in conversation_states: conversations in
# progress survive an upgrade only while these stay as they are.
STORED_STEPS = {
    "admin": {"resolve_reason"},
    "alerts": {"cats", "skills", "skills_cat", "keywords", "budget", "mode"},
    "appeal": {"text"},
    "availability": {"date"},
    "balance": {"amount"},
    "bonus": {"amount", "share", "reason", "decline"},
    "browse": {"query", "min"},
    "dispute": {"reason", "evidence", "answer", "share"},
    "messaging": {"compose"},
    "moderation": {"reason"},
    "offer": {"title", "amount", "due", "review"},
    "pitch": {"cover", "price", "days", "ms_title", "ms_amount", "preview"},
    "post_job": {
        "title", "description", "category", "skills", "budget_type", "amount", "deadline",
        "preview",
    },
    "catalog": {"query", "price"},
    "profile": {"headline", "bio", "rate", "years", "tag", "link", "cert"},
    "report": {"reason"},
    "service_order": {"extras", "answer", "summary"},
    "services": {
        "title", "description", "category", "skills", "pkg_name", "pkg_included", "pkg_price",
        "pkg_days", "pkg_revisions", "packages", "extras", "extra_title", "extra_price",
        "extra_days", "samples", "questions", "preview",
    },
    "talent": {"query", "skills", "rate"},
    "timesheet": {"limit", "memo", "edit", "less", "reason"},
    "review": {"text", "reply"},
    "work": {"submit", "note"},
}  # fmt: skip


def flow_classes() -> dict[str, type[Steps]]:
    found: dict[str, type[Steps]] = {}
    for route in ROUTER.steps:
        cls = type(Steps.of(*route))
        found[cls.flow] = cls
    return found


# --- derived lists --------------------------------------------------------------


def _in_order(derived: list, known: tuple | list) -> list:
    """The known entries, in the order the derived list has them (a flow added
    later may stand anywhere among them)."""
    return [entry for entry in derived if entry in known]


def test_derived_lists_are_what_users_saw_before():
    """What users saw before the lists were derived: the same entries in the same
    order (new flows may add theirs in between)."""
    assert _in_order(user_commands(), USER_LIST) == list(USER_LIST)
    assert _in_order(admin_commands(), ADMIN_LIST) == list(ADMIN_LIST)
    menu = [(r.name, r.menu) for r in ROUTER.menu_entries()]
    assert _in_order(menu, MAIN_MENU) == list(MAIN_MENU)
    both = [c for c, _ in admin_command_menu("ru")]
    assert both == [*user_commands(), *admin_commands()]
    assert ("settings", "Язык и роли") in command_menu("ru")


@pytest.mark.parametrize("lang", [None, *LANGUAGES])
def test_every_command_is_in_the_command_menu_with_its_own_words(lang):
    """Every registered command, and nothing else, is in Telegram's command menu
    (admins' commands only in theirs), described in that language."""
    t = translator(lang)
    everyone = dict(command_menu(lang))
    admins = dict(admin_command_menu(lang))
    for name, route in ROUTER.commands.items():
        assert name in admins
        assert (name in everyone) != route.admin, name
        assert t.has(f"cmd.{name}") and admins[name] == t.plain(f"cmd.{name}"), (lang, name)
    assert set(admins) == set(ROUTER.commands)
    for route in ROUTER.menu_entries():
        assert t.has(route.label_key), (lang, route.name)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_command_is_in_help_in_every_language(h, lang):
    user = h.person("Una", lang=lang)
    admin = h.person("Ada", lang=lang, id=ADMIN_ID)
    await h.send(user, "/help")
    await h.send(admin, "/help")
    t = translator(lang)
    for name, route in ROUTER.commands.items():
        line = f"/{name} — {t.plain(f'cmd.{name}')}"
        assert line in h.last(admin).text, (lang, name)
        assert (line in h.last(user).text) != route.admin, (lang, name)


def _with_demo_words(monkeypatch: pytest.MonkeyPatch, words: dict[str, str]) -> None:
    raw = Translator.raw

    def patched(self: Translator, key: str, params: dict[str, object] | None = None) -> str | None:
        return words.get(key) or raw(self, key, params)

    monkeypatch.setattr(Translator, "raw", patched)


async def test_a_command_declared_only_by_its_decorator_is_everywhere(h, monkeypatch):
    """A new flow adds its handler, its catalog entries and nothing else: the
    command list, setMyCommands, /help and the main menu pick it up."""
    monkeypatch.setattr(ROUTER, "commands", dict(ROUTER.commands))
    _with_demo_words(monkeypatch, {"cmd.tips": "Tips and tricks", "menu.tips": "💡 Tips"})

    @command("tips", order=65, menu=Menu.CLIENT, menu_order=15)
    async def tips(ctx: Context) -> None:
        await ctx.reply("Tip: be kind.")

    listed = user_commands()
    assert listed[listed.index("post") :][:3] == ("post", "tips", "myjobs")
    assert ("tips", "Tips and tricks") in command_menu("en")
    assert "tips" not in admin_commands()

    carla = h.person("Carla")
    await h.send(carla, "/start")
    await h.press(carla, "💼 I hire (client)")
    await h.send(carla, "/help")
    assert "/tips — Tips and tricks" in h.last(carla).text
    assert h.last(carla).labels()[:3] == ["📝 Post a job", "💡 Tips", "📂 My jobs"]
    await h.press(carla, "💡 Tips")
    assert h.last(carla).text == "Tip: be kind."

    freelancer = h.person("Fred")
    await h.send(freelancer, "/start")
    await h.press(freelancer, "🧑‍💻 I work (freelancer)")
    await h.send(freelancer, "/menu")
    assert "💡 Tips" not in h.last(freelancer).labels()


def test_a_declared_admin_command_is_only_in_the_admins_lists(monkeypatch):
    monkeypatch.setattr(ROUTER, "commands", dict(ROUTER.commands))

    @command("purge", admin=True, order=5, menu=Menu.ADMIN, menu_order=135)
    async def purge(ctx: Context) -> None:
        pass

    assert admin_commands()[0] == "purge" and "purge" not in user_commands()
    assert "purge" in dict(admin_command_menu("en")) and "purge" not in dict(command_menu("en"))
    names = [r.name for r in ROUTER.menu_entries()]
    assert names[names.index("help") + 1] == "purge"  # menu_order 135: right after /help


def test_menu_declarations_are_checked():
    router = Router()
    with pytest.raises(ValueError, match="menu_order"):
        router.command("x", menu=Menu.ANY)
    with pytest.raises(ValueError, match=r"Menu\.ADMIN"):
        router.command("x", menu=Menu.ADMIN, menu_order=1)
    with pytest.raises(ValueError, match=r"Menu\.ADMIN"):
        router.command("x", admin=True, menu=Menu.CLIENT, menu_order=1)


# --- steps --------------------------------------------------------------------------


def test_stored_step_strings_are_unchanged():
    assert {flow: {s.value for s in cls} for flow, cls in flow_classes().items()} == STORED_STEPS


def test_every_routed_step_is_a_declared_member():
    for flow, name in ROUTER.steps:
        member = Steps.of(flow, name)
        assert member is not None and member.flow == flow and member == name


def test_steps_are_declared_once_per_flow():
    with pytest.raises(ValueError, match="declared twice"):

        class Again(Steps, flow="post_job"):
            TITLE = "title"

    with pytest.raises(TypeError, match="declare the flow"):

        class Nameless(Steps):
            X = "x"


def test_step_refuses_a_bare_string():
    router = Router()
    with pytest.raises(TypeError, match="Steps member"):
        router.step("title")  # type: ignore[arg-type]
    assert PostJobStep("title") is PostJobStep.TITLE
    with pytest.raises(ValueError):
        PostJobStep("nosuchstep")


async def test_set_state_and_in_step_take_members_only(db, clock, config):
    async with db.uow() as uow:
        user = await uow.users.add(User(id=4242, name="Sam"))
        ctx = Context(None, user, uow, clock, config)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ctx.set_state("title", {})  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ctx.in_step("post_job")  # type: ignore[arg-type]
        await ctx.set_state(PostJobStep.SKILLS, {"skills": []})
        assert ctx.in_step(PostJobStep) and ctx.in_step(PostJobStep.SKILLS)
        assert not ctx.in_step(PostJobStep.TITLE)
        assert ctx.step_of(PostJobStep) is PostJobStep.SKILLS
        row = await uow.conversations.get(4242)
        assert row is not None and (row.flow, row.step) == ("post_job", "skills")
        assert type(row.step) is str  # a plain string goes to the database


async def test_a_conversation_stored_before_the_upgrade_resumes(h, db, clock):
    """A (flow, step) row written as plain strings by the previous release is
    picked up by the step declared with the enum."""
    carla = h.person("Carla")
    await h.send(carla, "/start")
    await h.press(carla, "💼 I hire (client)")
    async with db.uow() as uow:
        await uow.conversations.add(
            ConversationState(
                user_id=carla.id,
                flow="post_job",
                step="title",
                data={"mode": "new", "skills": []},
                updated_at=clock.now(),
            )
        )
        await uow.commit()
    await h.send(carla, "Logo for a coffee shop")
    async with db.uow() as uow:
        row = await uow.conversations.get(carla.id)
        assert row is not None
        assert (row.flow, row.step) == ("post_job", "description")
        assert row.data["title"] == "Logo for a coffee shop"
