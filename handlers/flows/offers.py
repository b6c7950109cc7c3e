"""Hire: the offer wizard (milestones: title, amount, due date; review with fees;
send), accept / decline / propose changes, accept a counter or revise, withdraw,
and adding a milestone to an active contract (the same wizard).

Callback data (prefix "of", handlers/prefixes.py OFFER; the first two are the entry
points other flows use; the old codes of buttons already sent, still honoured, in
brackets):
- "of:hire:<pitch id>"                Hire from a pitch (client's pitch list) (new)
- "of:hire_invited:<job id>:<freelancer id>"
                                      Hire an invited freelancer who has not pitched (inv)
- "of:accept:<contract>" / "of:decline:<contract>" / "of:counter:<contract>"
                                      freelancer: accept / decline / propose changes
                                      (acc, dec, ctr)
- "of:accept_counter:<contract>" / "of:revise:<contract>"
                                      client: accept the proposed changes / revise
                                      (cacc, rev)
- "of:withdraw:<contract>"            client: withdraw a pending offer (wd)
- "of:add_milestone:<contract>"       client: add a milestone to an active contract (addms)
- "of:close_job:<job>" / "of:keep_open:<job>"
                                      client, after a hire: close the job to new
                                      pitches / put it back on the market
- wizard: "of:more" (add a milestone), "of:remove::<index>" (remove one) (rm), "of:skip"
  (no due date), "of:back", "of:send", "of:cancel" (x)

The wizard's draft lives in the conversation state ("offer", step), so a restart
loses nothing: {"mode", "job", "fl", "contract", "cur", "cbp", "fbp", "ms": [[title,
amount, due iso | None], …], "cur_t", "cur_a"}.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain import validation
from domain.entities import Contract, Job, Milestone
from domain.errors import IllegalTransition, NotAllowed
from domain.events import (
    ContractEvent,
    CounterAccepted,
    JobHeldAfterHire,
    MilestoneAdded,
    OfferAccepted,
    OfferCountered,
    OfferDeclined,
    OfferExpired,
    OfferRevised,
    OfferSent,
    OfferWithdrawn,
)
from domain.fees import fee
from domain.money import parse_money
from domain.states import MILESTONE, PITCH, ContractStatus
from domain.usecases import contracts as uc
from domain.usecases import jobs as jobs_uc
from domain.usecases import proposals
from domain.usecases import saved as saved_uc
from domain.usecases.common import load, other_party, require_party
from domain.usecases.visibility import owned_job
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import milestone_line, milestones_of, open_contract_button
from handlers.events import Button, Keyboard
from handlers.flows import timesheet
from handlers.flows.blocking import block_button
from handlers.flows.cancel import confirm_discard, offer_draft
from handlers.helpers import name_of, percent
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import FUND, OFFER
from handlers.render import Html, bold, button, join, keyboard, money, rows
from handlers.routing import Steps, resumes, step


class OfferStep(Steps, flow="offer", drafts=True):
    """The offer wizard, step by step (the values are stored: never change one).
    Left by another command it is kept as a draft, one per offer (or contract)."""

    TITLE = "title"
    AMOUNT = "amount"
    DUE = "due"
    REVIEW = "review"

    @classmethod
    def draft_subject(cls, data: dict[str, Any]) -> str | None:
        mode = data.get("mode")
        if mode == "new":
            return f"new:{data.get('job')}:{data.get('fl')}"
        return f"{mode}:{data.get('contract')}" if mode in MODES else None

    @classmethod
    def answered(cls, data: dict[str, Any]) -> int:
        """Each milestone's title, amount and due date; the one being written."""
        writing = sum(1 for name in ("cur_t", "cur_a") if name in data)
        return 3 * len(data.get("ms") or []) + writing


MODES = ("new", "counter", "revise", "add", "rehire")  # rehire: flows/saved.py


# --- the draft ----------------------------------------------------------------------


def _specs(data: dict[str, Any]) -> list[uc.MilestoneSpec]:
    return [
        uc.MilestoneSpec(title, amount, date.fromisoformat(due) if due else None)
        for title, amount, due in data.get("ms", [])
    ]


