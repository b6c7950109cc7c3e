"""Small helpers the flows share: paging a list, a button's numeric argument,
the payment gateway of a step that moves money, leaving a conversation, and
people's names and fee percentages as shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from domain.errors import NotAllowed
from domain.ports import PaymentGateway
from handlers.callbacks import StaleButton, encode
from handlers.context import Context, Scope
from handlers.events import Button
from handlers.i18n import Translator
from handlers.render import pagination_row
from handlers.routing import Steps

T = TypeVar("T")


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], int, int]:
    """Page `page` (1-based, clamped to the pages there are) of `items`: its items,
    its number and how many pages there are (at least one)."""
    pages = max(1, (len(items) + size - 1) // size)
    page = min(max(page, 1), pages)
    return list(items[(page - 1) * size : page * size]), page, pages


def page_nav(t: Translator, prefix: str, action: str, page: int, pages: int) -> list[Button]:
    """‹ Prev · n/N · Next › to "<prefix>:<action>::<page>" (none for a single page)."""
    return pagination_row(
        page,
        pages,
        lambda p: encode(prefix, action, arg=p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )


def int_arg(arg: str | None) -> int:
    """A button's numeric argument (a page, a share); anything else is a stale button."""
    if arg is None or not arg.isdigit():
        raise StaleButton()
    return int(arg)


def gateway_of(scope: Scope) -> PaymentGateway:
    """The payment gateway, for a step that moves money; refused when there is none."""
    if scope.gateway is None:
        raise NotAllowed("payments_unavailable", "Payments are not available right now.")
    return scope.gateway


async def leave_flow(ctx: Context, flow: type[Steps], key: str) -> None:
    """A Cancel/Done press: end the flow's conversation, if still in it, and say `key`."""
    if ctx.in_step(flow):
        await ctx.clear_state()
    await ctx.edit(ctx.t(key))


async def name_of(scope: Scope, user_id: int) -> str:
    """A person's name as shown, "#<id>" when there is none."""
    user = await scope.uow.users.get(user_id)
    return (user.name if user else "") or f"#{user_id}"


def percent(bp: int) -> str:
    """Basis points as a percentage for people: 500 → "5", 250 → "2.5"."""
    whole, rest = divmod(bp, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")
