"""Disputes between the parties: open one on a funded milestone (reason and
evidence), answer, propose a split, accept or reject it, withdraw.

Callback data (prefix "dsp", handlers/prefixes.py DISPUTE; other flows link to the
first two; the old codes of buttons already sent, still honoured, in brackets):
- "dsp:open:<milestone_id>"  open a dispute on a milestone holding money (either party) (new)
- "dsp:view:<dispute_id>"    the dispute's card with the viewer's buttons (v)
Internal: "dsp:answer:<id>" answer (ans), "dsp:propose_split:<id>" propose a split (sp),
"dsp:confirm_split:<id>:<share>" confirm it (spok), "dsp:accept:<id>" see what accepting
means (acc), "dsp:confirm_accept:<id>:<share>" accept exactly that share (accok),
"dsp:reject:<id>" reject (rej), "dsp:withdraw:<id>" / "dsp:confirm_withdraw:<id>"
withdraw (wd, wdok), "dsp:submit" open the drafted dispute (go), "dsp:back" back to the
reason, "dsp:cancel" cancel (x), "dsp:list::<page>" my disputes, "dsp:pick::<page>"
milestones one may dispute.

/mydisputes lists one's disputes and offers "Open a dispute". The draft (milestone,
reason, evidence file ids, evidence notes) lives in the conversation state
("dispute", step). The reason stays as typed: a caption sent with evidence files,
or text sent after the reason, is an evidence note kept with those files.
Shares are the freelancer's part of the milestone amount, typed as all, none, a
percentage or an amount (domain.validation.parse_percent_or_amount); what each
side receives is computed by domain.fees.settlement, the one settlement rule.

The clock (domain.usecases.disputes, deadlines ticked by the engine): the card and
every notice end with `next_step` — what happens next and by when, in UTC, as the
reader should read it (answer by …, agree by …, waiting for an admin, who handles it).
The clock's own events (reminders, lapsed, sent to the admins, taken) are told to
both parties here; the admins' side is admin.py. Stalled escrow (a funded milestone
with no submission long past due) nudges both parties from here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from domain import validation
from domain.entities import Contract, Dispute, Milestone
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    DisputeAnswered,
    DisputeEscalated,
    DisputeLapsed,
    DisputeOpened,
    DisputeReminder,
    DisputeResolved,
    DisputeSettled,
    DisputeTaken,
    DisputeWithdrawn,
    EscrowStalled,
    FrozenResolved,
    MilestoneFrozen,
    SplitProposed,
    SplitRejected,
)
from domain.fees import Settlement, settlement
from domain.states import MILESTONE, ContractStatus, DisputeStage, DisputeStatus
from domain.usecases import disputes as uc
from domain.usecases import queries
from domain.usecases.common import load, milestone_with_contract, other_party, require_party
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import card_keyboard, open_contract_button
from handlers.events import Button, Keyboard
from handlers.helpers import gateway_of, int_arg, leave_flow, name_of, page_nav, page_of
from handlers.i18n import Translator
from handlers.notify import dispute_rows, milestone_rows, renders
from handlers.prefixes import ADMIN, DISPUTE, MESSAGE, WORK
from handlers.render import Html, button, esc, join, keyboard, money, shorten
from handlers.routing import Menu, Steps, command, step


class DisputeStep(Steps, flow="dispute"):
    """A dispute, step by step (the values are stored: never change one)."""

    REASON = "reason"
    EVIDENCE = "evidence"
    ANSWER = "answer"
    SHARE = "share"


REASON_MIN = 10
PAGE = 6
NOTE_PREVIEW = 500  # characters of one evidence note in a notification


def view_button(t: Translator, dispute_id: int) -> Button:
    return button(t.plain("dsp.btn.view"), DISPUTE.data("view", dispute_id))


def _cancel(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), DISPUTE.data("cancel"))


def split_of(contract: Contract, milestone: Milestone, share: int) -> Settlement:
    return settlement(milestone.amount, share, contract.client_fee_bp, contract.freelancer_fee_bp)


def split_lines(t: Translator, contract: Contract, milestone: Milestone, share: int) -> Html:
    """Who gets what if the freelancer's share is `share` (fees by the one rule)."""
    s = split_of(contract, milestone, share)
    cur = milestone.currency
    return t(
        "dsp.split_breakdown",
        share=money(share, cur),
        amount=money(milestone.amount, cur),
        to_freelancer=money(s.to_freelancer, cur),
        to_client=money(s.to_client, cur),
        fees=money(s.to_platform, cur),
    )


