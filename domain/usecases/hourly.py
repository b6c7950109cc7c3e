"""Hourly contracts: the offer with a rate and a weekly limit, the weeks and their
escrow, logging time, the weekly invoice and its settlement.

Each week is a milestone whose amount is the weekly escrow (limit × rate): it is
funded through the same payment path as any milestone (start_funding, the
gateway's Checkout, confirm_payment). Time is logged only while the week's
escrow is funded. When the week ends (the configured weekday, 00:00 UTC) the
week closes into an invoice — the logged hours × rate, capped at the limit —
and the milestone is submitted; the client approves, pays less with a reason,
or disputes it (the dispute machinery of any milestone); after
`timesheet_review_days` without an answer it is paid automatically. Paying goes
through settlement.settle, the one settlement rule: the invoice (or what the
client paid) is the freelancer's share, the unused escrow goes back to the
client as the settlement's refund (`refund:milestone:<id>`), and the ledger key
`settle:milestone:<id>` settles a week at most once, whoever comes first.

With "no limit" (the client's choice) nothing is pre-funded: the open week has
no milestone; its close bills hours × rate uncapped as a milestone of kind
"invoice", which the client pays through the same checkout (start_funding,
confirm_payment → invoice_funded: released whole by the same settlement rule)
within the review window. Time is logged while no earlier invoice is unpaid past
its window; such an invoice is marked overdue and both are told. Ending the
contract invoices the open week first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, Milestone
from domain.errors import NotAllowed, NotFound, ValidationError
from domain.events import InvoiceIssued, InvoiceOverdue, InvoicePaid, WeekOpened, WeekUnfunded
from domain.fees import Settlement
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus, MilestoneStatus
from domain.timesheet import (
    INVOICE_KIND,
    MAX_WEEKLY_LIMIT_HOURS,
    MEMO_MAX,
    NO_LIMIT,
    HourlyTerms,
    TimeEntry,
    TimesheetWeek,
    invoice_for,
    week_start_of,
    weekly_escrow,
)
from domain.usecases import contracts
from domain.usecases.common import active_user, load, require_party
from domain.usecases.contracts import milestone_parties
from domain.usecases.settlement import settle

BATCH = 100
FIRST_WEEK_TITLE = "⏱ #1"


def week_title(week_start: datetime) -> str:
    """A week's milestone title: its first day, the same in every language."""
    return f"⏱ {week_start.date().isoformat()}"


# --- the offer ----------------------------------------------------------------------


async def send_hourly_offer(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    job_id: int,
    freelancer_id: int,
    rate: int,
    weekly_limit_hours: int,
    title: str | None = None,
) -> Contract:
    """The client offers an hourly contract: `rate` per hour (minor units) and a
    weekly limit of hours. Its one milestone is the first week's escrow; with
    NO_LIMIT it has none (nothing is pre-funded: each week is invoiced after)."""
    job = await load(uow.jobs, job_id, "job")
    if job.budget_type != "hourly":
        raise NotAllowed("job_not_hourly", "Hourly offers are made on hourly jobs.")
    _check_terms(rate, weekly_limit_hours)
    first = (
        []
        if weekly_limit_hours == NO_LIMIT
        else [contracts.MilestoneSpec(FIRST_WEEK_TITLE, weekly_escrow(rate, weekly_limit_hours))]
    )
    contract = await contracts.send_offer(
        uow, clock, config, actor_id, job_id, freelancer_id, first, title, empty_ok=not first
    )
    await uow.hourly_terms.add(
        HourlyTerms(
            contract_id=contract.id,  # type: ignore[arg-type]
            rate=rate,
            weekly_limit_hours=weekly_limit_hours,
        )
    )
    return contract


def _check_terms(rate: int, limit: int) -> None:
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise ValidationError("amount_zero", "A rate must be more than zero.")
    if limit == NO_LIMIT and isinstance(limit, int) and not isinstance(limit, bool):
        return  # the client's explicit choice: "no limit"
    if not isinstance(limit, int) or not 1 <= limit <= MAX_WEEKLY_LIMIT_HOURS:
        raise ValidationError(
            "weekly_limit_range",
            f"A weekly limit is 1 to {MAX_WEEKLY_LIMIT_HOURS} hours.",
            max=MAX_WEEKLY_LIMIT_HOURS,
        )


