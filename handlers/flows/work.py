"""Deliver and review work on a funded milestone.

Freelancer: submit a message and files (documents/photos), resubmit after
"changes requested". Client: see the submission, approve and release (after a
confirmation that shows what the freelancer receives) or request changes with
a note. Auto-release at the end of the review window and the reminders before
it come from the deadline tick's events, rendered here.

Callback data (prefix "wk"; the old codes of buttons already sent in brackets):
- "wk:submit:<milestone>"   freelancer: start a (re)submission (sub)
- "wk:send" / "wk:cancel"   freelancer: send the collected submission / cancel (x)
- "wk:view:<milestone>"     client: the latest submission with the review buttons
- "wk:approve:<milestone>"  client: "approve & release?" confirmation (ap)
- "wk:release:<milestone>"  client: release now (rel)
- "wk:request_changes:<milestone>"  client: request changes, asks for the note (chg)
- "wk:refund:<milestone>"   refund a funded milestone: the confirmation with the amounts
                            (freelancer any time; client once it is overdue, see
                            domain.usecases.milestones.refund) (rf);
                            "wk:confirm_refund:<milestone>" refunds (rfok)
- "wk:cancel_milestone:<milestone>"  client: cancel an unfunded milestone, confirmation
                            first (cx); "wk:confirm_cancel:<milestone>" cancels it (cxok)
Which of these a milestone offers is handlers/contract_views.py's milestone_actions
(the card and the notifications here use the same rule); what a milestone allows
is the domain's: the state machine (domain.states.MILESTONE) and the refund policy
(domain.usecases.milestones.refund_allowed). Every press is re-checked by the use case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain import validation
from domain.entities import Contract, Milestone, Submission
from domain.errors import IllegalTransition, NotAllowed, ValidationError
from domain.events import (
    ChangesRequested,
    MilestoneCancelled,
    MilestoneRefunded,
    MilestoneReleased,
    ReleaseReminder,
    WorkSubmitted,
)
from domain.fees import settlement
from domain.states import MILESTONE, ContractStatus, MilestoneStatus
from domain.usecases import milestones as uc
from domain.usecases.common import milestone_with_contract, require_party
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import (
    card_keyboard,
    confirm_keyboard,
    done_with_card,
    message_button,
    milestone_actions,
    milestones_of,
    open_contract_button,
)
from handlers.events import Keyboard
from handlers.flows.menu import cmd_data
from handlers.helpers import gateway_of, name_of, percent
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import BONUS, DISPUTE, FUND, WORK
from handlers.render import button, join, keyboard, money, rows
from handlers.routing import Steps, step


class WorkStep(Steps, flow="work"):
    """Submitting work, step by step (the values are stored: never change one)."""

    SUBMIT = "submit"
    NOTE = "note"


async def _milestone(
    ctx: Context, milestone_id: int, role: str, action: str
) -> tuple[Milestone, Contract]:
    """Re-authorise a press: the viewer's side, an active contract, a state in which
    the milestone state machine allows `action`."""
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    require_party(contract, ctx.user.id, role)
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    _require(milestone, action)
    return milestone, contract


def _require(milestone: Milestone, action: str) -> None:
    if not MILESTONE.allows(milestone.status, action):
        raise IllegalTransition("milestone", str(milestone.status), action)


def _cancel_row(t: Translator) -> Keyboard | None:
    return keyboard(button(t.plain("btn.cancel"), WORK.data("cancel")))


# --- submitting (freelancer) --------------------------------------------------------


async def start_submit(ctx: Context, milestone_id: int) -> None:
    milestone, _ = await _milestone(ctx, milestone_id, "freelancer", "submit")
    await ctx.set_state(WorkStep.SUBMIT, {"ms": milestone_id, "msg": "", "files": []})
    await ctx.reply(
        ctx.t("work.ask_submission", title=milestone.title, max=uc.MAX_FILES),
        _cancel_row(ctx.t),
    )
    ctx.answer()


@step(WorkStep.SUBMIT)
async def collect_submission(ctx: Context) -> None:
    data = ctx.data
    if ctx.event.files:
        files = [*data.get("files", []), *ctx.file_ids]
        if len(files) > uc.MAX_FILES:
            raise ValidationError(
                "too_many_files", f"At most {uc.MAX_FILES} files.", max=uc.MAX_FILES
            )
        data["files"] = files
        if ctx.text.strip():  # a caption is part of the message
            data["msg"] = _more_text(data.get("msg", ""), ctx.text)
    else:
        data["msg"] = _more_text(data.get("msg", ""), ctx.text)
    await ctx.set_state(WorkStep.SUBMIT, data)
    t = ctx.t
    await ctx.reply(
        t(
            "work.collected",
            files=len(data["files"]),
            message=t.plain("work.message_yes") if data["msg"] else t.plain("work.message_no"),
        ),
        keyboard(
            button(t.plain("work.btn.send"), WORK.data("send")),
            button(t.plain("btn.cancel"), WORK.data("cancel")),
        ),
    )


def _more_text(message: str, text: str) -> str:
    """Every text and caption sent while collecting adds to the message ("send more"),
    never silently replaces what came before; the whole stays within the limit."""
    part = validation.clean_text(text, "message", 1, validation.MESSAGE_MAX)
    whole = f"{message}\n\n{part}" if message else part
    return validation.clean_text(whole, "message", 1, validation.MESSAGE_MAX)


async def send_submission(ctx: Context) -> None:
    if not ctx.in_step(WorkStep.SUBMIT):
        raise StaleButton()
    data: dict[str, Any] = ctx.data
    submission = await uc.submit_work(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, data["ms"], data["msg"], data["files"]
    )
    await ctx.clear_state()
    milestone, contract = await milestone_with_contract(
        ctx.uow, submission.milestone_id, lock=False
    )
    text = ctx.t(
        "work.submitted_you",
        title=milestone.title,
        name=await name_of(ctx, contract.client_id),
        date=_date(milestone),
    )
    await done_with_card(ctx, text, contract.id, "work.submitted_short")  # type: ignore[arg-type]


def _date(milestone: Milestone) -> str:
    return milestone.auto_release_at.date().isoformat() if milestone.auto_release_at else "—"


# --- reviewing (client) ---------------------------------------------------------------


def review_keyboard(t: Translator, milestone_id: int, contract_id: int) -> Keyboard | None:
    """Approve / changes, then talk or dispute, then the contract card."""
    return keyboard(
        [
            button(t.plain("work.btn.approve"), WORK.data("approve", milestone_id)),
            button(t.plain("work.btn.changes"), WORK.data("request_changes", milestone_id)),
        ],
        button(t.plain("partial.btn.start"), BONUS.data("partial", milestone_id)),
        [
            message_button(t, contract_id),
            button(t.plain("contracts.btn.dispute"), DISPUTE.data("open", milestone_id)),
        ],
        open_contract_button(t, contract_id),
    )


def milestone_keyboard(
    t: Translator,
    side: str,
    milestone: Milestone,
    contract: Contract,
    today: date,
    first: list[Any] | None = None,
) -> Keyboard | None:
    """A milestone notification's buttons: `first` (the main action), then what the
    side may do about the milestone (dispute, refund, cancel), Message, the card."""
    actions = milestone_actions(t, side, milestone, today, numbered=False)
    return keyboard(
        first or None,
        *rows([*actions, message_button(t, contract.id)], 2),  # type: ignore[arg-type]
        open_contract_button(t, contract.id),  # type: ignore[arg-type]
    )


def submit_keyboard(
    t: Translator, label_key: str, milestone: Milestone, contract: Contract, today: date
) -> Keyboard | None:
    """The freelancer's milestone notification: (re)submit first, then the rest."""
    submit = button(t.plain(label_key), WORK.data("submit", milestone.id))
    return milestone_keyboard(t, "freelancer", milestone, contract, today, [submit])