async def _load(ctx: Scope, dispute_id: int) -> tuple[Dispute, Milestone, Contract]:
    dispute = await load(ctx.uow.disputes, dispute_id, "dispute")
    milestone, contract = await milestone_with_contract(ctx.uow, dispute.milestone_id, lock=False)
    return dispute, milestone, contract


async def _party_dispute(ctx: Context, dispute_id: int) -> tuple[Dispute, Milestone, Contract]:
    dispute, milestone, contract = await _load(ctx, dispute_id)
    require_party(contract, ctx.user.id)
    return dispute, milestone, contract


def _live(dispute: Dispute) -> bool:
    return dispute.status in uc.LIVE


def _require_live(dispute: Dispute) -> None:
    if not _live(dispute):
        raise NotAllowed("dispute_closed", "This dispute is closed.")


# --- the clock: what happens next, and by when -------------------------------------------


def when(t: Translator, moment: datetime | str | None) -> str:
    """A deadline for people: in UTC, readable in their language."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime(t.plain("dsp.date_format"))


async def next_step(
    scope: Scope,
    t: Translator,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
    viewer: int,
) -> Html:
    """What happens next in a live dispute and by when, as `viewer` should read it
    (nothing once it is closed)."""
    if not _live(dispute):
        return Html("")
    if dispute.stage is DisputeStage.ADMIN:
        if dispute.handled_by is not None:
            return t("dsp.next.taken", admin=await name_of(scope, dispute.handled_by))
        return t("dsp.next.admin", since=when(t, dispute.escalated_at))
    due = when(t, dispute.due_at)
    if dispute.stage is DisputeStage.NEGOTIATION:
        return t("dsp.next.negotiation", due=due)
    opener = await name_of(scope, dispute.opened_by)
    outcome = _opener_outcome(t, dispute, milestone, contract)
    other = await name_of(scope, other_party(contract, dispute.opened_by))
    if viewer == dispute.opened_by:
        return t("dsp.next.response_opener", other=other, due=due, outcome=outcome)
    if contract.party(viewer) is None:  # an admin reads about the parties
        return t("dsp.next.response_neutral", other=other, due=due, opener=opener, outcome=outcome)
    return t("dsp.next.response", due=due, opener=opener, outcome=outcome)


def _opener_outcome(
    t: Translator, dispute: Dispute, milestone: Milestone, contract: Contract
) -> str:
    """What settling for the opener means, in money (the one settlement rule)."""
    share = uc.opener_share(dispute, milestone, contract)
    s = split_of(contract, milestone, share)
    cur = milestone.currency
    if share:
        return t.plain("dsp.outcome.release", amount=money(s.to_freelancer, cur))
    return t.plain("dsp.outcome.refund", amount=money(s.to_client, cur))


async def _tell_both(
    scope: Scope,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
    head: Callable[[Translator, int], Awaitable[Html]],
) -> None:
    """Both parties: `head` (per reader), then what happens next, with the card's buttons."""
    for user_id in (contract.client_id, contract.freelancer_id):
        t = await scope.translator_for(user_id)
        text = join(
            [
                await head(t, user_id),
                await next_step(scope, t, dispute, milestone, contract, user_id),
            ]
        )
        await scope.notify(
            user_id, text=text, buttons=_card_buttons(dispute, milestone, contract, user_id)
        )


# --- the card --------------------------------------------------------------------------


async def dispute_text(
    scope: Scope,
    t: Translator,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
    viewer: int = 0,
) -> Html:
    cur = milestone.currency
    lines = [
        t("dsp.card.title", id=dispute.id, status=t.plain(f"dsp.status.{dispute.status}")),
        t("dsp.card.contract", title=contract.title),
        t("dsp.card.milestone", title=milestone.title, amount=money(milestone.amount, cur)),
        t(
            "dsp.card.opened",
            name=await name_of(scope, dispute.opened_by),
            date=dispute.created_at.date().isoformat() if dispute.created_at else "",
        ),
        Html(""),
        t("dsp.card.reason"),
        esc(dispute.reason),
    ]
    if dispute.evidence:
        lines.append(t("dsp.card.evidence", count=len(dispute.evidence)))
    if dispute.status is DisputeStatus.SPLIT_PROPOSED and dispute.proposed_share is not None:
        lines += [
            Html(""),
            t("dsp.card.proposal", name=await name_of(scope, dispute.proposed_by or 0)),
            split_lines(t, contract, milestone, dispute.proposed_share),
        ]
    if dispute.resolution_share is not None:
        lines += [Html(""), split_lines(t, contract, milestone, dispute.resolution_share)]
    if dispute.resolution_reason:
        lines.append(t("dsp.decision_reason", reason=dispute.resolution_reason))
    upcoming = await next_step(scope, t, dispute, milestone, contract, viewer)
    if upcoming:
        lines += [Html(""), upcoming]
    return join(lines)


