"""Saved lists and hiring again (domain/usecases/saved.py has the rules).

Callback data (prefix "sv", handlers/prefixes.py SAVED; other flows link to the
first three):
- "sv:save_freelancer:<user id>"  a client saves a freelancer (profile cards)
- "sv:save_job:<job id>"          a freelancer saves a job (job cards)
- "sv:rehire:<contract id>"       🔁 Hire again: the offer wizard prefilled from an
                                  ended contract (flows/offers.py hire_again)
- "sv:remove:<item id>"           remove an entry from one's list (in /saved)

Commands: /saved — the saved freelancers (for clients) and jobs (for freelancers),
each with a button to open it and one to remove it.
"""

from __future__ import annotations

from domain.saved import SavedItem, SavedKind
from domain.usecases import saved as uc
from handlers.context import Context
from handlers.events import Button
from handlers.flows import offers
from handlers.helpers import name_of
from handlers.i18n import Translator
from handlers.prefixes import OPEN, PROFILE, SAVED
from handlers.render import Html, button, join, keyboard, shorten
from handlers.routing import Menu, command

SHOWN = 20  # entries of each kind listed at once, newest first


def save_freelancer_button(t: Translator, user_id: int) -> Button:
    return button(t.plain("sv.btn.save_freelancer"), SAVED.data("save_freelancer", user_id))


def save_job_button(t: Translator, job_id: int) -> Button:
    return button(t.plain("sv.btn.save_job"), SAVED.data("save_job", job_id))


def hire_again_button(t: Translator, contract_id: int) -> Button:
    return button(t.plain("sv.btn.hire_again"), SAVED.data("rehire", contract_id))


async def _entry(ctx: Context, item: SavedItem) -> tuple[str, Button] | None:
    """An entry's label and its Open button; None when it is gone."""
    if item.kind == SavedKind.FREELANCER:
        return await name_of(ctx, item.target_id), button(
            ctx.t.plain("sv.btn.open"), PROFILE.data("card", item.target_id)
        )
    job = await ctx.uow.jobs.get(item.target_id)
    if job is None:
        return None
    return shorten(job.title, 40), button(
        ctx.t.plain("sv.btn.open"), OPEN.data("show_job", item.target_id)
    )


async def show_saved(ctx: Context, edit: bool = False) -> None:
    t = ctx.t
    lines: list[Html] = [t("sv.title")]
    rows: list[list[Button]] = []
    kinds = []
    if ctx.user.is_client:
        kinds.append(SavedKind.FREELANCER)
    if ctx.user.is_freelancer:
        kinds.append(SavedKind.JOB)
    for kind in kinds:
        items = await uc.saved_of(ctx.uow, ctx.user.id, kind)
        lines += [Html(""), t(f"sv.heading.{kind.value}", count=len(items))]
        if not items:
            lines.append(t(f"sv.empty.{kind.value}"))
        for n, item in enumerate(items[:SHOWN], start=1):
            found = await _entry(ctx, item)
            if found is None or item.id is None:
                continue
            label, open_ = found
            lines.append(Html(f"{n}. ") + join([label]))
            remove = button(t.plain("sv.btn.remove", n=n), SAVED.data("remove", item.id))
            rows.append([{**open_, "text": f"{n}. {shorten(label, 24)}"}, remove])
    await (ctx.edit if edit else ctx.reply)(join(lines), keyboard(*rows) if rows else None)


@command("saved", order=165, menu=Menu.ANY, menu_order=115)
async def saved_command(ctx: Context) -> None:
    await show_saved(ctx)


async def _save(ctx: Context, kind: SavedKind) -> None:
    assert ctx.callback is not None
    _, fresh = await uc.save(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, kind, ctx.callback.require_id()
    )
    ctx.answer(ctx.t.plain("sv.saved" if fresh else "sv.already"))


@SAVED.on("save_freelancer")
async def save_freelancer_pressed(ctx: Context) -> None:
    await _save(ctx, SavedKind.FREELANCER)


@SAVED.on("save_job")
async def save_job_pressed(ctx: Context) -> None:
    await _save(ctx, SavedKind.JOB)


@SAVED.on("remove")
async def remove_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await uc.remove(ctx.uow, ctx.user.id, ctx.callback.require_id())
    await show_saved(ctx, edit=True)
    ctx.answer(ctx.t.plain("sv.removed"))


@SAVED.on("rehire")
async def rehire_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    contract = await ctx.uow.contracts.get(ctx.callback.require_id())
    if contract is not None and contract.job_id is None and contract.client_id == ctx.user.id:
        # A service order's contract (a button sent before 🔁 Order again): the service.
        from domain.usecases.service_orders import order_of
        from handlers.flows.service_orders import order_again

        if (order := await order_of(ctx.uow, contract.id)) is not None:  # type: ignore[arg-type]
            await order_again(ctx, order.id)  # type: ignore[arg-type]
            ctx.answer()
            return
    await offers.hire_again(ctx, ctx.callback.require_id())
    ctx.answer()