def _draft_lines(t: Translator, data: dict[str, Any]) -> list[Html]:
    cur = data["cur"]
    lines = []
    for i, (title, amount, due) in enumerate(data.get("ms", []), start=1):
        parts = [bold(title), money(amount, cur)]
        if due:
            parts.append(t("contracts.due", date=due))
        lines.append(Html(f"{i}. ") + join(parts, " — "))
    return lines


def fee_lines(
    t: Translator,
    subtotal: int,
    currency: str,
    client_bp: int,
    free_bp: int,
    reader: str | None = None,
) -> Html:
    """The one fee rule (domain.fees), spelled out before anyone agrees or pays;
    worded for the `reader` ("client" or "freelancer": "You pay …", "You receive …")."""
    client_fee = fee(subtotal, client_bp)
    you = {"client": "offers.fees.client_you", "freelancer": "offers.fees.freelancer_you"}
    return join(
        [
            t("offers.fees.subtotal", amount=money(subtotal, currency)),
            t(
                you["client"] if reader == "client" else "offers.fees.client",
                percent=percent(client_bp),
                fee=money(client_fee, currency),
                total=money(subtotal + client_fee, currency),
            ),
            t(
                you["freelancer"] if reader == "freelancer" else "offers.fees.freelancer",
                percent=percent(free_bp),
                net=money(subtotal - fee(subtotal, free_bp), currency),
            ),
        ]
    )


def _cancel(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), OFFER.data("cancel"))


async def _ask_title(ctx: Context, data: dict[str, Any], edit: bool = False) -> None:
    await ctx.set_state(OfferStep.TITLE, data)
    t = ctx.t
    back = button(t.plain("offers.btn.back"), OFFER.data("back")) if data.get("ms") else None
    text = t("offers.ask_title", n=len(data.get("ms", [])) + 1)
    kb = keyboard([b for b in (back, _cancel(t)) if b])
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


async def _ask_amount(ctx: Context, data: dict[str, Any], edit: bool = False) -> None:
    await ctx.set_state(OfferStep.AMOUNT, data)
    t = ctx.t
    text = t("offers.ask_amount", title=data["cur_t"], currency=data["cur"])
    kb = keyboard([button(t.plain("offers.btn.back"), OFFER.data("back")), _cancel(t)])
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


async def _ask_due(ctx: Context, data: dict[str, Any]) -> None:
    await ctx.set_state(OfferStep.DUE, data)
    t = ctx.t
    await ctx.reply(
        t("offers.ask_due", title=data["cur_t"]),
        keyboard(
            button(t.plain("offers.btn.skip_due"), OFFER.data("skip")),
            [button(t.plain("offers.btn.back"), OFFER.data("back")), _cancel(t)],
        ),
    )


async def _review(ctx: Context, data: dict[str, Any], edit: bool = False) -> None:
    """The whole draft with the fees, and what can be done with it."""
    data.pop("cur_t", None)
    data.pop("cur_a", None)
    await ctx.set_state(OfferStep.REVIEW, data)
    t, mode, ms = ctx.t, data["mode"], data.get("ms", [])
    subtotal = sum(amount for _, amount, _ in ms)
    lines = [t(f"offers.review.{mode}", title=data.get("title", ""))]
    if isinstance(data.get("fl"), int):  # whom the client is hiring, and their record
        record = await track_record.freelancer_of(ctx.uow, ctx.clock, data["fl"])
        lines.append(track_record.freelancer_record(t, record))
    lines.append(Html(""))
    lines += _draft_lines(t, data) or [t("offers.review.empty")]
    if ms:
        lines += [
            Html(""),
            fee_lines(t, subtotal, data["cur"], data["cbp"], data["fbp"], reader="client"),
        ]
    more_allowed = len(ms) < uc.MAX_MILESTONES and not (mode == "add" and ms)
    more = button(t.plain("offers.btn.more"), OFFER.data("more")) if more_allowed else None
    remove = [
        button(t.plain("offers.btn.remove", n=i), OFFER.data("remove", arg=i))
        for i in range(1, len(ms) + 1)
    ]
    send = button(t.plain(f"offers.btn.send_{mode}"), OFFER.data("send")) if ms else None
    await (ctx.edit if edit else ctx.reply)(
        join(lines), keyboard(more, *rows(remove, 5), send, _cancel(t))
    )