def dispute_buttons(
    t: Translator, dispute: Dispute, milestone: Milestone, contract: Contract, viewer_id: int
) -> Keyboard | None:
    """The viewer's buttons: what the domain lets them do now (a frozen milestone
    leaves only answering: an admin decides)."""
    did = dispute.id
    assert did is not None
    message = button(t.plain("dsp.btn.message"), MESSAGE.data("write", contract.id))
    if not _live(dispute) or contract.party(viewer_id) is None:
        return keyboard(message)
    settle = uc.parties_may_settle(milestone)
    first: list[Button] = []
    if (
        settle
        and dispute.status is DisputeStatus.SPLIT_PROPOSED
        and dispute.proposed_by != viewer_id
    ):
        first = [
            button(t.plain("dsp.btn.accept"), DISPUTE.data("accept", did)),
            button(t.plain("dsp.btn.reject"), DISPUTE.data("reject", did)),
        ]
    second = [button(t.plain("dsp.btn.answer"), DISPUTE.data("answer", did))]
    if settle:
        second.append(button(t.plain("dsp.btn.propose"), DISPUTE.data("propose_split", did)))
    withdraw = (
        button(t.plain("dsp.btn.withdraw"), DISPUTE.data("withdraw", did))
        if settle and dispute.opened_by == viewer_id
        else None
    )
    return keyboard(first or None, second, [message, withdraw] if withdraw else message)


async def show_dispute(ctx: Context, dispute_id: int, edit: bool = True) -> None:
    dispute, milestone, contract = await _party_dispute(ctx, dispute_id)
    text = await dispute_text(ctx, ctx.t, dispute, milestone, contract, ctx.user.id)
    kb = dispute_buttons(ctx.t, dispute, milestone, contract, ctx.user.id)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


# --- opening ---------------------------------------------------------------------------


async def _disputable(ctx: Context, milestone_id: int) -> tuple[Milestone, Contract]:
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    require_party(contract, ctx.user.id)
    if not MILESTONE.allows(milestone.status, "dispute"):
        raise NotAllowed(
            "milestone_not_disputable", "Only a milestone holding money can be disputed."
        )
    return milestone, contract


async def _ask_reason(ctx: Context, milestone_id: int, reason: str = "") -> None:
    milestone, contract = await _disputable(ctx, milestone_id)
    draft = {"ms": milestone_id, "reason": reason, "files": [], "notes": []}
    await ctx.set_state(DisputeStep.REASON, draft)
    await ctx.reply(
        ctx.t(
            "dsp.ask_reason",
            title=milestone.title,
            contract=contract.title,
            amount=money(milestone.amount, milestone.currency),
            min=REASON_MIN,
        ),
        keyboard(_cancel(ctx.t)),
    )


def _evidence_keyboard(t: Translator) -> Keyboard | None:
    return keyboard(
        button(t.plain("dsp.btn.submit"), DISPUTE.data("submit")),
        [button(t.plain("dsp.btn.back"), DISPUTE.data("back")), _cancel(t)],
    )


@step(DisputeStep.REASON)
async def reason_step(ctx: Context) -> None:
    data = ctx.data
    files = ctx.file_ids
    if files and not ctx.text.strip():
        await ctx.reply(ctx.t("dsp.reason_first"), keyboard(_cancel(ctx.t)))
        return
    reason = validation.clean_text(ctx.text, "reason", REASON_MIN, validation.DISPUTE_REASON_MAX)
    await _disputable(ctx, int(data["ms"]))
    data |= {"reason": reason, "files": files}
    await ctx.set_state(DisputeStep.EVIDENCE, data)
    await ctx.reply(ctx.t("dsp.ask_evidence", max=uc.MAX_EVIDENCE), _evidence_keyboard(ctx.t))


@step(DisputeStep.EVIDENCE)
async def evidence_step(ctx: Context) -> None:
    """Files, each message's caption kept with its files, and notes as text."""
    data = ctx.data
    files = list(data.get("files", [])) + ctx.file_ids
    if len(files) > uc.MAX_EVIDENCE:
        raise ValidationError("too_many_files", f"At most {uc.MAX_EVIDENCE} files.")
    notes = list(data.get("notes", []))
    if ctx.text.strip():
        note = validation.clean_text(ctx.text, "note", 1, validation.DISPUTE_REASON_MAX)
        notes.append({"text": note, "files": ctx.file_ids})
        if len(notes) > uc.MAX_EVIDENCE:
            raise ValidationError(
                "too_many_notes", f"At most {uc.MAX_EVIDENCE} notes.", max=uc.MAX_EVIDENCE
            )
    data |= {"files": files, "notes": notes}
    await ctx.set_state(DisputeStep.EVIDENCE, data)
    added = ctx.t("dsp.evidence_added", count=len(files), max=uc.MAX_EVIDENCE)
    if ctx.text.strip():
        added = join([ctx.t("dsp.note_added"), added])
    await ctx.reply(added, _evidence_keyboard(ctx.t))