async def _latest(scope: Scope, milestone_id: int) -> Submission | None:
    found = await scope.uow.submissions.find(milestone_id=milestone_id, order_by="-id", limit=1)
    return found[0] if found else None


async def _send_submission(
    scope: Scope, t: Translator, to: int, milestone: Milestone, contract: Contract
) -> None:
    """The files first, then the message with the buttons (so they sit at the bottom)."""
    submission = await _latest(scope, milestone.id)  # type: ignore[arg-type]
    if submission is None:
        return
    for k, file_id in enumerate(submission.files, start=1):
        await scope.send_file(to, file_id, t("work.file_caption", n=k, title=milestone.title))
    text = t(
        "work.notify.submitted",
        name=await name_of(scope, contract.freelancer_id),
        title=milestone.title,
        message=submission.message or "—",
        # "Files: 0." says nothing: the count only when there are files.
        files=t("work.notify.files", count=len(submission.files)) + " " if submission.files else "",
        date=_date(milestone),
    )
    await scope.send(to, text, review_keyboard(t, milestone.id, contract.id))  # type: ignore[arg-type]


async def view_submission(ctx: Context, milestone_id: int) -> None:
    # Submitted work, the one state whose review may ask for changes.
    milestone, contract = await _milestone(ctx, milestone_id, "client", "request_changes")
    await _send_submission(ctx, ctx.t, ctx.user.id, milestone, contract)
    ctx.answer()


