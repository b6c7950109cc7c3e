"""Messages between the parties, through the bot, kept with the contract as the record.

Callback data (prefix "msg", handlers/prefixes.py MESSAGE; other flows link to the
first ones; the old codes of buttons already sent, still honoured, in brackets):
- "msg:write:<contract_id>"        open a compose to the other party of a contract (c)
- "msg:write_pitch:<pitch_id>"     open a compose to a pitch's freelancer before a
                                   contract (the job's client) (p)
- "msg:reply:<message_id>"         answer a message one received (the recipient only) (r)
- "msg:history:<contract_id>:<page>"  the contract's message record, page 1 = the latest (h)
Internal: "msg:list::<page>" (/message: contracts to write on), "msg:close" (leave the
compose: Cancel and Done) (x).

/message lists the contracts one can write on as buttons. The compose step
("messaging", "compose") takes text and files and delivers each at once, with a
Reply button for the other side; it stays open (albums arrive as several files)
until Done, Cancel or any command. Sending is domain.usecases.messaging.send_message
(it flags contact details shared before a contract is agreed; the sender gets a
warning here); this module renders its "message_sent" for the recipient.
"""

from __future__ import annotations

from typing import Any

from domain.entities import ContractMessage
from domain.events import MessageSent
from domain.usecases import messaging as uc
from domain.usecases import queries
from domain.usecases.common import other_party
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import message_button
from handlers.events import Button, Keyboard
from handlers.flows.blocking import block_button
from handlers.helpers import int_arg, leave_flow, name_of, page_nav, page_of
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import CONTRACT, MESSAGE
from handlers.render import Html, bold, button, esc, join, keyboard, pagination_row, shorten
from handlers.routing import Menu, Steps, command, step


class MessagingStep(Steps, flow="messaging"):
    """Writing to the other side, step by step (the values are stored: never change one)."""

    COMPOSE = "compose"


LIST_PAGE = 6
HISTORY_PAGE = 8
PREVIEW = 600  # characters of one message in the record view


def _cancel(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), MESSAGE.data("close"))


# --- opening a compose ---------------------------------------------------------------


async def _compose_contract(ctx: Context, contract_id: int) -> None:
    contract = await uc.writable_contract(ctx.uow, ctx.user.id, contract_id)
    other = other_party(contract, ctx.user.id)
    await ctx.set_state(MessagingStep.COMPOSE, {"c": contract_id})
    await ctx.reply(
        ctx.t("msg.ask_contract", name=await name_of(ctx, other), title=contract.title),
        keyboard(_cancel(ctx.t)),
    )


async def _compose_pitch(ctx: Context, pitch_id: int) -> None:
    pitch = await uc.pitch_for_message(ctx.uow, ctx.user.id, pitch_id)
    job = await ctx.uow.jobs.get(pitch.job_id)
    await ctx.set_state(MessagingStep.COMPOSE, {"p": pitch_id})
    await ctx.reply(
        ctx.t(
            "msg.ask_pitch",
            name=await name_of(ctx, pitch.freelancer_id),
            title=job.title if job else "",
        ),
        keyboard(_cancel(ctx.t)),
    )


async def _compose_reply(ctx: Context, message_id: int) -> None:
    original = await uc.reply_target(ctx.uow, ctx.user.id, message_id)
    await ctx.set_state(MessagingStep.COMPOSE, {"r": message_id})
    key = "msg.ask_reply" if original.contract_id is not None else "msg.ask_reply_text"
    await ctx.reply(
        ctx.t(key, name=await name_of(ctx, original.sender_id)), keyboard(_cancel(ctx.t))
    )


@step(MessagingStep.COMPOSE)
async def compose(ctx: Context) -> None:
    data: dict[str, Any] = ctx.data
    files = ctx.file_ids
    me, text = ctx.user.id, ctx.text
    if "c" in data:
        sent = await uc.to_contract(ctx.uow, ctx.clock, me, int(data["c"]), text, files)
    elif "p" in data:
        sent = await uc.to_pitch(ctx.uow, ctx.clock, me, int(data["p"]), text, files)
    elif "r" in data:
        sent = await uc.reply(ctx.uow, ctx.clock, me, int(data["r"]), text, files)
    elif "j" in data:  # about a job, to an invited freelancer (flows/talent.py "Message")
        sent = await uc.send_message(
            ctx.uow, ctx.clock, me, text, files, job_id=int(data["j"]), recipient_id=int(data["to"])
        )
    else:
        await ctx.clear_state()
        raise StaleButton()
    lines = [ctx.t("msg.sent", name=await name_of(ctx, sent.recipient_id))]
    if sent.flagged_contact:
        lines.append(ctx.t("msg.contact_warning"))
    done = button(ctx.t.plain("msg.btn.done"), MESSAGE.data("close"))
    await ctx.reply(join(lines), keyboard(done))


# --- /message: the contracts one can write on ---------------------------------------


async def _show_list(ctx: Context, page: int) -> None:
    t = ctx.t
    found = await queries.my_contracts(ctx.uow, ctx.user.id, tuple(uc.WRITABLE))
    if not found:
        await ctx.edit(t("msg.list_empty"))
        return
    shown, page, pages = page_of(found, page, LIST_PAGE)
    rows_: list[list[Button] | None] = []
    for c in shown:
        label = f"✉️ {await name_of(ctx, other_party(c, ctx.user.id))} · {shorten(c.title, 30)}"
        rows_.append([button(label, MESSAGE.data("write", c.id))])
    nav = page_nav(t, MESSAGE, "list", page, pages)
    await ctx.edit(t("msg.list_title"), keyboard(*rows_, nav or None))