async def _start(ctx: Context, data: dict[str, Any], title: str) -> None:
    data = {"title": title, "ms": [], **data}
    if await offer_draft(ctx, OfferStep, data):
        return
    if data["ms"]:
        await _review(ctx, data)
    else:
        await _ask_title(ctx, data)
    ctx.answer()


# --- entry points -------------------------------------------------------------------


async def _hireable_job(ctx: Context, job_id: int, freelancer_id: int) -> Job:
    """Checks the client can offer now (send_offer checks again when sending)."""
    job = await owned_job(ctx.uow, ctx.user.id, job_id)
    if job.status not in uc.HIRING:
        raise NotAllowed("job_not_open", "Offers can be sent on open jobs only.")
    if await ctx.uow.contracts.count(
        job_id=job_id, freelancer_id=freelancer_id, status__in=uc.LIVE_CONTRACT
    ):
        raise NotAllowed("offer_exists", "There is already an offer or contract for this job.")
    return job


def _pitch_milestones(proposed: list[Any]) -> list[list[Any]]:
    """A pitch's proposed milestones as a starting draft, when they are well formed."""
    out = []
    for item in proposed or []:
        if not isinstance(item, dict):
            return []
        title, amount = item.get("title"), item.get("amount")
        if not isinstance(title, str) or not isinstance(amount, int) or amount <= 0:
            return []
        out.append([title[: validation.MILESTONE_TITLE_MAX], amount, None])
    return out[: uc.MAX_MILESTONES]


def _base(ctx: Context, mode: str, job: Job, freelancer_id: int) -> dict[str, Any]:
    return {
        "mode": mode,
        "job": job.id,
        "fl": freelancer_id,
        "cur": job.currency,
        "cbp": ctx.config.client_fee_bp,
        "fbp": ctx.config.freelancer_fee_bp,
    }


async def hire_from_pitch(ctx: Context, pitch_id: int) -> None:
    pitch = await ctx.uow.pitches.get(pitch_id)
    if pitch is None:
        raise StaleButton()
    job = await _hireable_job(ctx, pitch.job_id, pitch.freelancer_id)
    if not PITCH.allows(pitch.status, "hire"):
        raise NotAllowed("pitch_not_pending", "This pitch was withdrawn or declined.")
    if job.budget_type == "hourly":  # a rate and a weekly limit, not milestones
        await timesheet.start_hourly_offer(ctx, job, pitch.freelancer_id, pitch.price)
        return
    data = _base(ctx, "new", job, pitch.freelancer_id)
    data["ms"] = _pitch_milestones(pitch.proposed_milestones)
    await _start(ctx, data, job.title)


async def hire_invited(ctx: Context, job_id: int, freelancer_id: int) -> None:
    job = await _hireable_job(ctx, job_id, freelancer_id)
    if not await ctx.uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id):
        raise NotAllowed("no_pitch", "Offers go to freelancers who pitched or were invited.")
    if job.budget_type == "hourly":  # at the job's rate
        await timesheet.start_hourly_offer(ctx, job, freelancer_id, job.budget)
        return
    await _start(ctx, _base(ctx, "new", job, freelancer_id), job.title)


async def hire_again(ctx: Context, contract_id: int) -> None:
    """🔁 Hire again: the offer wizard at its review, prefilled from an ended
    contract (its title and work milestones, no dates); sent as a direct offer
    (domain.usecases.saved.send_rehire_offer)."""
    old = await saved_uc.rehire_source(ctx.uow, ctx.user.id, contract_id)
    found = await ctx.uow.milestones.find(contract_id=contract_id, order_by="position")
    # The agreed terms, whatever became of each milestone (bonuses were not terms).
    ms = [[m.title, m.amount, None] for m in found if getattr(m, "kind", "work") != "bonus"]
    ms = ms[: uc.MAX_MILESTONES]
    data = {
        "mode": "rehire",
        "contract": contract_id,
        "fl": old.freelancer_id,
        "cur": old.currency,
        "cbp": ctx.config.client_fee_bp,
        "fbp": ctx.config.freelancer_fee_bp,
        "ms": ms,
    }
    await _start(ctx, data, old.title)