async def ask_release(ctx: Context, milestone_id: int) -> None:
    t = ctx.t
    milestone, contract = await _milestone(ctx, milestone_id, "client", "release")
    split = settlement(
        milestone.amount, milestone.amount, contract.client_fee_bp, contract.freelancer_fee_bp
    )
    await ctx.edit(
        t(
            "work.release.ask",
            title=milestone.title,
            amount=money(milestone.amount, milestone.currency),
            name=await name_of(ctx, contract.freelancer_id),
            net=money(split.to_freelancer, milestone.currency),
            percent=percent(contract.freelancer_fee_bp),
        ),
        confirm_keyboard(
            t,
            t.plain("work.btn.release_confirm"),
            WORK.data("release", milestone_id),
            contract.id,  # type: ignore[arg-type]
        ),
    )


async def next_to_fund(scope: Scope, contract_id: int) -> Milestone | None:
    """The contract's first milestone still waiting for its money, if any."""
    waiting = [
        m for m in await milestones_of(scope, contract_id) if MILESTONE.allows(m.status, "fund")
    ]
    return min(waiting, key=lambda m: m.position) if waiting else None


def fund_next_button(t: Translator, milestone: Milestone | None) -> Any:
    """ "Fund the next milestone": straight into its funding quote (None: none left)."""
    if milestone is None:
        return None
    label = t.plain("work.btn.fund_next", n=milestone.position, title=milestone.title)
    return button(label, FUND.data("quote", milestone.id))


async def do_release(ctx: Context, milestone_id: int) -> None:
    split = await uc.release(ctx.uow, ctx.clock, ctx.config, ctx.user.id, milestone_id)
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    text = ctx.t(
        "work.release.done",
        title=milestone.title,
        name=await name_of(ctx, contract.freelancer_id),
        net=money(split.to_freelancer, milestone.currency),
    )
    following = await next_to_fund(ctx, contract.id)  # type: ignore[arg-type]
    await ctx.edit(
        text,
        keyboard(
            fund_next_button(ctx.t, following),
            open_contract_button(ctx.t, contract.id),  # type: ignore[arg-type]
        ),
    )
    ctx.answer(ctx.t.plain("work.release.done_short"))


async def ask_changes(ctx: Context, milestone_id: int) -> None:
    milestone, _ = await _milestone(ctx, milestone_id, "client", "request_changes")
    await ctx.set_state(WorkStep.NOTE, {"ms": milestone_id})
    await ctx.reply(ctx.t("work.ask_note", title=milestone.title), _cancel_row(ctx.t))
    ctx.answer()


@step(WorkStep.NOTE)
async def changes_note(ctx: Context) -> None:
    if ctx.event.kind == "file" and not ctx.text.strip():
        await ctx.reply(ctx.t("work.note_text_only"))
        return
    milestone = await uc.request_changes(ctx.uow, ctx.clock, ctx.user.id, ctx.data["ms"], ctx.text)
    await ctx.clear_state()
    await ctx.reply(
        ctx.t("work.changes_sent", title=milestone.title),
        keyboard(open_contract_button(ctx.t, milestone.contract_id)),
    )


# --- refunding and cancelling ----------------------------------------------------------


async def _owned(
    ctx: Context, milestone_id: int, role: str | None = None
) -> tuple[Milestone, Contract, str]:
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    side = require_party(contract, ctx.user.id, role)
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    return milestone, contract, side