async def _submit(ctx: Context) -> None:
    if not ctx.in_step(DisputeStep.EVIDENCE):
        raise StaleButton()
    data = ctx.data
    dispute = await uc.open_dispute(
        ctx.uow,
        ctx.clock,
        ctx.user.id,
        int(data["ms"]),
        str(data.get("reason", "")),
        [str(f) for f in data.get("files", [])],
        [uc.EvidenceNote(str(n["text"]), tuple(n["files"])) for n in data.get("notes", [])],
        ctx.config,
    )
    await ctx.clear_state()
    await ctx.edit(ctx.t("dsp.opened", id=dispute.id))
    await show_dispute(ctx, dispute.id, edit=False)  # type: ignore[arg-type]
    ctx.answer(ctx.t.plain("dsp.opened_short"))


# --- answering, proposing, deciding -------------------------------------------------------


async def _ask_answer(ctx: Context, dispute_id: int) -> None:
    dispute, _, _ = await _party_dispute(ctx, dispute_id)
    _require_live(dispute)
    await ctx.set_state(DisputeStep.ANSWER, {"d": dispute_id})
    await ctx.reply(ctx.t("dsp.ask_answer", id=dispute_id), keyboard(_cancel(ctx.t)))


@step(DisputeStep.ANSWER)
async def answer_step(ctx: Context) -> None:
    dispute_id = int(ctx.data["d"])
    files = ctx.file_ids
    await uc.answer_dispute(
        ctx.uow, ctx.clock, ctx.user.id, dispute_id, ctx.text, files, ctx.config
    )
    await ctx.clear_state()
    dispute, milestone, contract = await _party_dispute(ctx, dispute_id)
    upcoming = await next_step(ctx, ctx.t, dispute, milestone, contract, ctx.user.id)
    more = button(ctx.t.plain("dsp.btn.answer_more"), DISPUTE.data("answer", dispute_id))
    await ctx.reply(
        join([ctx.t("dsp.answered"), upcoming]), keyboard([more, view_button(ctx.t, dispute_id)])
    )


async def _ask_share(ctx: Context, dispute_id: int) -> None:
    dispute, milestone, _ = await _party_dispute(ctx, dispute_id)
    _require_live(dispute)
    uc.refuse_frozen(milestone)
    await ctx.set_state(DisputeStep.SHARE, {"d": dispute_id})
    await ctx.reply(
        ctx.t("dsp.ask_share", amount=money(milestone.amount, milestone.currency)),
        keyboard(_cancel(ctx.t)),
    )


@step(DisputeStep.SHARE)
async def share_step(ctx: Context) -> None:
    dispute_id = int(ctx.data["d"])
    dispute, milestone, contract = await _party_dispute(ctx, dispute_id)
    _require_live(dispute)
    share = validation.parse_percent_or_amount(ctx.text, milestone.amount, milestone.currency)
    await ctx.reply(
        join([ctx.t("dsp.confirm_proposal"), split_lines(ctx.t, contract, milestone, share)]),
        keyboard(
            [
                button(
                    ctx.t.plain("dsp.btn.send_proposal"),
                    DISPUTE.data("confirm_split", dispute_id, share),
                ),
                _cancel(ctx.t),
            ]
        ),
    )


async def _propose(ctx: Context, dispute_id: int, share: int) -> None:
    await uc.propose_split(ctx.uow, ctx.clock, ctx.user.id, dispute_id, share, ctx.config)
    if ctx.in_step(DisputeStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("dsp.proposed"))
    await show_dispute(ctx, dispute_id, edit=False)
    ctx.answer(ctx.t.plain("dsp.proposed_short"))


async def _ask_accept(ctx: Context, dispute_id: int) -> None:
    dispute, milestone, contract = await _party_dispute(ctx, dispute_id)
    uc.refuse_frozen(milestone)
    if dispute.status is not DisputeStatus.SPLIT_PROPOSED or dispute.proposed_share is None:
        raise NotAllowed("no_proposal", "There is no proposal to accept.")
    if dispute.proposed_by == ctx.user.id:
        raise NotAllowed("own_proposal", "The other party decides on your proposal.")
    share = dispute.proposed_share
    await ctx.edit(
        join([ctx.t("dsp.confirm_accept"), split_lines(ctx.t, contract, milestone, share)]),
        keyboard(
            [
                button(
                    ctx.t.plain("dsp.btn.accept_sure"),
                    DISPUTE.data("confirm_accept", dispute_id, share),
                ),
                button(ctx.t.plain("dsp.btn.back"), DISPUTE.data("view", dispute_id)),
            ]
        ),
    )


