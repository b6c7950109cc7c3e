"""A freelancer's availability, from their own profile card (domain/talent.py):
available, busy, or away until a date. While away, job alerts and digests wait;
they resume by themselves after the date (every reader compares it with today).
Talent search shows it and filters on it; inviting an away freelancer asks first.

Callback data (prefix "av"):
- "av:menu"                     the current state and the choices
- "av:choose::available|busy"   set it
- "av:away"                     how long: 1 week, 2 weeks, until a date
- "av:away_for::<days>"         away for 7 or 14 days (the last day away: today + days)
- "av:ask_date"                 type the last day away as YYYY-MM-DD (step "date")
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.errors import ValidationError
from domain.talent import Availability
from domain.usecases import talent as uc
from domain.usecases.common import freelancer
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.i18n import Translator
from handlers.prefixes import AVAILABILITY as PREFIX
from handlers.prefixes import PROFILE
from handlers.render import Html, button, keyboard
from handlers.routing import Steps, step
from handlers.talent_views import state_line

AWAY_DAYS = ("7", "14")


class AvailabilityStep(Steps, flow="availability"):
    """Typing the last day away (the values are stored: never change one)."""

    DATE = "date"


def profile_button(t: Translator, state: Availability) -> dict[str, str]:
    """The own profile card's button, showing the current state."""
    return button(
        t.plain("availability.btn.open", state=t.plain(f"availability.short_{state.value}")),
        PREFIX.data("menu"),
    )


async def show_menu(ctx: Context, edit: bool = True) -> None:
    await freelancer(ctx.uow, ctx.user.id)
    t = ctx.t
    profile = await ctx.uow.profiles.get(ctx.user.id)
    state = uc.availability_of(profile, ctx.clock.now().date())
    text = (
        t("availability.title")
        + Html("\n")
        + state_line(t, state, profile.away_until if profile else None)
    )
    kb = keyboard(
        [
            button(t.plain("availability.btn.available"), PREFIX.data("choose", arg="available")),
            button(t.plain("availability.btn.busy"), PREFIX.data("choose", arg="busy")),
        ],
        button(t.plain("availability.btn.away"), PREFIX.data("away")),
        button(t.plain("availability.btn.back"), PROFILE.data("my_card")),
    )
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


async def _done(ctx: Context, state: str, until: date | None = None) -> None:
    await uc.set_availability(ctx.uow, ctx.clock, ctx.user.id, state, until)
    await ctx.clear_state()
    t = ctx.t
    line = state_line(t, Availability(state), until)
    note = t("availability.alerts_paused") if state == Availability.AWAY else None
    text = t("availability.saved", state=line) + (Html("\n") + note if note else Html(""))
    await ctx.reply(
        text, keyboard(button(t.plain("availability.btn.back"), PROFILE.data("my_card")))
    )


@PREFIX.on("menu")
async def menu_pressed(ctx: Context) -> None:
    await show_menu(ctx)
    ctx.answer()


@PREFIX.on("choose")
async def set_pressed(ctx: Context) -> None:
    state = ctx.callback.arg if ctx.callback else None
    if state not in (Availability.AVAILABLE.value, Availability.BUSY.value):
        raise StaleButton()
    await _done(ctx, state)
    ctx.answer()


@PREFIX.on("away")
async def away_pressed(ctx: Context) -> None:
    await freelancer(ctx.uow, ctx.user.id)
    t = ctx.t
    await ctx.edit(
        t("availability.how_long"),
        keyboard(
            [
                button(t.plain("availability.btn.week"), PREFIX.data("away_for", arg="7")),
                button(t.plain("availability.btn.two_weeks"), PREFIX.data("away_for", arg="14")),
            ],
            button(t.plain("availability.btn.until"), PREFIX.data("ask_date")),
            button(t.plain("btn.cancel"), PREFIX.data("menu")),
        ),
    )
    ctx.answer()


@PREFIX.on("away_for")
async def away_for_pressed(ctx: Context) -> None:
    days = ctx.callback.arg if ctx.callback else None
    if days not in AWAY_DAYS:
        raise StaleButton()
    await _done(ctx, "away", ctx.clock.now().date() + timedelta(days=int(days)))
    ctx.answer()


@PREFIX.on("ask_date")
async def ask_date_pressed(ctx: Context) -> None:
    await freelancer(ctx.uow, ctx.user.id)
    await ctx.set_state(AvailabilityStep.DATE, {})
    t = ctx.t
    await ctx.reply(
        t(
            "availability.ask_date",
            example=(ctx.clock.now().date() + timedelta(days=10)).isoformat(),
        ),
        keyboard(button(t.plain("btn.cancel"), PREFIX.data("menu"))),
    )
    ctx.answer()


@step(AvailabilityStep.DATE)
async def date_typed(ctx: Context) -> None:
    try:
        until = date.fromisoformat(ctx.text.strip())
    except ValueError:
        raise ValidationError("away_date_format", "Type the date as YYYY-MM-DD.") from None
    await _done(ctx, "away", until)