async def terms_of(uow: UnitOfWork, contract_id: int | None) -> HourlyTerms | None:
    """The hourly terms of a contract; None for a fixed-price one."""
    if contract_id is None:
        return None
    return await uow.hourly_terms.get(contract_id)


async def week_of_milestone(uow: UnitOfWork, milestone_id: int | None) -> TimesheetWeek | None:
    found = await uow.weeks.find(milestone_id=milestone_id, limit=1)
    return found[0] if found else None


async def refuse_week(uow: UnitOfWork, milestone_id: int, action: str) -> None:
    """A week's escrow is paid by its invoice, never released whole, submitted or
    sent back for changes like a fixed milestone."""
    if await week_of_milestone(uow, milestone_id) is not None:
        raise NotAllowed("hourly_week", "A week of an hourly contract is paid by its invoice.")


# --- the weeks ----------------------------------------------------------------------


async def _open_week(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, contract: Contract, terms: HourlyTerms
) -> tuple[TimesheetWeek, bool]:
    """The current week of an active hourly contract, opened if need be (True
    then); the caller holds the contract's lock, so two openers never race."""
    start = week_start_of(clock.now(), config.timesheet_week_start)
    found = await uow.weeks.find(contract_id=contract.id, week_start=start, limit=1)
    if found:
        return found[0], False
    if terms.no_limit:  # nothing to fund: its invoice becomes a milestone at the close
        week = TimesheetWeek(contract_id=contract.id, milestone_id=None, week_start=start)  # type: ignore[arg-type]
        return await uow.weeks.add(week), True
    milestone = None
    if not await uow.weeks.count(contract_id=contract.id):
        # The first week's escrow is the offer's milestone.
        offered = await uow.milestones.find(
            contract_id=contract.id, status=MilestoneStatus.PENDING, limit=1
        )
        milestone = offered[0] if offered else None
    if milestone is None:
        existing = await uow.milestones.find(contract_id=contract.id)
        milestone = await uow.milestones.add(
            Milestone(
                contract_id=contract.id,  # type: ignore[arg-type]
                position=max((m.position for m in existing), default=0) + 1,
                title=week_title(start),
                amount=weekly_escrow(terms.rate, terms.weekly_limit_hours),
                currency=contract.currency,
            )
        )
    else:
        milestone.title = week_title(start)
    week = await uow.weeks.add(
        TimesheetWeek(
            contract_id=contract.id,  # type: ignore[arg-type]
            milestone_id=milestone.id,  # type: ignore[arg-type]
            week_start=start,
        )
    )
    uow.emit(
        WeekOpened(
            week_id=week.id,  # type: ignore[arg-type]
            week_start=start.date().isoformat(),
            rate=terms.rate,
            limit_hours=terms.weekly_limit_hours,
            **milestone_parties(milestone, contract),
        )
    )
    return week, True


async def current_week(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, contract_id: int
) -> tuple[TimesheetWeek, Contract, HourlyTerms]:
    """This week of an active hourly contract (opened now if the tick has not yet)."""
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    terms = await terms_of(uow, contract.id)
    if terms is None:
        raise NotAllowed("not_hourly", "This is not an hourly contract.")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "The contract is not active.")
    return (await _open_week(uow, clock, config, contract, terms))[0], contract, terms