async def _accept(ctx: Context, dispute_id: int, share: int) -> None:
    """The button names the share it showed; the use case compares it under the
    lock, and a counter-proposal made since is shown instead of being accepted."""
    await _party_dispute(ctx, dispute_id)
    try:
        await uc.accept_split(
            ctx.uow, ctx.clock, ctx.config, gateway_of(ctx), ctx.user.id, dispute_id, share
        )
    except NotAllowed as err:
        if err.code != "proposal_changed":
            raise
        # Refused before anything changed: show the proposal as it is now.
        await show_dispute(ctx, dispute_id)
        ctx.answer(ctx.t.plain("dsp.proposal_changed"), alert=True)
        return
    await show_dispute(ctx, dispute_id)
    ctx.answer(ctx.t.plain("dsp.settled_short"))


async def _reject(ctx: Context, dispute_id: int) -> None:
    await uc.reject_split(ctx.uow, ctx.clock, ctx.user.id, dispute_id, ctx.config)
    await show_dispute(ctx, dispute_id)
    ctx.answer(ctx.t.plain("dsp.rejected_short"))


async def _ask_withdraw(ctx: Context, dispute_id: int) -> None:
    dispute, milestone, _ = await _party_dispute(ctx, dispute_id)
    _require_live(dispute)
    uc.refuse_frozen(milestone)
    if dispute.opened_by != ctx.user.id:
        raise NotAllowed("not_dispute_opener", "Only who opened the dispute can withdraw it.")
    await ctx.edit(
        ctx.t("dsp.confirm_withdraw", id=dispute_id),
        keyboard(
            [
                button(
                    ctx.t.plain("dsp.btn.withdraw_sure"),
                    DISPUTE.data("confirm_withdraw", dispute_id),
                ),
                button(ctx.t.plain("dsp.btn.back"), DISPUTE.data("view", dispute_id)),
            ]
        ),
    )


async def _withdraw(ctx: Context, dispute_id: int) -> None:
    await uc.withdraw_dispute(ctx.uow, ctx.clock, ctx.config, ctx.user.id, dispute_id)
    await show_dispute(ctx, dispute_id)
    ctx.answer(ctx.t.plain("dsp.withdrawn_short"))


# --- lists -------------------------------------------------------------------------------


async def _show_mine(ctx: Context, page: int) -> None:
    t = ctx.t
    contracts = {c.id: c for c in await queries.my_contracts(ctx.uow, ctx.user.id)}
    found = (
        await ctx.uow.disputes.find(order_by="-id", contract_id__in=list(contracts))
        if contracts
        else []
    )
    found.sort(key=lambda d: (not _live(d), -(d.id or 0)))  # live ones first
    pick = button(t.plain("dsp.btn.open_new"), DISPUTE.data("pick", arg=1))
    if not found:
        await ctx.edit(t("dsp.mine_empty"), keyboard(pick))
        return
    shown, page, pages = page_of(found, page, PAGE)
    rows_: list[list[Button] | None] = []
    for d in shown:
        title = shorten(contracts[d.contract_id].title, 30)
        status = t.plain(f"dsp.status.{d.status}")
        rows_.append([button(f"⚖️ #{d.id} {title} · {status}", DISPUTE.data("view", d.id))])
    await ctx.edit(
        t("dsp.mine_title", count=len(found)),
        keyboard(*rows_, page_nav(t, DISPUTE, "list", page, pages) or None, pick),
    )


async def _show_pick(ctx: Context, page: int) -> None:
    t = ctx.t
    items: list[tuple[Milestone, Contract]] = []
    disputable = MILESTONE.allowing("dispute")
    active = await queries.my_contracts(ctx.uow, ctx.user.id, (ContractStatus.ACTIVE,))
    for c in reversed(active):  # oldest first
        for m in await ctx.uow.milestones.find(
            order_by="position", contract_id=c.id, status__in=sorted(disputable)
        ):
            if m.kind != "revision":  # a paid extra revision is disputed with its order
                items.append((m, c))
    if not items:
        await ctx.edit(t("dsp.pick_empty"))
        return
    shown, page, pages = page_of(items, page, PAGE)
    rows_: list[list[Button] | None] = [
        [
            button(
                f"{shorten(c.title, 22)} · {shorten(m.title, 18)} · {money(m.amount, m.currency)}",
                DISPUTE.data("open", m.id),
            )
        ]
        for m, c in shown
    ]
    await ctx.edit(
        t("dsp.pick_title"), keyboard(*rows_, page_nav(t, DISPUTE, "pick", page, pages) or None)
    )


