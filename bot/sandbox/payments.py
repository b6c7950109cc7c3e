"""Telegram Payments in the sandbox, as the Bot API has them.

sendInvoice posts an invoice message (Telegram's checks: title 1-32 characters,
description 1-255, payload 1-128 bytes, a provider token, a 3-letter currency,
price lines with integer amounts and a positive total). The user taps Pay
(`pay`): a `pre_checkout_query` goes to the bot, which must answer it within
PRE_CHECKOUT_TTL seconds, once (answerPreCheckoutQuery; ok=False needs an
error_message, shown to the user). Answered ok, the provider charges the card —
`provider(amount, currency, provider_token)` returns the provider's charge id (a
Stripe charge for Stripe; tests point it at the Stripe test server) — and a
`successful_payment` service message from the user arrives in the chat.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import bad_request
from bot.sandbox.models import Message
from bot.sandbox.params import Params

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

PRE_CHECKOUT_TTL = 10.0  # seconds Telegram waits for the bot's answer
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# (amount, currency, provider token) → the provider's charge id
Provider = Callable[[int, str, str], Awaitable[str]]


async def fake_provider(amount: int, currency: str, token: str) -> str:
    return f"ch_sandbox_{secrets.token_hex(8)}"


@dataclass
class Invoice:
    chat_id: int
    message_id: int
    payload: str
    provider_token: str
    currency: str
    prices: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return sum(int(p["amount"]) for p in self.prices)


@dataclass
class PreCheckout:
    """A tap on Pay and what came of it."""

    id: str
    user_id: int
    invoice: Invoice
    asked_at: float
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None
    payment: Message | None = None  # the successful_payment message, once charged
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "answered": self.answered,
            "ok": self.ok,
            "error_message": self.error_message,
            "paid": self.payment is not None,
        }


class Payments:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.provider: Provider = fake_provider
        self.invoices: dict[tuple[int, int], Invoice] = {}
        self.pre_checkouts: dict[str, PreCheckout] = {}

    # -- the bot's side ------------------------------------------------------------------

    def send_invoice(self, params: Params) -> Message:
        api = self.emu.api
        chat = api._target(params)
        title = params.text("title") or ""
        description = params.text("description") or ""
        payload = params.text("payload") or ""
        token = params.text("provider_token") or ""
        currency = (params.text("currency") or "").upper()
        if not 1 <= len(title) <= 32:
            raise bad_request("TITLE_INVALID" if title else "title is empty")
        if not 1 <= len(description) <= 255:
            raise bad_request("DESCRIPTION_INVALID" if description else "description is empty")
        if not 1 <= len(payload.encode()) <= 128:
            raise bad_request("PAYLOAD_INVALID" if payload else "payload is empty")
        if currency != "XTR" and not token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if not _CURRENCY.match(currency):
            raise bad_request("CURRENCY_INVALID")
        prices = params.obj("prices", "labeled prices")
        if not isinstance(prices, list) or not prices:
            raise bad_request("can't parse prices JSON object")
        for price in prices:
            if not (
                isinstance(price, dict)
                and isinstance(price.get("label"), str)
                and price["label"]
                and isinstance(price.get("amount"), int)
            ):
                raise bad_request("can't parse prices JSON object")
        if sum(p["amount"] for p in prices) <= 0:
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        content: dict[str, Any] = {
            "invoice": {
                "title": title,
                "description": description,
                "start_parameter": params.text("start_parameter") or "",
                "currency": currency,
                "total_amount": sum(p["amount"] for p in prices),
            }
        }
        msg = api._send(chat, content, api._markup(params), api._reply_to(chat, params))
        self.invoices[(chat.id, msg["message_id"])] = Invoice(
            chat.id,
            msg["message_id"],
            payload,
            token,
            currency,
            [{"label": p["label"], "amount": p["amount"]} for p in prices],
        )
        self.emu.dirty.invoices.add((chat.id, msg["message_id"]))  # kept across restarts
        return msg

    async def answer(self, params: Params) -> bool:
        emu = self.emu
        asked = self.pre_checkouts.get(params.text("pre_checkout_query_id") or "")
        late = asked is not None and emu.clock() - asked.asked_at > PRE_CHECKOUT_TTL
        if asked is None or asked.ok is not None or late:
            raise bad_request("QUERY_ID_INVALID")
        if params.raw.get("ok") is None:
            raise bad_request("ok is empty")  # a required field
        ok = params.flag("ok")
        error = params.text("error_message")
        if not ok and not error:
            raise bad_request("ERROR_MESSAGE_EMPTY")
        asked.ok = ok  # taken: a second answer is refused while the card is charged
        asked.error_message = None if ok else error
        if ok:
            asked.payment = await self._charge(asked)
        asked.answered = True
        emu.touch(emu.chats[asked.invoice.chat_id])
        return True

    # -- the user's side -------------------------------------------------------------------

    def invoice(self, chat_id: int, message_id: int) -> Invoice:
        found = self.invoices.get((chat_id, message_id))
        if found is None:
            raise KeyError(f"message {message_id} in chat {chat_id} is no invoice")
        return found

    def pay(self, user_id: int, message_id: int, *, chat_id: int | None = None) -> PreCheckout:
        """The user taps Pay under the invoice and confirms on the payment sheet."""
        emu = self.emu
        user = emu.user(user_id)
        invoice = self.invoice(user_id if chat_id is None else chat_id, message_id)
        asked = PreCheckout(secrets.token_hex(8), user_id, invoice, emu.clock())
        self.pre_checkouts[asked.id] = asked
        emu.push_update(
            "pre_checkout_query",
            {
                "id": asked.id,
                "from": user.to_telegram(),
                "currency": invoice.currency,
                "total_amount": invoice.total,
                "invoice_payload": invoice.payload,
            },
        )
        return asked

    async def _charge(self, asked: PreCheckout) -> Message:
        emu, invoice = self.emu, asked.invoice
        charge = await self.provider(invoice.total, invoice.currency, invoice.provider_token)
        paid = {
            "currency": invoice.currency,
            "total_amount": invoice.total,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": f"tgch_{secrets.token_hex(10)}",
            "provider_payment_charge_id": charge,
        }
        chat = emu.chats[invoice.chat_id]
        msg = emu.add_message(
            chat, emu.user(asked.user_id).to_telegram(), {"successful_payment": paid}
        )
        emu.push_update("message", msg)
        return copy.deepcopy(msg)

    def deliver_again(self, query_id: str) -> None:
        """Telegram delivers the successful_payment message once more (a new update
        of the same message): the bot must apply it once."""
        asked = self.pre_checkouts[query_id]
        if asked.payment is None:
            raise ValueError("that payment was not charged")
        self.emu.push_update("message", asked.payment)
