"""Charts as pictures: the admins' 12 weeks with /stats, and from /balance a
freelancer's "📈 Earnings chart" and a client's "📈 Spending" (12 months).

The numbers come from domain/usecases/chart_data.py, the spec from handlers/charts.py;
the row goes to the outbox like any reply and the sender draws the PNG.

Callback data (prefix "bal", the balance card's):
- "bal:earnings"   the freelancer's earnings per month
- "bal:spending"   the client's spending per month
"""

from __future__ import annotations

from domain.usecases import chart_data
from handlers.charts import monthly_spec, weekly_spec
from handlers.context import Context
from handlers.events import Button
from handlers.i18n import Translator
from handlers.prefixes import BALANCE
from handlers.render import button, money


async def send_weekly_chart(ctx: Context) -> None:
    """The marketplace's last 12 weeks, as a picture with its totals as the caption."""
    data = await chart_data.weekly_activity(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    cur = data.currency
    caption = ctx.t(
        "chart.weekly.caption",
        weeks=len(data.weeks),
        jobs=sum(data.jobs_posted),
        contracts=sum(data.contracts_started),
        disputes=sum(data.disputes_opened),
        funded=money(sum(data.funded), cur),
        released=money(sum(data.released), cur),
    )
    await ctx.reply_chart(weekly_spec(ctx.t, data), caption)


def earnings_button(t: Translator) -> Button:
    return button(t.plain("chart.btn.earnings"), BALANCE.data("earnings"))


def spending_button(t: Translator) -> Button:
    return button(t.plain("chart.btn.spending"), BALANCE.data("spending"))


@BALANCE.on("earnings")
async def earnings_pressed(ctx: Context) -> None:
    data = await chart_data.freelancer_earnings(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    cur = data.currency
    caption = ctx.t(
        "chart.earnings.caption",
        months=len(data.months),
        earned=money(sum(data.incoming), cur),
        withdrawn=money(sum(data.outgoing), cur),
    )
    await ctx.reply_chart(monthly_spec(ctx.t, data, "earnings"), caption)
    ctx.answer()


@BALANCE.on("spending")
async def spending_pressed(ctx: Context) -> None:
    data = await chart_data.client_spending(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    cur = data.currency
    caption = ctx.t(
        "chart.spending.caption",
        months=len(data.months),
        paid=money(sum(data.incoming), cur),
        refunded=money(sum(data.outgoing), cur),
    )
    await ctx.reply_chart(monthly_spec(ctx.t, data, "spending"), caption)
    ctx.answer()