async def ask_refund(ctx: Context, milestone_id: int) -> None:
    """What a refund moves, before it moves: the client gets the amount and the fee back."""
    t = ctx.t
    milestone, contract, side = await _owned(ctx, milestone_id)
    _require(milestone, "refund")
    if not uc.refund_allowed(side, milestone, ctx.clock.now().date()):
        raise NotAllowed(
            "refund_needs_freelancer", "Ask the freelancer to cancel, or open a dispute."
        )
    split = settlement(milestone.amount, 0, contract.client_fee_bp, contract.freelancer_fee_bp)
    cur = milestone.currency
    params = {
        "title": milestone.title,
        "amount": money(milestone.amount, cur),
        "fee": money(split.to_client - milestone.amount, cur),
        "total": money(split.to_client, cur),
    }
    if side == "freelancer":
        text = t(
            "work.refund.ask_freelancer", name=await name_of(ctx, contract.client_id), **params
        )
    else:
        due = milestone.due_date.isoformat() if milestone.due_date else "—"
        text = t("work.refund.ask_client", date=due, **params)
    await ctx.edit(
        text,
        confirm_keyboard(
            t,
            t.plain("work.btn.refund_confirm"),
            WORK.data("confirm_refund", milestone_id),
            contract.id,  # type: ignore[arg-type]
        ),
    )


async def do_refund(ctx: Context, milestone_id: int) -> None:
    gateway = gateway_of(ctx)
    split = await uc.refund(ctx.uow, ctx.clock, ctx.config, gateway, ctx.user.id, milestone_id)
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    text = ctx.t(
        "work.refund.done",
        title=milestone.title,
        total=money(split.to_client, milestone.currency),
        name=await name_of(ctx, contract.client_id),
    )
    await done_with_card(ctx, text, contract.id, "work.refund.done_short")  # type: ignore[arg-type]


async def ask_cancel(ctx: Context, milestone_id: int) -> None:
    t = ctx.t
    milestone, contract, _ = await _owned(ctx, milestone_id, "client")
    _require(milestone, "cancel")
    lines = [
        t(
            "work.cancel.ask",
            title=milestone.title,
            amount=money(milestone.amount, milestone.currency),
            name=await name_of(ctx, contract.freelancer_id),
        )
    ]
    if milestone.status is MilestoneStatus.FUNDING:
        lines.append(t("work.cancel.pending_payment"))
    await ctx.edit(
        join(lines),
        confirm_keyboard(
            t,
            t.plain("work.btn.cancel_confirm"),
            WORK.data("confirm_cancel", milestone_id),
            contract.id,  # type: ignore[arg-type]
        ),
    )


async def do_cancel(ctx: Context, milestone_id: int) -> None:
    milestone = await uc.cancel_milestone(ctx.uow, ctx.clock, ctx.user.id, milestone_id)
    text = ctx.t("work.cancel.done", title=milestone.title)
    await done_with_card(ctx, text, milestone.contract_id, "work.cancel.done_short")


@WORK.on("cancel", old=("x",))
async def cancel_pressed(ctx: Context) -> None:
    if not ctx.in_step(WorkStep):
        raise StaleButton()
    await ctx.clear_state()
    await ctx.edit(ctx.t("work.cancelled"))


@WORK.on("send")
async def send_pressed(ctx: Context) -> None:
    await send_submission(ctx)


def _pressed_id(ctx: Context) -> int:
    """The milestone a "wk:<action>:<milestone>" button is about."""
    assert ctx.callback is not None
    return ctx.callback.require_id()


@WORK.on("submit", old=("sub",))
async def submit_pressed(ctx: Context) -> None:
    await start_submit(ctx, _pressed_id(ctx))


@WORK.on("view")
async def view_pressed(ctx: Context) -> None:
    await view_submission(ctx, _pressed_id(ctx))


@WORK.on("approve", old=("ap",))
async def approve_pressed(ctx: Context) -> None:
    await ask_release(ctx, _pressed_id(ctx))


@WORK.on("release", old=("rel",))
async def release_pressed(ctx: Context) -> None:
    await do_release(ctx, _pressed_id(ctx))


@WORK.on("request_changes", old=("chg",))
async def request_changes_pressed(ctx: Context) -> None:
    await ask_changes(ctx, _pressed_id(ctx))


@WORK.on("refund", old=("rf",))
async def refund_pressed(ctx: Context) -> None:
    await ask_refund(ctx, _pressed_id(ctx))


@WORK.on("confirm_refund", old=("rfok",))
async def confirm_refund_pressed(ctx: Context) -> None:
    await do_refund(ctx, _pressed_id(ctx))


@WORK.on("cancel_milestone", old=("cx",))
async def cancel_milestone_pressed(ctx: Context) -> None:
    await ask_cancel(ctx, _pressed_id(ctx))


