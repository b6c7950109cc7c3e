"""Blocking someone: no contact between the two afterwards, in either direction.

The rule is the domain's (domain/usecases/blocking.py); this flow asks and answers.
- "🚫 Block" buttons ("blk:block:<user>") on profile cards, received messages, pitches
  and offers ask for a confirmation ("blk:confirm:<user>" blocks, "blk:keep" keeps);
- /block lists recent contacts as buttons; "/block <id>" takes an id (anyone one
  dealt with; any user for an admin);
- /unblock lists the people one blocked as buttons ("blk:unblock:<user>").
The blocked person is not told.
"""

from __future__ import annotations

import re

from domain.entities import User
from domain.usecases import blocking as uc
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.prefixes import BLOCK
from handlers.render import button, keyboard, shorten
from handlers.routing import command

_ID = re.compile(r"#?([1-9][0-9]{0,17})")


def block_button(t: Translator, user_id: int) -> Button:
    """The "🚫 Block" button other flows put under what someone sent."""
    return button(t.plain("block.btn.block"), BLOCK.data("block", user_id))


def _label(user: User) -> str:
    name = shorten(user.name or f"#{user.id}", 40)
    return f"{name} (@{user.username})" if user.username else name


async def _ask(ctx: Context, user_id: int) -> None:
    target = await uc.blockable(ctx.uow, ctx.config, ctx.user.id, user_id)
    if await uc.blocked_by(ctx.uow, ctx.user.id, user_id):
        await ctx.reply(ctx.t("block.already", name=_label(target)), _unblock_kb(ctx.t, target))
        return
    await ctx.reply(
        ctx.t("block.confirm", name=_label(target)),
        keyboard(
            [
                button(ctx.t.plain("block.btn.confirm"), BLOCK.data("confirm", user_id)),
                button(ctx.t.plain("block.btn.keep"), BLOCK.data("keep")),
            ]
        ),
    )


def _unblock_kb(t: Translator, user: User) -> Keyboard | None:
    return keyboard(button(t.plain("block.btn.unblock_one"), BLOCK.data("unblock", user.id)))


@command("block", order=175)
async def block_command(ctx: Context) -> None:
    m = _ID.fullmatch(ctx.args.strip())
    if m:
        await _ask(ctx, int(m.group(1)))
        return
    if ctx.args.strip():
        await ctx.reply(ctx.t("block.usage"))
        return
    people = await uc.recent_contacts(ctx.uow, ctx.user.id)
    if not people:
        await ctx.reply(ctx.t("block.no_contacts"))
        return
    await ctx.reply(
        ctx.t("block.choose"),
        keyboard(*[[button(f"🚫 {_label(u)}", BLOCK.data("block", u.id))] for u in people]),
    )


@command("unblock", order=176)
async def unblock_command(ctx: Context) -> None:
    await _show_blocked(ctx)


async def _show_blocked(ctx: Context) -> None:
    people = await uc.blocked_list(ctx.uow, ctx.user.id)
    if not people:
        await ctx.edit(ctx.t("block.none_blocked"))
        return
    await ctx.edit(
        ctx.t("block.blocked_list", count=len(people)),
        keyboard(*[[button(f"↩️ {_label(u)}", BLOCK.data("unblock", u.id))] for u in people]),
    )


@BLOCK.on("block")
async def ask_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _ask(ctx, ctx.callback.require_id())
    ctx.answer()


@BLOCK.on("confirm")
async def confirm_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    target = await uc.block(ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.callback.require_id())
    await ctx.edit(ctx.t("block.done", name=_label(target)), _unblock_kb(ctx.t, target))
    ctx.answer()


@BLOCK.on("keep")
async def keep_pressed(ctx: Context) -> None:
    await ctx.edit(ctx.t("block.kept"))
    ctx.answer()


@BLOCK.on("unblock")
async def unblock_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    target = await uc.unblock(ctx.uow, ctx.user.id, ctx.callback.require_id())
    await ctx.edit(ctx.t("block.unblocked", name=_label(target)))
    ctx.answer(ctx.t.plain("block.unblocked_short"))
