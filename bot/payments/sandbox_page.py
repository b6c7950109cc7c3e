"""The sandbox payment page: plain server-rendered HTML, no JavaScript, works offline.

Routes (mount with `install_routes`):
- GET  /pay/<payment id>?sig=<HMAC>  the milestone, amount, client fee and total,
  with "Pay (test card)" and "Decline (test card)"; or the outcome once decided.
- POST /pay/<payment id>?sig=<HMAC>  action=pay|decline → confirm.py (the same
  path as a Stripe webhook), then 303 back to the GET, which says
  "Paid — return to the chat". A second POST is harmless; a bad sig is 403.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from string import Template

from aiohttp import web

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import NAME, SandboxGateway, sandbox_charge_ref
from domain.entities import Contract, Milestone, Payment
from domain.errors import DomainError
from domain.money import Money

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


PAGE, CHECKOUT, RESULT = (_template(n) for n in ("page.html", "checkout.html", "result.html"))


def _render(title: str, body: str, status: int = 200) -> web.Response:
    page = PAGE.substitute(title=html.escape(title), body=body)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def _fill(template: Template, **values: str) -> str:
    """Every value is escaped: milestone and contract titles are user text."""
    return template.substitute({k: html.escape(v, quote=True) for k, v in values.items()})


class SandboxPage:
    def __init__(self, gateway: SandboxGateway, news: PaymentNews, chat_url: str) -> None:
        self.gateway = gateway
        self.news = news
        self.chat_url = chat_url

    async def _load(self, request: web.Request) -> tuple[Payment, Milestone, Contract | None]:
        try:
            payment_id = int(request.match_info["payment_id"])
        except ValueError:
            raise web.HTTPNotFound(text="No such payment.") from None
        if not self.gateway.signer.verify(payment_id, request.query.get("sig", "")):
            raise web.HTTPForbidden(text="This payment link is not valid.")
        async with self.news.runner.uow_factory() as uow:
            payment = await uow.payments.get(payment_id)
            if payment is None or payment.gateway != NAME:
                raise web.HTTPNotFound(text="No such payment.")
            milestone = await uow.milestones.get(payment.milestone_id)
            if milestone is None:
                raise web.HTTPNotFound(text="No such milestone.")
            contract = await uow.contracts.get(milestone.contract_id)
        return payment, milestone, contract

    async def show(self, request: web.Request) -> web.Response:
        payment, milestone, contract = await self._load(request)
        money = lambda amount: Money(amount, payment.currency).format()  # noqa: E731
        if payment.status == "pending":
            body = _fill(
                CHECKOUT,
                milestone=milestone.title,
                contract=contract.title if contract else "",
                amount=money(milestone.amount),
                fee=money(payment.amount - milestone.amount),
                total=money(payment.amount),
                action=f"/pay/{payment.id}?sig={self.gateway.signer.sign(payment.id or 0)}",
            )
            return _render(f"Pay {money(payment.amount)}", body)
        paid = payment.status == "succeeded"
        body = _fill(
            RESULT,
            css="ok" if paid else "bad",
            headline="Paid — return to the chat" if paid else "Payment declined",
            detail=(
                "The milestone is funded; the freelancer has been told."
                if paid
                else "Nothing was charged. Return to the chat to try again."
            ),
            milestone=milestone.title,
            total=money(payment.amount),
            chat_url=self.chat_url,
        )
        return _render("Paid" if paid else "Declined", body)

    async def decide(self, request: web.Request) -> web.Response:
        payment, _milestone, _contract = await self._load(request)
        action = (await request.post()).get("action")
        if action not in ("pay", "decline"):
            raise web.HTTPBadRequest(text="Choose Pay or Decline.")
        if payment.status == "pending" and payment.external_id:
            try:
                if action == "pay":
                    await self.news.succeeded(
                        NAME, payment.external_id, charge_ref=sandbox_charge_ref(payment.id or 0)
                    )
                else:
                    await self.news.failed(NAME, payment.external_id, "card_declined")
            except DomainError as exc:
                log.info("sandbox payment %s refused: %s", payment.id, exc.code)
                return _render(
                    "Not possible",
                    _fill(
                        RESULT,
                        css="bad",
                        headline="This payment can no longer be made",
                        detail=exc.message,
                        milestone=_milestone.title,
                        total=Money(payment.amount, payment.currency).format(),
                        chat_url=self.chat_url,
                    ),
                    status=409,
                )
        # Post/Redirect/Get: a reload shows the outcome instead of posting again.
        raise web.HTTPSeeOther(location=f"/pay/{payment.id}?sig={request.query.get('sig', '')}")


def install_routes(
    app: web.Application, *, gateway: SandboxGateway, news: PaymentNews, chat_url: str = "/"
) -> SandboxPage:
    """Mount GET/POST /pay/{payment_id}. `chat_url`: t.me/<bot username> for a real
    bot, "/" (the web chat) for the local sandbox."""
    page = SandboxPage(gateway, news, chat_url)
    app.router.add_get("/pay/{payment_id}", page.show)
    app.router.add_post("/pay/{payment_id}", page.decide)
    return page
