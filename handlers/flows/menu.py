"""/menu, /help, /settings (language and roles), and the fallback.

Main-menu buttons run commands ("cmd:<name>": the action is the command's name,
looked up in the routing table). The menu, like /help, is derived from the
routing table: a flow declares its command with `menu=` and `menu_order=`
(handlers.routing) and the button appears, labelled "menu.<name>".

Settings buttons: "set:language::<code>" picks the language, "set:toggle_role::<role>"
adds or drops a role.
"""

from __future__ import annotations

from domain.usecases import accounts
from handlers.callbacks import StaleButton, encode
from handlers.commands import chat_menus
from handlers.context import Context
from handlers.events import Keyboard
from handlers.i18n import LANGUAGES, Translator
from handlers.render import Html, button, join, keyboard, rows
from handlers.routing import ROUTER, Buttons, Menu, command, fallback
from handlers.routing import button as on_button

COMMAND = "cmd"  # "cmd:<command name>": its action is the command's own name
SETTINGS = Buttons("set")


def cmd_data(name: str) -> str:
    """Callback data of a button that runs /name; refuses a command nobody declares."""
    if name not in ROUTER.commands:
        raise ValueError(f"no command /{name} for a button")
    return encode(COMMAND, name)


def _visible(ctx: Context, who: Menu) -> bool:
    user = ctx.user
    return {
        Menu.CLIENT: user.is_client,
        Menu.FREELANCER: user.is_freelancer,
        Menu.ANY: True,
        Menu.ADMIN: ctx.is_admin,
    }[who]


# Built menus by (language, client, freelancer, admin, commands registered): the
# same for everyone alike, and built for every /menu and /help otherwise.
_MENUS: dict[tuple[object, ...], Keyboard | None] = {}


def menu_keyboard(ctx: Context) -> Keyboard | None:
    """The main menu: the commands declared with a `menu=` entry that the user's
    roles allow, in their `menu_order` (handlers.routing). A copy of the one built
    for people alike (a caller may change its copy)."""
    user = ctx.user
    key = (user.language, user.is_client, user.is_freelancer, ctx.is_admin, len(ROUTER.commands))
    if key not in _MENUS:
        _MENUS[key] = _menu_keyboard(ctx)
    built = _MENUS[key]
    return [[dict(b) for b in row] for row in built] if built is not None else None


def _menu_keyboard(ctx: Context) -> Keyboard | None:
    t = ctx.t
    entries = [
        button(t.plain(r.label_key), cmd_data(r.name))
        for r in ROUTER.menu_entries()
        if r.menu is not None and _visible(ctx, r.menu)
    ]
    if not (ctx.user.is_client or ctx.user.is_freelancer):
        entries.insert(0, button(t.plain("menu.choose_role"), cmd_data("start")))
    return rows(entries, 2) or None


def menu_text(ctx: Context) -> Html:
    return ctx.t("menu.title", name=ctx.user.name or ctx.t.plain("menu.friend"))


async def show_menu(ctx: Context, edit: bool = False) -> None:
    text, kb = menu_text(ctx), menu_keyboard(ctx)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


@command("menu", order=20, read_only=True)
async def menu(ctx: Context) -> None:
    await show_menu(ctx, edit=ctx.event.kind == "button")


# The help text by (language, admin, commands registered): the same for everyone alike.
_HELPS: dict[tuple[object, ...], Html] = {}


@command("help", order=30, menu=Menu.ANY, menu_order=130, read_only=True)
async def help_(ctx: Context) -> None:
    key = (ctx.user.language, ctx.is_admin, len(ROUTER.commands))
    if key not in _HELPS:
        _HELPS[key] = _help_text(ctx)
    await ctx.reply(_HELPS[key], menu_keyboard(ctx))


def _help_text(ctx: Context) -> Html:
    t = ctx.t
    lines = [t("help.title"), Html("")]
    lines += [Html(f"/{r.name} — ") + t.plain(r.description_key) for r in ROUTER.listed(False)]
    if ctx.is_admin:
        admin = ROUTER.listed(True)
        if admin:
            lines += [Html(""), t("help.admin")]
            lines += [Html(f"/{r.name} — ") + t.plain(r.description_key) for r in admin]
    lines += [Html(""), t("help.footer")]
    return join(lines)


@on_button(COMMAND)
async def run_command(ctx: Context) -> None:
    """A menu button: run the command as if it had been typed (with no arguments)."""
    assert ctx.callback is not None
    route = ROUTER.find_route(ctx.callback.action, ctx.is_admin)
    if route is None:
        raise StaleButton()
    if ctx.state is not None and not route.sees_conversation:
        await ctx.leave()  # as a typed command: a long wizard's draft is kept
    await route.handler(ctx)


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
            SETTINGS.data("language", arg=lang),
        )
        for lang in LANGUAGES
    ]
    roles = [
        button(
            (mark if user.is_client else "") + t.plain("role.client"),
            SETTINGS.data("toggle_role", arg="client"),
        ),
        button(
            (mark if user.is_freelancer else "") + t.plain("role.freelancer"),
            SETTINGS.data("toggle_role", arg="freelancer"),
        ),
    ]
    return text, keyboard(languages, roles, button(t.plain("btn.menu"), cmd_data("menu")))


@command("settings", order=40, menu=Menu.ANY, menu_order=120)
async def settings(ctx: Context) -> None:
    text, kb = settings_view(ctx)
    await (ctx.edit(text, kb) if ctx.event.kind == "button" else ctx.reply(text, kb))


@SETTINGS.on("language", old=("lang",))
async def language_pressed(ctx: Context) -> None:
    lang = ctx.callback.arg if ctx.callback else None
    if lang not in LANGUAGES:
        raise StaleButton()
    ctx.user = await accounts.set_language(
        ctx.uow, ctx.clock, ctx.user.id, lang, supported=LANGUAGES
    )
    await ctx.set_chat_menu(ctx.user.id, chat_menus(lang, ctx.is_admin))
    ctx.answer(ctx.t.plain("settings.language_changed"))
    await ctx.edit(*settings_view(ctx))


@SETTINGS.on("toggle_role", old=("role",))
async def toggle_role_pressed(ctx: Context) -> None:
    role = ctx.callback.arg if ctx.callback else None
    if role not in accounts.ROLES:
        raise StaleButton()
    user = ctx.user
    client = (not user.is_client) if role == "client" else user.is_client
    freelancer = (not user.is_freelancer) if role == "freelancer" else user.is_freelancer
    ctx.user = await accounts.set_roles(ctx.uow, ctx.clock, user.id, client, freelancer)
    ctx.answer(ctx.t.plain("settings.roles_changed"))
    await ctx.edit(*settings_view(ctx))