async def _live_contract(
    ctx: Context, contract_id: int, role: str | None, *states: ContractStatus
) -> Contract:
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id, role)
    if contract.status not in states:
        raise IllegalTransition("contract", str(contract.status), "change")
    return contract


def _contract_data(mode: str, contract: Contract, ms: list[Milestone]) -> dict[str, Any]:
    return {
        "mode": mode,
        "contract": contract.id,
        "cur": contract.currency,
        "cbp": contract.client_fee_bp,
        "fbp": contract.freelancer_fee_bp,
        "ms": [[m.title, m.amount, m.due_date.isoformat() if m.due_date else None] for m in ms],
    }


async def start_counter(ctx: Context, contract_id: int) -> None:
    contract = await _live_contract(ctx, contract_id, "freelancer", ContractStatus.OFFERED)
    ms = await milestones_of(ctx, contract_id)
    await _start(ctx, _contract_data("counter", contract, ms), contract.title)


async def start_revise(ctx: Context, contract_id: int) -> None:
    contract = await _live_contract(ctx, contract_id, "client", ContractStatus.COUNTERED)
    ms = await milestones_of(ctx, contract_id)
    await _start(ctx, _contract_data("revise", contract, ms), contract.title)


async def start_add(ctx: Context, contract_id: int) -> None:
    # Either party proposes it; the other accepts (domain/usecases/proposals.py).
    contract = await _live_contract(ctx, contract_id, None, ContractStatus.ACTIVE)
    await _start(ctx, _contract_data("add", contract, []), contract.title)


# --- wizard steps (text) --------------------------------------------------------------


async def _text_only(ctx: Context) -> bool:
    if ctx.event.kind == "file":
        await ctx.reply(ctx.t("offers.text_only"))
        return False
    return True


@step(OfferStep.TITLE)
async def title_step(ctx: Context) -> None:
    if not await _text_only(ctx):
        return
    data = ctx.data
    data["cur_t"] = validation.clean_text(
        ctx.text, "milestone_title", 1, validation.MILESTONE_TITLE_MAX
    )
    await _ask_amount(ctx, data)


@step(OfferStep.AMOUNT)
async def amount_step(ctx: Context) -> None:
    if not await _text_only(ctx):
        return
    data = ctx.data
    data["cur_a"] = parse_money(ctx.text, data["cur"]).amount
    await _ask_due(ctx, data)


@step(OfferStep.DUE)
async def due_step(ctx: Context) -> None:
    if not await _text_only(ctx):
        return
    data = ctx.data
    due = validation.parse_date(ctx.text, ctx.clock.now().date())
    await _add_current(ctx, data, due.isoformat())


async def _add_current(
    ctx: Context, data: dict[str, Any], due: str | None, edit: bool = False
) -> None:
    if "cur_t" not in data or "cur_a" not in data:
        raise StaleButton()
    data["ms"] = [*data.get("ms", []), [data["cur_t"], data["cur_a"], due]]
    await _review(ctx, data, edit)


@step(OfferStep.REVIEW)
async def review_step(ctx: Context) -> None:
    await ctx.reply(ctx.t("offers.use_buttons"))


@resumes(OfferStep)
async def resume(ctx: Context) -> None:
    """A continued draft: its step asked again (or the review shown)."""
    data, at = ctx.data, ctx.state.step if ctx.state else ""
    if at == OfferStep.TITLE:
        await _ask_title(ctx, data, edit=True)
    elif at == OfferStep.AMOUNT:
        await _ask_amount(ctx, data, edit=True)
    elif at == OfferStep.DUE:
        await _ask_due(ctx, data)
    else:
        await _review(ctx, data, edit=True)


# --- wizard buttons ----------------------------------------------------------------


def _wizard(ctx: Context, *steps: OfferStep) -> dict[str, Any]:
    """The draft, for a wizard button pressed at one of `steps` (any step if none);
    a press at another step, or outside the wizard, is stale."""
    step_now = ctx.state.step if ctx.state else None
    if not ctx.in_step(OfferStep) or (steps and step_now not in steps):
        raise StaleButton()
    return ctx.data


