"""Hourly contracts: the terms, the weeks, the time entries, and their pure rules.

An hourly contract is a contract whose offer carried `HourlyTerms` (a rate per
hour and a weekly limit of hours). Each week is one milestone: its amount is the
weekly escrow (limit × rate), funded like any milestone when the week starts.
When the week closes its logged time becomes an invoice, hours × rate capped at
the limit, and the week's milestone is settled by the one fee rule
(domain/fees.py) with the invoice as the freelancer's share: the unused escrow
goes back to the client by the settlement's refund (`refund:milestone:<id>`).

"No limit" (a weekly limit of NO_LIMIT, chosen by the client): nothing is
pre-funded. The week has no milestone while it is open; at its close the
invoice (hours × rate, uncapped) becomes a milestone of kind "invoice" that the
client pays through the same checkout within the review window, and paying it
releases it to the freelancer by the same settlement rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.errors import ValidationError

MAX_ENTRY_MINUTES = 24 * 60
MAX_WEEKLY_LIMIT_HOURS = 168
MEMO_MAX = 200
NO_LIMIT = 0  # the client chose "no limit": nothing pre-funded, each invoice paid after
INVOICE_KIND = "invoice"  # the milestone a no-limit week's invoice is paid through


@dataclass(kw_only=True, eq=False)
class HourlyTerms:
    """What makes a contract hourly; fixed when the offer is made."""

    contract_id: int
    rate: int  # minor units per hour
    weekly_limit_hours: int  # NO_LIMIT: billed after the week, nothing pre-funded

    @property
    def no_limit(self) -> bool:
        return self.weekly_limit_hours == NO_LIMIT


@dataclass(kw_only=True, eq=False)
class TimesheetWeek:
    id: int | None = None
    contract_id: int
    milestone_id: int | None  # the week's escrow; a no-limit week's invoice, once closed
    week_start: datetime  # UTC, the configured weekday at 00:00
    closed_at: datetime | None = None
    logged_minutes: int = 0  # at close, all that was logged
    billed_minutes: int = 0  # at close, capped at the limit
    invoice: int = 0  # billed hours × rate, minor units
    paid: int | None = None  # what the client paid of the invoice
    reason: str | None = None  # why the client paid less
    review_until: datetime | None = None  # then the invoice is paid automatically
    settled_at: datetime | None = None
    overdue_at: datetime | None = None  # a no-limit invoice unpaid past review_until

    @property
    def week_end(self) -> datetime:
        return self.week_start + timedelta(days=7)


@dataclass(kw_only=True, eq=False)
class TimeEntry:
    id: int | None = None
    week_id: int
    contract_id: int
    day: date
    minutes: int
    memo: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


def week_start_of(moment: datetime, weekday: int = 0) -> datetime:
    """The start (00:00 UTC on `weekday`, 0 = Monday) of the week holding `moment`."""
    day = moment.astimezone(UTC).date()
    back = (day.weekday() - weekday) % 7
    return datetime.combine(day - timedelta(days=back), time(0), tzinfo=UTC)


def weekly_escrow(rate: int, limit_hours: int) -> int:
    """What the client pre-funds for a week: the limit's worth of hours (nothing
    without a limit)."""
    return rate * limit_hours


def invoice_for(minutes: int, rate: int, limit_hours: int) -> tuple[int, int]:
    """(billed minutes, amount): hours × rate, capped at the weekly limit, the
    amount rounded half up to the minor unit (never above the weekly escrow);
    uncapped without a limit."""
    billed = max(minutes, 0)
    if limit_hours != NO_LIMIT:
        billed = min(billed, limit_hours * 60)
    return billed, (billed * rate + 30) // 60


_DURATION = re.compile(
    r"^\s*(?:(?P<h>\d{1,2})\s*(?:h|ч|:)\s*(?P<hm>\d{1,2})?\s*(?:m|м|min|мин)?"
    r"|(?P<m>\d{1,4})\s*(?:m|м|min|мин)"
    r"|(?P<dec>\d{1,2}(?:[.,]\d{1,2})?)\s*(?:h|ч)?)\s*$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> int:
    """Minutes from "2h30", "2:30", "2h", "45m", "1.5h" or "1,5"; refused with
    `duration_invalid` otherwise, `duration_range` beyond a day."""
    found = _DURATION.match(text or "")
    if not found:
        raise ValidationError("duration_invalid", "Give the time as 2h30, 1.5h or 45m.")
    if found["h"] is not None:
        extra = int(found["hm"] or 0)
        if extra >= 60:
            raise ValidationError("duration_invalid", "Give the time as 2h30, 1.5h or 45m.")
        minutes = int(found["h"]) * 60 + extra
    elif found["m"] is not None:
        minutes = int(found["m"])
    else:
        minutes = round(float(found["dec"].replace(",", ".")) * 60)
    if not 1 <= minutes <= MAX_ENTRY_MINUTES:
        raise ValidationError("duration_range", "An entry is between 1 minute and 24 hours.")
    return minutes


def split_log_text(text: str) -> tuple[int, str]:
    """`/log 2h30 memo` → (150, "memo")."""
    head, _, memo = (text or "").strip().partition(" ")
    return parse_duration(head), memo.strip()