@command("message", order=120, menu=Menu.ANY, menu_order=80)
async def message_command(ctx: Context) -> None:
    await _show_list(ctx, 1)


# --- the record ----------------------------------------------------------------------


def _message_block(t: Translator, m: ContractMessage, names: dict[int, str]) -> Html:
    when = m.created_at.strftime("%Y-%m-%d %H:%M") if m.created_at else ""
    head = Html(f"{bold(names.get(m.sender_id, '#' + str(m.sender_id)))} · {esc(when)}")
    parts = [head]
    if m.text:
        parts.append(esc(shorten(m.text, PREVIEW) if len(m.text) > PREVIEW else m.text))
    if m.files:
        parts.append(t("msg.files", count=len(m.files)))
    if m.dispute_id is not None:
        parts.append(t("msg.in_dispute", id=m.dispute_id))
    if m.flagged_contact:
        parts.append(t("msg.flagged"))
    return join(parts)


async def _show_history(ctx: Context, contract_id: int, page: int) -> None:
    t = ctx.t
    contract, messages = await uc.contract_history(ctx.uow, ctx.user.id, contract_id)
    write = message_button(t, contract_id) if contract.status in uc.WRITABLE else None
    card = button(t.plain("msg.btn.contract"), CONTRACT.data("view", contract_id))
    if not messages:
        await ctx.edit(t("msg.history_empty", title=contract.title), keyboard([write, card]))
        return
    pages = (len(messages) + HISTORY_PAGE - 1) // HISTORY_PAGE
    page = min(max(page, 1), pages)
    # Page 1 is the latest messages; within a page, oldest first.
    end = len(messages) - (page - 1) * HISTORY_PAGE
    shown = messages[max(0, end - HISTORY_PAGE) : end]
    names = {uid: await name_of(ctx, uid) for uid in {m.sender_id for m in shown}}
    lines = [t("msg.history_title", title=contract.title, count=len(messages)), Html("")]
    for m in shown:
        lines += [_message_block(t, m, names), Html("")]
    nav = pagination_row(
        page,
        pages,
        lambda p: MESSAGE.data("history", contract_id, p),
        prev=t.plain("msg.btn.newer"),  # page 1 is the latest: lower pages are newer
        next_=t.plain("msg.btn.older"),
    )
    await ctx.edit(join(lines), keyboard(nav or None, [write, card]))


# --- buttons -------------------------------------------------------------------------


@MESSAGE.on("close", old=("x",))
async def close_pressed(ctx: Context) -> None:
    await leave_flow(ctx, MessagingStep, "msg.closed")
    ctx.answer()


@MESSAGE.on("write", old=("c",))
async def write_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _compose_contract(ctx, ctx.callback.require_id())
    ctx.answer()


@MESSAGE.on("write_pitch", old=("p",))
async def write_pitch_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _compose_pitch(ctx, ctx.callback.require_id())
    ctx.answer()


@MESSAGE.on("reply", old=("r",))
async def reply_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _compose_reply(ctx, ctx.callback.require_id())
    ctx.answer()


@MESSAGE.on("history", old=("h",))
async def history_pressed(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    page = int(cb.arg) if cb.arg and cb.arg.isdigit() else 1
    await _show_history(ctx, cb.require_id(), page)
    ctx.answer()


@MESSAGE.on("list")
async def list_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _show_list(ctx, int_arg(ctx.callback.arg))
    ctx.answer()


# --- delivery to the other party -------------------------------------------------------


async def _deliver(
    scope: Scope, message: ContractMessage, intro_key: str, title: str, buttons: Any
) -> None:
    recipient = await scope.uow.users.get(message.recipient_id)
    if recipient is None or recipient.unreachable:
        return
    t = await scope.translator_for(recipient.id)
    body = [t(intro_key, name=await name_of(scope, message.sender_id), title=title)]
    if message.text:
        body += [Html(""), esc(message.text)]
    if message.flagged_contact:
        body += [Html(""), t("msg.flagged_notice")]
    kb = buttons(t)
    if message.files:
        await scope.notify(recipient.id, text=join(body))
        last = len(message.files) - 1
        for k, file_id in enumerate(message.files):
            await scope.send_file(
                recipient.id,
                file_id,
                t("msg.file_caption", name=await name_of(scope, message.sender_id)),
                kb if k == last else None,
                priority=1,
            )
    else:
        await scope.notify(recipient.id, text=join(body), buttons=kb)


@renders(MessageSent)
async def message_sent(scope: Scope, event: MessageSent) -> None:
    message = await scope.uow.messages.get(event.message_id)
    if message is None or message.id is None:
        return
    mid, cid = message.id, message.contract_id
    if cid is not None:
        contract = await scope.uow.contracts.get(cid)
        title, intro = (contract.title if contract else ""), "msg.notify_contract"
    else:
        job = await scope.uow.jobs.get(message.job_id) if message.job_id else None
        title, intro = (job.title if job else ""), "msg.notify_pitch"

    sender = message.sender_id

    def buttons(t: Translator) -> Keyboard | None:
        reply = button(t.plain("msg.btn.reply"), MESSAGE.data("reply", mid))
        if cid is None:
            return keyboard([reply, block_button(t, sender)])
        return keyboard(
            [reply, button(t.plain("msg.btn.history"), MESSAGE.data("history", cid, 1))],
            [
                button(t.plain("msg.btn.contract"), CONTRACT.data("view", cid)),
                block_button(t, sender),
            ],
        )

    await _deliver(scope, message, intro, title, buttons)