@OFFER.on("cancel", old=("x",), wizard=True)
async def cancel_pressed(ctx: Context) -> None:
    _wizard(ctx)
    if await confirm_discard(ctx, OfferStep.REVIEW):
        return
    await ctx.clear_state()
    await ctx.edit(ctx.t("offers.cancelled"))


@OFFER.on("more", wizard=True)
async def more_pressed(ctx: Context) -> None:
    await _ask_title(ctx, _wizard(ctx, OfferStep.REVIEW), edit=True)


@OFFER.on("remove", old=("rm",), wizard=True)
async def remove_pressed(ctx: Context) -> None:
    data = _wizard(ctx, OfferStep.REVIEW)
    arg = ctx.callback.arg if ctx.callback else None
    if not arg or not arg.isdigit():
        raise StaleButton()
    index = int(arg) - 1
    if not 0 <= index < len(data.get("ms", [])):
        raise StaleButton()
    data["ms"] = [m for i, m in enumerate(data["ms"]) if i != index]
    await _review(ctx, data, edit=True)


@OFFER.on("skip", wizard=True)
async def skip_pressed(ctx: Context) -> None:
    await _add_current(ctx, _wizard(ctx, OfferStep.DUE), None, edit=True)


@OFFER.on("back", wizard=True)
async def back_pressed(ctx: Context) -> None:
    data = _wizard(ctx)
    step_now = ctx.state.step  # type: ignore[union-attr]
    if step_now == OfferStep.DUE:
        await _ask_amount(ctx, data, edit=True)
    elif step_now == OfferStep.AMOUNT:
        await _ask_title(ctx, data, edit=True)
    elif step_now == OfferStep.TITLE and data.get("ms"):
        await _review(ctx, data, edit=True)
    else:
        raise StaleButton()


@OFFER.on("send", wizard=True)
async def send_pressed(ctx: Context) -> None:
    await _send(ctx, _wizard(ctx, OfferStep.REVIEW))


async def _send(ctx: Context, data: dict[str, Any]) -> None:
    t, mode, specs = ctx.t, data.get("mode"), _specs(data)
    if mode == "new":
        contract = await uc.send_offer(
            ctx.uow, ctx.clock, ctx.config, ctx.user.id, data["job"], data["fl"], specs
        )
        text = t(
            "offers.sent",
            name=await name_of(ctx, contract.freelancer_id),
            date=_expiry(contract),
        )
    elif mode == "rehire":
        contract = await saved_uc.send_rehire_offer(
            ctx.uow, ctx.clock, ctx.config, ctx.user.id, data["contract"], specs
        )
        text = t(
            "offers.sent",
            name=await name_of(ctx, contract.freelancer_id),
            date=_expiry(contract),
        )
    elif mode == "counter":
        contract = await uc.counter_offer(ctx.uow, ctx.clock, ctx.user.id, data["contract"], specs)
        text = t("offers.counter_sent", name=await name_of(ctx, contract.client_id))
    elif mode == "revise":
        contract = await uc.revise_offer(
            ctx.uow, ctx.clock, ctx.config, ctx.user.id, data["contract"], specs
        )
        text = t("offers.revised", name=await name_of(ctx, contract.freelancer_id))
    elif mode == "add":
        if len(specs) != 1:
            raise StaleButton()
        milestone = await proposals.propose_milestone(
            ctx.uow, ctx.clock, ctx.user.id, data["contract"], specs[0]
        )
        await ctx.clear_state()
        found = await load(ctx.uow.contracts, milestone.contract_id, "contract")
        other = other_party(found, ctx.user.id)
        await ctx.edit(
            t("proposal.sent", title=milestone.title, name=await name_of(ctx, other)),
            keyboard(open_contract_button(t, milestone.contract_id)),
        )
        ctx.answer(t.plain("offers.done_short"))
        return
    else:
        raise StaleButton()
    await ctx.clear_state()
    await ctx.edit(text, keyboard(open_contract_button(t, contract.id)))  # type: ignore[arg-type]
    ctx.answer(t.plain("offers.done_short"))