async def open_weeks_due(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Open this week (its escrow to fund) on every active hourly contract that
    has none yet: when the contract starts, and each week start. The week ids.
    One query finds them (ended contracts are never read)."""
    start = week_start_of(clock.now(), config.timesheet_week_start)
    opened: list[int] = []
    for terms in await uow.hourly_terms.without_week(start, limit):
        contract = await load(uow.contracts, terms.contract_id, "contract", lock=True)
        if contract.status is not ContractStatus.ACTIVE:
            continue  # ended meanwhile
        week, created = await _open_week(uow, clock, config, contract, terms)
        if created:
            opened.append(week.id)  # type: ignore[arg-type]
    return opened


# --- logging time -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Logged:
    entry: TimeEntry
    week: TimesheetWeek
    week_minutes: int  # logged in the week, this entry included
    limit_hours: int


async def _open_week_for_day(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, contract_id: int, day: date
) -> tuple[TimesheetWeek, Milestone | None, Contract, HourlyTerms]:
    """The week holding `day`, locked (milestone first, then week), still open and
    funded (without a limit: no earlier invoice overdue): else refused with what
    to do."""
    week, contract, terms = await current_week(uow, clock, config, contract_id)
    start = week_start_of(datetime.combine(day, datetime.min.time()), config.timesheet_week_start)
    if start != week.week_start:
        found = await uow.weeks.find(contract_id=contract_id, week_start=start, limit=1)
        if not found:
            raise NotAllowed("week_not_open", "That week has no timesheet.")
        week = found[0]
    if terms.no_limit:
        week = await load(uow.weeks, week.id, "week", lock=True)
        if week.closed_at is not None:
            raise NotAllowed("week_closed", "That week is closed: its time can no longer change.")
        await _require_paid_up(uow, clock, contract_id)
        return week, None, contract, terms
    milestone = await load(uow.milestones, week.milestone_id, "milestone", lock=True)
    week = await load(uow.weeks, week.id, "week", lock=True)
    if week.closed_at is not None:
        raise NotAllowed("week_closed", "That week is closed: its time can no longer change.")
    if milestone.status is not MilestoneStatus.FUNDED:
        raise NotAllowed(
            "week_not_funded", "Time logging is paused until the client funds this week."
        )
    return week, milestone, contract, terms


async def _require_paid_up(uow: UnitOfWork, clock: Clock, contract_id: int) -> None:
    """No-limit logging continues only while every earlier invoice is paid or
    still within its review window."""
    if await uow.weeks.count(
        contract_id=contract_id,
        closed_at__ne=None,
        settled_at=None,
        review_until__lte=clock.now(),
    ):
        raise NotAllowed(
            "invoice_overdue", "Time logging is paused until the client pays the last invoice."
        )


def _memo(text: str) -> str:
    text = (text or "").strip()
    return validation.clean_text(text, "memo", 1, MEMO_MAX) if text else ""


async def _minutes_in(uow: UnitOfWork, week_id: int) -> int:
    return sum(e.minutes for e in await uow.time_entries.find(week_id=week_id))


async def log_time(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    contract_id: int,
    minutes: int,
    memo: str = "",
    day: date | None = None,
) -> Logged:
    """The freelancer logs `minutes` on `day` (today by default) with a memo."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id, "freelancer")
    today = clock.now().date()
    day = day or today
    if day > today:
        raise ValidationError("date_future", "Time is logged for today or earlier.")
    week, _, _, terms = await _open_week_for_day(uow, clock, config, contract_id, day)
    now = clock.now()
    entry = await uow.time_entries.add(
        TimeEntry(
            week_id=week.id,  # type: ignore[arg-type]
            contract_id=contract_id,
            day=day,
            minutes=_check_minutes(minutes),
            memo=_memo(memo),
            created_at=now,
            updated_at=now,
        )
    )
    return Logged(entry, week, await _minutes_in(uow, week.id), terms.weekly_limit_hours)  # type: ignore[arg-type]


def _check_minutes(minutes: int) -> int:
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ValidationError("duration_range", "An entry is between 1 minute and 24 hours.")
    return minutes


async def _own_entry(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, entry_id: int
) -> TimeEntry:
    await active_user(uow, actor_id)
    found = await uow.time_entries.get(entry_id)
    if found is None:
        raise NotFound("entry_not_found", "No such time entry.")
    contract = await load(uow.contracts, found.contract_id, "contract")
    require_party(contract, actor_id, "freelancer")
    await _open_week_for_day(uow, clock, config, contract.id, found.day)  # type: ignore[arg-type]
    return await load(uow.time_entries, entry_id, "entry", lock=True)


async def edit_entry(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    entry_id: int,
    minutes: int | None = None,
    memo: str | None = None,
) -> TimeEntry:
    """The freelancer changes an entry's time or memo while its week is open."""
    entry = await _own_entry(uow, clock, config, actor_id, entry_id)
    if minutes is not None:
        entry.minutes = _check_minutes(minutes)
    if memo is not None:
        entry.memo = _memo(memo)
    entry.updated_at = clock.now()
    return entry


async def delete_entry(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, entry_id: int
) -> None:
    entry = await _own_entry(uow, clock, config, actor_id, entry_id)
    await uow.time_entries.delete(entry)


# --- closing a week: the invoice ----------------------------------------------------


async def _close(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    week: TimesheetWeek,
    milestone: Milestone | None,
) -> bool:
    """Close a week (both rows locked): its time becomes the invoice the client
    reviews, or, with nothing logged, the escrow goes straight back. A week whose
    escrow was never funded closes with nothing to pay. False while a payment of
    the escrow is under way (it closes once that ends)."""
    contract = await load(uow.contracts, week.contract_id, "contract")
    terms = await terms_of(uow, contract.id)
    assert terms is not None
    now = clock.now()
    if terms.no_limit:
        await _close_no_limit(uow, clock, config, week, contract, terms)
        return True
    assert milestone is not None
    if milestone.status is MilestoneStatus.FUNDING:
        return False
    week.closed_at = now
    week.logged_minutes = await _minutes_in(uow, week.id)  # type: ignore[arg-type]
    data = milestone_parties(milestone, contract)
    start = week.week_start.date().isoformat()
    if milestone.status is MilestoneStatus.PENDING:
        milestone.apply("cancel")
        milestone.settled_at = now
        week.settled_at = now
        uow.emit(WeekUnfunded(week_id=week.id, week_start=start, **data))  # type: ignore[arg-type]
        return True
    if milestone.status is not MilestoneStatus.FUNDED:
        return True  # refunded or disputed meanwhile: that settles the escrow
    week.billed_minutes, week.invoice = invoice_for(
        week.logged_minutes, terms.rate, terms.weekly_limit_hours
    )
    if week.invoice == 0:
        milestone.apply("submit")
        await _pay(uow, clock, week, milestone, contract, 0, None, auto=True)
        return True
    milestone.apply("submit")
    milestone.submitted_at = now
    milestone.auto_release_at = None  # never released whole: the invoice is paid instead
    week.review_until = now + timedelta(days=config.timesheet_review_days)
    uow.emit(
        InvoiceIssued(
            week_id=week.id,  # type: ignore[arg-type]
            week_start=start,
            logged_minutes=week.logged_minutes,
            billed_minutes=week.billed_minutes,
            invoice=week.invoice,
            review_until=week.review_until.isoformat(),
            **data,
        )
    )
    return True


async def _close_no_limit(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    week: TimesheetWeek,
    contract: Contract,
    terms: HourlyTerms,
) -> None:
    """A no-limit week's time becomes an invoice milestone the client pays within
    the review window; nothing logged closes it with nothing to pay."""
    now = clock.now()
    week.closed_at = now
    week.logged_minutes = await _minutes_in(uow, week.id)  # type: ignore[arg-type]
    week.billed_minutes, week.invoice = invoice_for(week.logged_minutes, terms.rate, NO_LIMIT)
    if week.invoice == 0:
        week.paid, week.settled_at = 0, now
        return
    existing = await uow.milestones.find(contract_id=contract.id)
    milestone = await uow.milestones.add(
        Milestone(
            contract_id=contract.id,  # type: ignore[arg-type]
            position=max((m.position for m in existing), default=0) + 1,
            title=week_title(week.week_start),
            amount=week.invoice,
            currency=contract.currency,
            kind=INVOICE_KIND,
        )
    )
    week.milestone_id = milestone.id
    week.review_until = now + timedelta(days=config.timesheet_review_days)
    uow.emit(
        InvoiceIssued(
            week_id=week.id,  # type: ignore[arg-type]
            week_start=week.week_start.date().isoformat(),
            logged_minutes=week.logged_minutes,
            billed_minutes=week.billed_minutes,
            invoice=week.invoice,
            review_until=week.review_until.isoformat(),
            **milestone_parties(milestone, contract),
        )
    )


async def _locked_week(uow: UnitOfWork, week_id: int) -> tuple[TimesheetWeek, Milestone | None]:
    """Milestone first, then week: the order every use case here locks them in
    (an open no-limit week has no milestone)."""
    found = await uow.weeks.get(week_id)
    if found is None:
        raise NotFound("week_not_found", "No such week.")
    milestone = None
    if found.milestone_id is not None:
        milestone = await load(uow.milestones, found.milestone_id, "milestone", lock=True)
    return await load(uow.weeks, week_id, "week", lock=True), milestone


async def close_weeks_due(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Close every week that has ended into its invoice; the week ids."""
    now = clock.now()
    closed: list[int] = []
    for found in await uow.weeks.find(
        closed_at=None, week_start__lte=now - timedelta(days=7), limit=limit
    ):
        week, milestone = await _locked_week(uow, found.id)  # type: ignore[arg-type]
        if week.closed_at is not None or week.week_end > now:
            continue  # another process closed it meanwhile
        if await _close(uow, clock, config, week, milestone):
            closed.append(week.id)  # type: ignore[arg-type]
    return closed


async def close_week_now(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, week_id: int
) -> TimesheetWeek:
    """Either party closes the week early (to end the contract): its time is
    invoiced now, as at the week's end."""
    await active_user(uow, actor_id)
    week, milestone = await _locked_week(uow, week_id)
    contract = await load(uow.contracts, week.contract_id, "contract")
    require_party(contract, actor_id)
    if week.closed_at is not None:
        raise NotAllowed("week_closed", "That week is closed: its time can no longer change.")
    if not await _close(uow, clock, config, week, milestone):
        raise NotAllowed("payment_in_progress", "A payment for a milestone is under way.")
    return week


# --- paying the invoice ------------------------------------------------------------


async def _pay(
    uow: UnitOfWork,
    clock: Clock,
    week: TimesheetWeek,
    milestone: Milestone,
    contract: Contract,
    paid: int,
    reason: str | None,
    auto: bool,
) -> Settlement:
    """Settle the week's escrow: `paid` to the freelancer, the rest back (one rule)."""
    if paid == milestone.amount:
        action = "release"
    else:
        action = "invoice_refund" if paid == 0 else "invoice_split"
    split = await settle(uow, clock, milestone, contract, paid, action, "invoice")
    week.paid, week.reason, week.settled_at = paid, reason, clock.now()
    uow.emit(
        InvoicePaid(
            week_id=week.id,  # type: ignore[arg-type]
            week_start=week.week_start.date().isoformat(),
            invoice=week.invoice,
            paid=paid,
            to_freelancer=split.to_freelancer,
            fees=split.to_platform,
            refunded=split.to_client,
            reason=reason,
            auto=auto,
            **milestone_parties(milestone, contract),
        )
    )
    return split


async def _invoice_to_pay(
    uow: UnitOfWork, actor_id: int, week_id: int
) -> tuple[TimesheetWeek, Milestone, Contract]:
    await active_user(uow, actor_id)
    week, milestone = await _locked_week(uow, week_id)
    contract = await load(uow.contracts, week.contract_id, "contract")
    require_party(contract, actor_id, "client")
    if (
        week.settled_at is not None
        or milestone is None
        or milestone.status is not MilestoneStatus.SUBMITTED
    ):
        raise NotAllowed("invoice_settled", "This invoice is already settled or disputed.")
    return week, milestone, contract


async def approve_invoice(uow: UnitOfWork, clock: Clock, actor_id: int, week_id: int) -> Settlement:
    """The client pays the week's invoice; the unused escrow goes back to them."""
    week, milestone, contract = await _invoice_to_pay(uow, actor_id, week_id)
    return await _pay(uow, clock, week, milestone, contract, week.invoice, None, auto=False)


async def pay_less(
    uow: UnitOfWork, clock: Clock, actor_id: int, week_id: int, amount: int, reason: str
) -> Settlement:
    """The client pays less than the invoice, saying why (the freelancer is told)."""
    week, milestone, contract = await _invoice_to_pay(uow, actor_id, week_id)
    if not isinstance(amount, int) or not 0 <= amount < week.invoice:
        raise ValidationError(
            "pay_less_range", "Pay less than the invoice, or approve it.", invoice=week.invoice
        )
    text = validation.clean_text(reason, "reason", 3, validation.MESSAGE_MAX)
    return await _pay(uow, clock, week, milestone, contract, amount, text, auto=False)


async def auto_pay_due(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Pay every invoice whose review window ended unanswered, as if approved; a
    no-limit invoice still unpaid then is marked overdue (logging pauses) and
    both are told, once."""
    now = clock.now()
    paid: list[int] = []
    for found in await uow.weeks.find(
        settled_at=None, review_until__lte=now, overdue_at=None, limit=limit
    ):
        week, milestone = await _locked_week(uow, found.id)  # type: ignore[arg-type]
        if week.settled_at is not None or milestone is None or week.overdue_at is not None:
            continue
        contract = await load(uow.contracts, week.contract_id, "contract")
        if milestone.kind == INVOICE_KIND:
            if milestone.status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
                week.overdue_at = now
                uow.emit(
                    InvoiceOverdue(
                        week_id=week.id,  # type: ignore[arg-type]
                        week_start=week.week_start.date().isoformat(),
                        invoice=week.invoice,
                        **milestone_parties(milestone, contract),
                    )
                )
            continue
        if milestone.status is not MilestoneStatus.SUBMITTED:
            continue  # paid, or disputed, meanwhile
        await _pay(uow, clock, week, milestone, contract, week.invoice, None, auto=True)
        paid.append(week.id)  # type: ignore[arg-type]
    return paid


async def invoice_funded(
    uow: UnitOfWork, clock: Clock, milestone: Milestone, contract: Contract
) -> Settlement:
    """confirm_payment funded a no-limit week's invoice (the caller holds the
    milestone's lock and recorded the funding): the invoice is paid, released
    whole to the freelancer by the one settlement rule."""
    found = await week_of_milestone(uow, milestone.id)
    if found is None:
        raise NotFound("week_not_found", "No such week.")
    week = await load(uow.weeks, found.id, "week", lock=True)
    return await _pay(uow, clock, week, milestone, contract, milestone.amount, None, auto=False)


async def invoice_open_week(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, contract: Contract
) -> None:
    """Before a no-limit contract ends (end_contract holds its lock): its open
    week is invoiced now, so the time logged in it is billed, not lost."""
    terms = await terms_of(uow, contract.id)
    if terms is None or not terms.no_limit:
        return
    for found in await uow.weeks.find(contract_id=contract.id, closed_at=None):
        week, milestone = await _locked_week(uow, found.id)  # type: ignore[arg-type]
        if week.closed_at is None:
            await _close(uow, clock, config, week, milestone)


# --- reading ------------------------------------------------------------------------


async def weeks_of(uow: UnitOfWork, contract_id: int) -> list[TimesheetWeek]:
    return await uow.weeks.find(contract_id=contract_id, order_by="-week_start")


async def entries_of(uow: UnitOfWork, week_id: int) -> list[TimeEntry]:
    found = await uow.time_entries.find(week_id=week_id, order_by="day")
    return sorted(found, key=lambda e: (e.day, e.id or 0))


async def hourly_contracts_of(uow: UnitOfWork, user_id: int) -> list[Contract]:
    """A user's active hourly contracts, newest first."""
    found = []
    for role in ("freelancer_id", "client_id"):
        found += await uow.contracts.find(
            order_by="-id", status=ContractStatus.ACTIVE, **{role: user_id}
        )
    return [c for c in found if await terms_of(uow, c.id) is not None]
