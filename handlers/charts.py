"""Chart specs: what a chart shows, translated, as small JSON for an outbox "chart" row.

A spec is {"title": str, "x": [label, …], "panels": [{"title": str, "unit": str | None,
"integer": bool, "bars": [{"name", "values"}], "lines": [{"name", "values"}]}]};
bot/charts.py draws it as a PNG at send time and caches the image under
`fingerprint(spec)`, which changes exactly when the numbers or the words do.
Money is in major units (floats) so the axis reads as the currency does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from babel.dates import format_date

from domain.money import exponent
from domain.usecases.chart_data import MonthlyMoney, WeeklyActivity
from handlers.i18n import Translator

Spec = dict[str, Any]


def fingerprint(spec: Spec) -> str:
    """A stable digest of everything drawn: the image cache's key."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _major(amounts: list[int], currency: str) -> list[float]:
    scale = 10 ** exponent(currency)
    return [round(a / scale, 2) for a in amounts]


def _weeks(t: Translator, weeks: list[date]) -> list[str]:
    return [format_date(d, "d MMM", locale=t.lang) for d in weeks]


def _months(t: Translator, months: list[date]) -> list[str]:
    return [format_date(d, "LLL yy", locale=t.lang) for d in months]


def _series(name: str, values: list[Any]) -> dict[str, Any]:
    return {"name": name, "values": values}


def weekly_spec(t: Translator, data: WeeklyActivity) -> Spec:
    cur = data.currency
    return {
        "title": t.plain("chart.weekly.title", weeks=len(data.weeks)),
        "x": _weeks(t, data.weeks),
        "panels": [
            {
                "title": t.plain("chart.weekly.activity"),
                "unit": None,
                "integer": True,
                "bars": [
                    _series(t.plain("chart.weekly.jobs"), data.jobs_posted),
                    _series(t.plain("chart.weekly.contracts"), data.contracts_started),
                    _series(t.plain("chart.weekly.disputes"), data.disputes_opened),
                ],
                "lines": [],
            },
            {
                "title": t.plain("chart.weekly.money"),
                "unit": cur,
                "integer": False,
                "bars": [
                    _series(t.plain("chart.weekly.funded"), _major(data.funded, cur)),
                    _series(t.plain("chart.weekly.released"), _major(data.released, cur)),
                ],
                "lines": [_series(t.plain("chart.weekly.held"), _major(data.held, cur))],
            },
        ],
    }


def monthly_spec(t: Translator, data: MonthlyMoney, kind: str) -> Spec:
    """kind "earnings" (a freelancer's) or "spending" (a client's)."""
    cur = data.currency
    return {
        "title": t.plain(f"chart.{kind}.title", months=len(data.months)),
        "x": _months(t, data.months),
        "panels": [
            {
                "title": t.plain("chart.per_month"),
                "unit": cur,
                "integer": False,
                "bars": [
                    _series(t.plain(f"chart.{kind}.incoming"), _major(data.incoming, cur)),
                    _series(t.plain(f"chart.{kind}.outgoing"), _major(data.outgoing, cur)),
                ],
                "lines": [],
            }
        ],
    }