def _expiry(contract: Contract) -> str:
    return contract.expires_at.date().isoformat() if contract.expires_at else "—"


# --- decisions ------------------------------------------------------------------------


async def _accept(ctx: Context, contract_id: int) -> None:
    contract = await uc.accept_offer(ctx.uow, ctx.clock, ctx.user.id, contract_id)
    no_limit = await timesheet.is_no_limit(ctx, contract_id)  # nothing will be funded
    await ctx.edit(
        ctx.t(
            "ts.accepted_you_nolimit" if no_limit else "offers.accepted_you", title=contract.title
        ),
        keyboard(open_contract_button(ctx.t, contract_id)),
    )


async def _decline(ctx: Context, contract_id: int) -> None:
    contract = await uc.decline_offer(ctx.uow, ctx.clock, ctx.user.id, contract_id)
    await ctx.edit(ctx.t("offers.declined_you", title=contract.title))


async def _accept_counter(ctx: Context, contract_id: int) -> None:
    contract = await uc.accept_counter(ctx.uow, ctx.clock, ctx.user.id, contract_id)
    await ctx.edit(
        ctx.t("offers.counter_accepted_you", title=contract.title),
        await _fund_first_keyboard(ctx, ctx.t, contract),
    )


async def _withdraw(ctx: Context, contract_id: int) -> None:
    contract = await uc.withdraw_offer(ctx.uow, ctx.clock, ctx.user.id, contract_id)
    await ctx.edit(ctx.t("offers.withdrawn_you", title=contract.title))


def _pressed_id(ctx: Context) -> int:
    """The id an "of:<action>:<id>" button carries."""
    assert ctx.callback is not None
    return ctx.callback.require_id()


@OFFER.on("hire", old=("new",))
async def hire_pressed(ctx: Context) -> None:
    await hire_from_pitch(ctx, _pressed_id(ctx))


@OFFER.on("hire_invited", old=("inv",))
async def hire_invited_pressed(ctx: Context) -> None:
    freelancer = ctx.callback.arg if ctx.callback else None
    if freelancer is None or not freelancer.isdigit():
        raise StaleButton()
    await hire_invited(ctx, _pressed_id(ctx), int(freelancer))


@OFFER.on("counter", old=("ctr",))
async def counter_pressed(ctx: Context) -> None:
    await start_counter(ctx, _pressed_id(ctx))


@OFFER.on("revise", old=("rev",))
async def revise_pressed(ctx: Context) -> None:
    await start_revise(ctx, _pressed_id(ctx))


@OFFER.on("add_milestone", old=("addms",))
async def add_milestone_pressed(ctx: Context) -> None:
    await start_add(ctx, _pressed_id(ctx))


async def _decide(ctx: Context, decision: Any) -> None:
    """A decision on an offer; it ends any half-written counter."""
    contract_id = _pressed_id(ctx)
    if ctx.in_step(OfferStep):
        await ctx.clear_state()
    await decision(ctx, contract_id)


@OFFER.on("accept", old=("acc",))
async def accept_pressed(ctx: Context) -> None:
    await _decide(ctx, _accept)


@OFFER.on("decline", old=("dec",))
async def decline_pressed(ctx: Context) -> None:
    await _decide(ctx, _decline)


@OFFER.on("accept_counter", old=("cacc",))
async def accept_counter_pressed(ctx: Context) -> None:
    await _decide(ctx, _accept_counter)


@OFFER.on("withdraw", old=("wd",))
async def withdraw_pressed(ctx: Context) -> None:
    await _decide(ctx, _withdraw)


# --- notifications ---------------------------------------------------------------------