@command("mydisputes", order=140, menu=Menu.ANY, menu_order=100)
async def my_disputes(ctx: Context) -> None:
    await _show_mine(ctx, 1)


# --- buttons -------------------------------------------------------------------------------


def _pressed_id(ctx: Context) -> int:
    """The id a "dsp:<action>:<id>" button carries."""
    assert ctx.callback is not None
    return ctx.callback.require_id()


def _pressed_arg(ctx: Context) -> int:
    """The number a button carries after its id (a share, a page)."""
    assert ctx.callback is not None
    return int_arg(ctx.callback.arg)


@DISPUTE.on("cancel", old=("x",))
async def cancel_pressed(ctx: Context) -> None:
    await leave_flow(ctx, DisputeStep, "dsp.cancelled")
    ctx.answer()


@DISPUTE.on("open", old=("new",))
async def open_pressed(ctx: Context) -> None:
    await _ask_reason(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("back")
async def back_pressed(ctx: Context) -> None:
    if not ctx.in_step(DisputeStep.EVIDENCE):
        raise StaleButton()
    await _ask_reason(ctx, int(ctx.data["ms"]))
    ctx.answer()


@DISPUTE.on("submit", old=("go",))
async def submit_pressed(ctx: Context) -> None:
    await _submit(ctx)


@DISPUTE.on("view", old=("v",))
async def view_pressed(ctx: Context) -> None:
    await show_dispute(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("answer", old=("ans",))
async def answer_pressed(ctx: Context) -> None:
    await _ask_answer(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("propose_split", old=("sp",))
async def propose_split_pressed(ctx: Context) -> None:
    await _ask_share(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("confirm_split", old=("spok",))
async def confirm_split_pressed(ctx: Context) -> None:
    await _propose(ctx, _pressed_id(ctx), _pressed_arg(ctx))


@DISPUTE.on("accept", old=("acc",))
async def accept_pressed(ctx: Context) -> None:
    await _ask_accept(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("confirm_accept", old=("accok",))
async def confirm_accept_pressed(ctx: Context) -> None:
    await _accept(ctx, _pressed_id(ctx), _pressed_arg(ctx))


@DISPUTE.on("reject", old=("rej",))
async def reject_pressed(ctx: Context) -> None:
    await _reject(ctx, _pressed_id(ctx))


@DISPUTE.on("withdraw", old=("wd",))
async def withdraw_pressed(ctx: Context) -> None:
    await _ask_withdraw(ctx, _pressed_id(ctx))
    ctx.answer()


@DISPUTE.on("confirm_withdraw", old=("wdok",))
async def confirm_withdraw_pressed(ctx: Context) -> None:
    await _withdraw(ctx, _pressed_id(ctx))


@DISPUTE.on("list")
async def list_pressed(ctx: Context) -> None:
    await _show_mine(ctx, _pressed_arg(ctx))
    ctx.answer()


@DISPUTE.on("pick")
async def pick_pressed(ctx: Context) -> None:
    await _show_pick(ctx, _pressed_arg(ctx))
    ctx.answer()


# --- notifications -----------------------------------------------------------------------------


def evidence_notes(t: Translator, notes: list[dict[str, Any]]) -> Html:
    """The opener's evidence notes for under the reason: each caption or note with how
    many files it describes; nothing when there are none."""
    if not notes:
        return Html("")
    lines = [Html(""), Html(""), t("dsp.notes_title")]
    for note in notes:
        text, files = shorten(str(note["text"]), NOTE_PREVIEW), int(note.get("files") or 0)
        lines.append(
            t("dsp.note_files", text=text, count=files) if files else t("dsp.note", text=text)
        )
    return join(lines)


def _card_buttons(
    dispute: Dispute, milestone: Milestone, contract: Contract, recipient: int
) -> Any:
    return lambda t: dispute_buttons(t, dispute, milestone, contract, recipient)


@renders(DisputeOpened, load=dispute_rows)
async def dispute_opened(
    scope: Scope, event: DisputeOpened, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    other = other_party(contract, dispute.opened_by)
    common = {
        "id": dispute.id,
        "name": await name_of(scope, dispute.opened_by),
        "title": milestone.title,
        "contract": contract.title,
        "amount": money(milestone.amount, milestone.currency),
        "reason": shorten(dispute.reason, 1500),  # as typed: the notes come apart
    }
    notes = list(event.notes or [])

    async def notes_for(user_id: int) -> Html:
        return evidence_notes(await scope.translator_for(user_id), notes)

    t = await scope.translator_for(other)
    text = join(
        [
            t("dsp.notify_opened", notes=await notes_for(other), **common),
            Html(""),
            await next_step(scope, t, dispute, milestone, contract, other),
        ]
    )
    await scope.notify(other, text=text, buttons=_card_buttons(dispute, milestone, contract, other))
    did = dispute.id
    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(
            admin_id,
            "dsp.notify_admin_opened",
            buttons=lambda t: keyboard(
                [
                    button(t.plain("dsp.btn.evidence"), ADMIN.data("evidence", did)),
                    button(t.plain("adm.btn.take"), ADMIN.data("take", did)),
                ]
            ),
            files=len(dispute.evidence),
            notes=await notes_for(admin_id),
            **common,
        )


@renders(DisputeAnswered, load=dispute_rows)
async def dispute_answered(
    scope: Scope, event: DisputeAnswered, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    sender = event.sender_id
    other = other_party(contract, sender)
    latest = await scope.uow.messages.find(
        order_by="-id", limit=1, dispute_id=dispute.id, sender_id=sender
    )
    text = latest[0].text if latest else ""
    files = list(latest[0].files) if latest else []
    t = await scope.translator_for(other)
    said = t(
        "dsp.notify_answered",
        id=dispute.id,
        name=await name_of(scope, sender),
        body=shorten(text, 3000) if text else "📎",
    )
    await scope.notify(
        other,
        text=join([said, Html(""), await next_step(scope, t, dispute, milestone, contract, other)]),
        buttons=_card_buttons(dispute, milestone, contract, other),
    )
    for file_id in files:
        await scope.send_file(other, file_id, None, None, priority=1)


@renders(SplitProposed, load=dispute_rows)
async def split_proposed(
    scope: Scope, event: SplitProposed, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    other = other_party(contract, event.proposed_by)
    t = await scope.translator_for(other)
    text = join(
        [
            t("dsp.notify_proposed", id=dispute.id, name=await name_of(scope, event.proposed_by)),
            split_lines(t, contract, milestone, event.share),
            Html(""),
            await next_step(scope, t, dispute, milestone, contract, other),
        ]
    )
    await scope.notify(other, text=text, buttons=_card_buttons(dispute, milestone, contract, other))


@renders(SplitRejected, load=dispute_rows)
async def split_rejected(
    scope: Scope, event: SplitRejected, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    other = other_party(contract, event.rejected_by)
    t = await scope.translator_for(other)
    said = t("dsp.notify_rejected", id=dispute.id, name=await name_of(scope, event.rejected_by))
    await scope.notify(
        other,
        text=join([said, await next_step(scope, t, dispute, milestone, contract, other)]),
        buttons=_card_buttons(dispute, milestone, contract, other),
    )


@renders(DisputeWithdrawn, load=dispute_rows)
async def dispute_withdrawn(
    scope: Scope,
    event: DisputeWithdrawn,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
) -> None:
    other = other_party(contract, event.withdrawn_by)
    await scope.notify(
        other,
        "dsp.notify_withdrawn",
        buttons=lambda t: keyboard(view_button(t, dispute.id)),  # type: ignore[arg-type]
        id=dispute.id,
        name=await name_of(scope, event.withdrawn_by),
        title=milestone.title,
    )


def _outcome(
    kind: type[DisputeSettled | DisputeResolved], key: str
) -> Callable[..., Awaitable[None]]:
    """Both parties hear how a dispute ended: who gets what."""

    @renders(kind, load=dispute_rows)
    async def tell(
        scope: Scope,
        event: DisputeSettled | DisputeResolved,
        dispute: Dispute,
        milestone: Milestone,
        contract: Contract,
    ) -> None:
        cur = milestone.currency
        reason = getattr(event, "reason", "")
        for user_id in (contract.client_id, contract.freelancer_id):
            t = await scope.translator_for(user_id)
            text = t(
                key,
                id=dispute.id,
                title=milestone.title,
                to_freelancer=money(event.to_freelancer, cur),
                to_client=money(event.to_client, cur),
                freelancer=await name_of(scope, contract.freelancer_id),
                client=await name_of(scope, contract.client_id),
            )
            if reason:
                text = join([text, Html(""), t("dsp.decision_reason", reason=reason)])
            await scope.notify(
                user_id,
                text=text,
                buttons=lambda t: keyboard(view_button(t, dispute.id)),  # type: ignore[arg-type]
            )

    return tell


dispute_settled = _outcome(DisputeSettled, "dsp.notify_settled")
dispute_resolved = _outcome(DisputeResolved, "dsp.notify_resolved")


# --- the clock's steps, told to both parties ---------------------------------------------------


@renders(DisputeReminder, load=dispute_rows)
async def dispute_reminder(
    scope: Scope, event: DisputeReminder, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    async def head(t: Translator, _: int) -> Html:
        return t(
            "dsp.notify_reminder", id=dispute.id, title=milestone.title, hours=event.hours_left
        )

    await _tell_both(scope, dispute, milestone, contract, head)


@renders(DisputeLapsed, load=dispute_rows)
async def dispute_lapsed(
    scope: Scope, event: DisputeLapsed, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    cur = milestone.currency
    params = {
        "id": dispute.id,
        "title": milestone.title,
        "opener": await name_of(scope, event.opened_by),
        "other": await name_of(scope, other_party(contract, event.opened_by)),
        "freelancer": await name_of(scope, contract.freelancer_id),
        "client": await name_of(scope, contract.client_id),
        "to_freelancer": money(event.to_freelancer, cur),
        "to_client": money(event.to_client, cur),
    }
    for user_id in (contract.client_id, contract.freelancer_id):
        await scope.notify(
            user_id,
            "dsp.notify_lapsed",
            buttons=lambda t: keyboard(view_button(t, dispute.id)),  # type: ignore[arg-type]
            **params,
        )


@renders(DisputeEscalated, load=dispute_rows)
async def dispute_escalated(
    scope: Scope,
    event: DisputeEscalated,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
) -> None:
    async def head(t: Translator, _: int) -> Html:
        return t("dsp.notify_escalated", id=dispute.id, title=milestone.title)

    await _tell_both(scope, dispute, milestone, contract, head)


@renders(DisputeTaken, load=dispute_rows)
async def dispute_taken(
    scope: Scope, event: DisputeTaken, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    admin = await name_of(scope, event.admin_id)

    async def head(t: Translator, _: int) -> Html:
        return t("dsp.notify_taken", id=dispute.id, title=milestone.title, admin=admin)

    await _tell_both(scope, dispute, milestone, contract, head)


# --- stalled escrow: funded, due long ago, nothing submitted -----------------------------


@renders(EscrowStalled, load=milestone_rows)
async def escrow_stalled(
    scope: Scope, event: EscrowStalled, milestone: Milestone, contract: Contract
) -> None:
    """Both parties: the money waits on work that has not come; what each can do,
    and when they will hear again."""
    mid, cid = milestone.id, contract.id
    assert mid is not None and cid is not None
    for user_id, key in (
        (contract.client_id, "dsp.stalled.client"),
        (contract.freelancer_id, "dsp.stalled.freelancer"),
    ):
        t = await scope.translator_for(user_id)
        other = other_party(contract, user_id)
        act = (
            button(t.plain("dsp.btn.dispute_stalled"), DISPUTE.data("open", mid))
            if user_id == contract.client_id
            else button(t.plain("funding.btn.submit"), WORK.data("submit", mid))
        )
        await scope.notify(
            user_id,
            key,
            buttons=lambda t, act=act: keyboard(  # type: ignore[misc]
                [act, button(t.plain("dsp.btn.message"), MESSAGE.data("write", cid))],
                open_contract_button(t, cid),
            ),
            title=milestone.title,
            contract=contract.title,
            amount=money(milestone.amount, milestone.currency),
            due=event.due_date,
            days=event.days_overdue,
            name=await name_of(scope, other),
            next=when(t, event.next_nudge),
        )


# --- chargebacks: the parties' side (the admins' is admin.py) -------------------------------


async def _tell_parties(
    scope: Scope, event: MilestoneFrozen | FrozenResolved, key: str, **params: object
) -> None:
    milestone = await scope.uow.milestones.get(event.milestone_id)
    contract = await scope.uow.contracts.get(event.contract_id)
    if milestone is None or contract is None:
        return
    cur = milestone.currency
    for user_id in (contract.client_id, contract.freelancer_id):
        await scope.notify(
            user_id,
            key,
            buttons=card_keyboard(contract.id),  # type: ignore[arg-type]
            title=milestone.title,
            contract=contract.title,
            amount=money(milestone.amount, cur),
            **{k: money(v, cur) if isinstance(v, int) else v for k, v in params.items()},
        )


@renders(MilestoneFrozen)
async def milestone_frozen(scope: Scope, event: MilestoneFrozen) -> None:
    """Both parties: the payment was disputed with the bank; an admin decides."""
    await _tell_parties(scope, event, "dsp.notify_frozen")


@renders(FrozenResolved)
async def frozen_resolved(scope: Scope, event: FrozenResolved) -> None:
    await _tell_parties(
        scope,
        event,
        "dsp.notify_frozen_resolved",
        to_freelancer=int(event.to_freelancer),
        to_client=int(event.to_client),
    )
