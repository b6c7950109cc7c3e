"""/menu, /help, /settings (language and roles), and the fallback.

Main-menu buttons run commands ("cmd:<name>"), so a flow only registers its
command and its menu entry appears as soon as the command exists.
"""

from __future__ import annotations

from domain.usecases import accounts
from handlers.callbacks import StaleButton, encode
from handlers.commands import ADMIN_COMMANDS, USER_COMMANDS
from handlers.context import Context
from handlers.events import Keyboard
from handlers.i18n import LANGUAGES, Translator
from handlers.render import Html, button, join, keyboard, rows
from handlers.routing import ROUTER, command, fallback
from handlers.routing import button as on_button

# (command, label key, who sees it: "client" / "freelancer" / "any" / "admin")
MENU: tuple[tuple[str, str, str], ...] = (
    ("post", "menu.post", "client"),
    ("myjobs", "menu.myjobs", "client"),
    ("jobs", "menu.jobs", "freelancer"),
    ("pitches", "menu.pitches", "freelancer"),
    ("profile", "menu.profile", "freelancer"),
    ("alerts", "menu.alerts", "freelancer"),
    ("contracts", "menu.contracts", "any"),
    ("message", "menu.message", "any"),
    ("balance", "menu.balance", "any"),
    ("mydisputes", "menu.mydisputes", "any"),
    ("reputation", "menu.reputation", "any"),
    ("settings", "menu.settings", "any"),
    ("help", "menu.help", "any"),
    ("disputes", "menu.disputes", "admin"),
    ("reports", "menu.reports", "admin"),
    ("stats", "menu.stats", "admin"),
    ("audit", "menu.audit", "admin"),
)


def cmd_data(name: str) -> str:
    """Callback data of a button that runs /name."""
    return encode("cmd", name)


def _visible(ctx: Context, who: str) -> bool:
    user = ctx.user
    return {
        "client": user.is_client,
        "freelancer": user.is_freelancer,
        "any": True,
        "admin": ctx.is_admin,
    }[who]


def menu_keyboard(ctx: Context) -> Keyboard | None:
    """The main menu: the entries the user's roles allow, whose command exists."""
    t = ctx.t
    entries = [
        button(t.plain(label), cmd_data(name))
        for name, label, who in MENU
        if _visible(ctx, who) and ROUTER.find_command(name, ctx.is_admin) is not None
    ]
    if not (ctx.user.is_client or ctx.user.is_freelancer):
        entries.insert(0, button(t.plain("menu.choose_role"), cmd_data("start")))
    return rows(entries, 2) or None


def menu_text(ctx: Context) -> Html:
    return ctx.t("menu.title", name=ctx.user.name or ctx.t.plain("menu.friend"))


async def show_menu(ctx: Context, edit: bool = False) -> None:
    text, kb = menu_text(ctx), menu_keyboard(ctx)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


@command("menu")
async def menu(ctx: Context) -> None:
    await show_menu(ctx, edit=ctx.event.kind == "button")


@command("help")
async def help_(ctx: Context) -> None:
    t = ctx.t
    names = [n for n in USER_COMMANDS if ROUTER.find_command(n, False) is not None]
    lines = [t("help.title"), Html("")]
    lines += [Html(f"/{n} — ") + t.plain(f"cmd.{n}") for n in names]
    if ctx.is_admin:
        admin = [n for n in ADMIN_COMMANDS if ROUTER.find_command(n, True) is not None]
        if admin:
            lines += [Html(""), t("help.admin")]
            lines += [Html(f"/{n} — ") + t.plain(f"cmd.{n}") for n in admin]
    lines += [Html(""), t("help.footer")]
    await ctx.reply(join(lines), menu_keyboard(ctx))


@on_button("cmd")
async def run_command(ctx: Context) -> None:
    """A menu button: run the command as if it had been typed (with no arguments)."""
    assert ctx.callback is not None
    handler = ROUTER.find_command(ctx.callback.action, ctx.is_admin)
    if handler is None:
        raise StaleButton()
    if ctx.state is not None:
        await ctx.clear_state()
    await handler(ctx)


@fallback
async def not_understood(ctx: Context) -> None:
    t = ctx.t
    if ctx.event.kind == "command":
        text = t("fallback.command", command=ctx.event.command or "")
    elif ctx.event.kind == "file":
        text = t("fallback.file")
    else:
        text = t("fallback.text")
    await ctx.reply(text, menu_keyboard(ctx))


# --- settings ------------------------------------------------------------------


def _roles_text(t: Translator, is_client: bool, is_freelancer: bool) -> str:
    roles = [t.plain("role.client")] * is_client + [t.plain("role.freelancer")] * is_freelancer
    return ", ".join(roles) or t.plain("role.none")


def settings_view(ctx: Context) -> tuple[Html, Keyboard | None]:
    t, user = ctx.t, ctx.user
    text = join(
        [
            t("settings.title"),
            t("settings.language", language=t.plain(f"lang.{user.language}")),
            t("settings.roles", roles=_roles_text(t, user.is_client, user.is_freelancer)),
            Html(""),
            t("settings.hint"),
        ]
    )
    mark = "✓ "
    languages = [
        button(
            (mark if lang == user.language else "") + t.plain(f"lang.{lang}"),
            encode("set", "lang", arg=lang),
        )
        for lang in LANGUAGES
    ]
    roles = [
        button(
            (mark if user.is_client else "") + t.plain("role.client"),
            encode("set", "role", arg="client"),
        ),
        button(
            (mark if user.is_freelancer else "") + t.plain("role.freelancer"),
            encode("set", "role", arg="freelancer"),
        ),
    ]
    return text, keyboard(languages, roles, button(t.plain("btn.menu"), cmd_data("menu")))


@command("settings")
async def settings(ctx: Context) -> None:
    text, kb = settings_view(ctx)
    await (ctx.edit(text, kb) if ctx.event.kind == "button" else ctx.reply(text, kb))


@on_button("set")
async def change_setting(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    user = ctx.user
    if cb.action == "lang" and cb.arg in LANGUAGES:
        ctx.user = await accounts.set_language(
            ctx.uow, ctx.clock, user.id, cb.arg, supported=LANGUAGES
        )
        ctx.answer(ctx.t.plain("settings.language_changed"))
    elif cb.action == "role" and cb.arg in accounts.ROLES:
        client = (not user.is_client) if cb.arg == "client" else user.is_client
        freelancer = (not user.is_freelancer) if cb.arg == "freelancer" else user.is_freelancer
        ctx.user = await accounts.set_roles(ctx.uow, ctx.clock, user.id, client, freelancer)
        ctx.answer(ctx.t.plain("settings.roles_changed"))
    else:
        raise StaleButton()
    text, kb = settings_view(ctx)
    await ctx.edit(text, kb)