async def offer_text(scope: Scope, t: Translator, contract: Contract, key: str) -> Html:
    milestones = await milestones_of(scope, contract.id)  # type: ignore[arg-type]
    subtotal = sum(m.amount for m in milestones)
    return join(
        [
            t(key, name=await name_of(scope, contract.client_id), title=contract.title),
            track_record.client_record(
                t, await track_record.client_of(scope.uow, scope.config, contract.client_id)
            ),
            Html(""),
            *(milestone_line(t, m, with_status=False) for m in milestones),
            # An hourly offer's rate and weekly limit.
            *[x for x in [await timesheet.offer_terms(scope, t, contract)] if x],
            Html(""),
            # An hourly offer with no limit has nothing to fund yet (its warning says so).
            *(
                [
                    fee_lines(
                        t,
                        subtotal,
                        contract.currency,
                        contract.client_fee_bp,
                        contract.freelancer_fee_bp,
                        reader="freelancer",
                    )
                ]
                if milestones
                else []
            ),
            t("offers.expires", date=_expiry(contract)),
        ]
    )


def _decision_keyboard(
    t: Translator, contract_id: int, client_id: int | None = None
) -> Keyboard | None:
    return keyboard(
        [
            button(t.plain("offers.btn.accept"), OFFER.data("accept", contract_id)),
            button(t.plain("offers.btn.decline"), OFFER.data("decline", contract_id)),
        ],
        button(t.plain("offers.btn.counter"), OFFER.data("counter", contract_id)),
        block_button(t, client_id) if client_id is not None else None,
    )


async def _fund_first_keyboard(scope: Scope, t: Translator, contract: Contract) -> Keyboard | None:
    pending = [
        m
        for m in await milestones_of(scope, contract.id)  # type: ignore[arg-type]
        if MILESTONE.allows(m.status, "fund")
    ]
    fund = (
        button(
            t.plain("offers.btn.fund_first", n=pending[0].position),
            FUND.data("quote", pending[0].id),
        )
        if pending
        else None
    )
    return keyboard(fund, open_contract_button(t, contract.id))  # type: ignore[arg-type]


async def _contract(scope: Scope, event: ContractEvent) -> Contract | None:
    return await scope.uow.contracts.get(event.contract_id)


async def _offer_to_freelancer(scope: Scope, event: ContractEvent, key: str) -> None:
    contract = await _contract(scope, event)
    if contract is None:
        return
    t = await scope.translator_for(contract.freelancer_id)
    await scope.notify(
        contract.freelancer_id,
        text=await offer_text(scope, t, contract, key),
        buttons=_decision_keyboard(t, contract.id, contract.client_id),  # type: ignore[arg-type]
    )


@renders(OfferSent)
async def offer_sent(scope: Scope, event: OfferSent) -> None:
    await _offer_to_freelancer(scope, event, "offers.notify.offer")


@renders(OfferRevised)
async def offer_revised(scope: Scope, event: OfferRevised) -> None:
    await _offer_to_freelancer(scope, event, "offers.notify.revised")


@renders(OfferCountered)
async def offer_countered(scope: Scope, event: OfferCountered) -> None:
    contract = await _contract(scope, event)
    if contract is None:
        return
    t = await scope.translator_for(contract.client_id)
    milestones = await milestones_of(scope, contract.id)  # type: ignore[arg-type]
    subtotal = sum(m.amount for m in milestones)
    text = join(
        [
            t(
                "offers.notify.countered",
                name=await name_of(scope, contract.freelancer_id),
                title=contract.title,
            ),
            track_record.freelancer_record(
                t, await track_record.freelancer_of(scope.uow, scope.clock, contract.freelancer_id)
            ),
            Html(""),
            *(milestone_line(t, m, with_status=False) for m in milestones),
            Html(""),
            fee_lines(
                t,
                subtotal,
                contract.currency,
                contract.client_fee_bp,
                contract.freelancer_fee_bp,
                reader="client",
            ),
        ]
    )
    cid = contract.id
    await scope.notify(
        contract.client_id,
        text=text,
        buttons=keyboard(
            [
                button(t.plain("offers.btn.accept_counter"), OFFER.data("accept_counter", cid)),
                button(t.plain("offers.btn.revise"), OFFER.data("revise", cid)),
            ],
            button(t.plain("offers.btn.withdraw"), OFFER.data("withdraw", cid)),
        ),
    )