@WORK.on("confirm_cancel", old=("cxok",))
async def confirm_cancel_pressed(ctx: Context) -> None:
    await do_cancel(ctx, _pressed_id(ctx))


# --- notifications ----------------------------------------------------------------------


@renders(WorkSubmitted, load=milestone_rows)
async def work_submitted(
    scope: Scope, event: WorkSubmitted, milestone: Milestone, contract: Contract
) -> None:
    client = await scope.uow.users.get(contract.client_id)
    if client is not None and client.unreachable:
        return
    t = await scope.translator_for(contract.client_id)
    await _send_submission(scope, t, contract.client_id, milestone, contract)


@renders(ChangesRequested, load=milestone_rows)
async def changes_requested(
    scope: Scope, event: ChangesRequested, milestone: Milestone, contract: Contract
) -> None:
    today = scope.clock.now().date()
    await scope.notify(
        contract.freelancer_id,
        "work.notify.changes",
        buttons=lambda t: submit_keyboard(t, "work.btn.resubmit", milestone, contract, today),
        name=await name_of(scope, contract.client_id),
        title=milestone.title,
        note=event.note,
    )


@renders(MilestoneReleased, load=milestone_rows)
async def milestone_released(
    scope: Scope, event: MilestoneReleased, milestone: Milestone, contract: Contract
) -> None:
    cur = milestone.currency
    net = money(event.to_freelancer, cur)
    auto = bool(event.auto)
    cid = contract.id
    await scope.notify(
        contract.freelancer_id,
        "work.notify.released_auto" if auto else "work.notify.released",
        buttons=lambda t: keyboard(
            button(t.plain("work.btn.balance"), cmd_data("balance")),
            open_contract_button(t, cid),  # type: ignore[arg-type]
        ),
        title=milestone.title,
        net=net,
        name=await name_of(scope, contract.client_id),
    )
    if auto:  # the client did not press anything: tell them what happened
        following = await next_to_fund(scope, cid)  # type: ignore[arg-type]
        await scope.notify(
            contract.client_id,
            "work.notify.auto_released_client",
            buttons=lambda t: keyboard(
                fund_next_button(t, following),
                open_contract_button(t, cid),  # type: ignore[arg-type]
            ),
            title=milestone.title,
            amount=money(milestone.amount, cur),
            name=await name_of(scope, contract.freelancer_id),
        )


@renders(ReleaseReminder, load=milestone_rows)
async def review_reminder(
    scope: Scope, event: ReleaseReminder, milestone: Milestone, contract: Contract
) -> None:
    """ "Auto-release in N hours": sent to the client with the review buttons."""
    if milestone.status is not MilestoneStatus.SUBMITTED:
        return
    hours = event.hours_left
    mid, cid = milestone.id, contract.id
    await scope.notify(
        contract.client_id,
        "work.notify.reminder",
        buttons=lambda t: review_keyboard(t, mid, cid),  # type: ignore[arg-type]
        title=milestone.title,
        hours=hours,
        name=await name_of(scope, contract.freelancer_id),
        date=_date(milestone),
    )


@renders(MilestoneRefunded, load=milestone_rows)
async def milestone_refunded(
    scope: Scope, event: MilestoneRefunded, milestone: Milestone, contract: Contract
) -> None:
    """The other party hears of a refund (the one who pressed saw the confirmation)."""
    by_client = event.refunded_by == contract.client_id
    to = contract.freelancer_id if by_client else contract.client_id
    await scope.notify(
        to,
        "work.notify.refunded_by_client" if by_client else "work.notify.refunded",
        buttons=card_keyboard(contract.id),  # type: ignore[arg-type]
        name=await name_of(scope, event.refunded_by),
        title=milestone.title,
        total=money(event.to_client, milestone.currency),
        amount=money(milestone.amount, milestone.currency),
    )


@renders(MilestoneCancelled, load=milestone_rows)
async def milestone_cancelled(
    scope: Scope, event: MilestoneCancelled, milestone: Milestone, contract: Contract
) -> None:
    cid = contract.id
    await scope.notify(
        contract.freelancer_id,
        "work.notify.cancelled",
        buttons=lambda t: keyboard(message_button(t, cid), open_contract_button(t, cid)),  # type: ignore[arg-type]
        name=await name_of(scope, contract.client_id),
        title=milestone.title,
        amount=money(milestone.amount, milestone.currency),
    )