@renders(OfferAccepted)
async def offer_accepted(scope: Scope, event: OfferAccepted) -> None:
    contract = await _contract(scope, event)
    if contract is None:
        return
    t = await scope.translator_for(contract.client_id)
    no_limit = await timesheet.is_no_limit(scope, contract.id)  # type: ignore[arg-type]
    await scope.notify(
        contract.client_id,
        text=t(
            "ts.notify.accepted_nolimit" if no_limit else "offers.notify.accepted",
            name=await name_of(scope, contract.freelancer_id),
            title=contract.title,
        ),
        buttons=await _fund_first_keyboard(scope, t, contract),
    )


async def _tell(scope: Scope, event: ContractEvent, to: str, key: str, buttons: bool) -> None:
    contract = await _contract(scope, event)
    if contract is None:
        return
    recipient = contract.client_id if to == "client" else contract.freelancer_id
    other = contract.freelancer_id if to == "client" else contract.client_id
    cid = contract.id
    await scope.notify(
        recipient,
        key,
        buttons=(lambda t: keyboard(open_contract_button(t, cid))) if buttons else None,  # type: ignore[arg-type]
        name=await name_of(scope, other),
        title=contract.title,
    )


@renders(CounterAccepted)
async def counter_accepted(scope: Scope, event: CounterAccepted) -> None:
    await _tell(scope, event, "freelancer", "offers.notify.counter_accepted", True)


@renders(OfferDeclined)
async def offer_declined(scope: Scope, event: OfferDeclined) -> None:
    await _tell(scope, event, "client", "offers.notify.declined", False)


@renders(OfferWithdrawn)
async def offer_withdrawn(scope: Scope, event: OfferWithdrawn) -> None:
    await _tell(scope, event, "freelancer", "offers.notify.withdrawn", False)


@renders(OfferExpired)
async def offer_expired(scope: Scope, event: OfferExpired) -> None:
    """From the deadline tick: both sides learn the offer lapsed."""
    contract = await _contract(scope, event)
    if contract is None:
        return
    for user_id in (contract.client_id, contract.freelancer_id):
        await scope.notify(user_id, "offers.notify.expired", title=contract.title)


@renders(MilestoneAdded)
async def milestone_added(scope: Scope, event: MilestoneAdded) -> None:
    contract = await _contract(scope, event)
    milestone = await scope.uow.milestones.get(event.milestone_id)
    if contract is None or milestone is None:
        return
    cid = contract.id
    await scope.notify(
        contract.freelancer_id,
        "offers.notify.milestone_added",
        buttons=lambda t: keyboard(open_contract_button(t, cid)),  # type: ignore[arg-type]
        name=await name_of(scope, contract.client_id),
        title=milestone.title,
        contract=contract.title,
        amount=money(milestone.amount, milestone.currency),
    )


# --- after a hire: close the job to new pitches? ------------------------------------------


@renders(JobHeldAfterHire)
async def job_held_after_hire(scope: Scope, event: JobHeldAfterHire) -> None:
    """The hire took the job off the market (domain.usecases.jobs.hold_after_hire says
    why that is the default); the client closes it or keeps it open."""
    job = await scope.uow.jobs.get(event.job_id)
    contract = await scope.uow.contracts.get(event.contract_id)
    if job is None or contract is None:
        return
    jid = event.job_id
    await scope.notify(
        event.client_id,
        "offers.hired.ask_close",
        buttons=lambda t: keyboard(
            [
                button(t.plain("offers.hired.btn.close"), OFFER.data("close_job", jid)),
                button(t.plain("offers.hired.btn.keep_open"), OFFER.data("keep_open", jid)),
            ]
        ),
        name=await name_of(scope, contract.freelancer_id),
        title=job.title,
    )


async def _after_hire(ctx: Context, keep_open: bool) -> None:
    job = await jobs_uc.decide_after_hire(
        ctx.uow, ctx.clock, ctx.user.id, _pressed_id(ctx), keep_open
    )
    key = "offers.hired.kept_open" if keep_open else "offers.hired.closed"
    await ctx.edit(ctx.t(key, title=job.title))
    ctx.answer()


@OFFER.on("close_job")
async def close_job_pressed(ctx: Context) -> None:
    await _after_hire(ctx, keep_open=False)


@OFFER.on("keep_open")
async def keep_open_pressed(ctx: Context) -> None:
    await _after_hire(ctx, keep_open=True)
