"""The sandbox payment page: plain server-rendered HTML, no JavaScript, works offline.
Every page it serves, refusals included, carries a "TEST — no real money" banner.

Routes (mount with `install_routes`):
- GET  /pay/<payment id>?sig=<HMAC>  the milestone, amount, client fee and total,
  with "Pay (test card)" and "Decline (test card)"; or the outcome once decided.
- POST /pay/<payment id>?sig=<HMAC>  action=pay|decline → confirm.py (the same
  path as a Stripe webhook), then 303 back to the GET, which says
  "Paid — return to the chat". A second POST is harmless; a bad sig is 403.
- GET  /verify/<user id>?sig=<HMAC>  the sandbox's identity check, opened from the
  freelancer's profile: the status the gateway holds, "Verify identity (test)" and
  "Revoke verification (test)".
- POST /verify/<user id>?sig=<HMAC>  action=verify|revoke → the same use case
  Stripe's account.updated reaches (domain/usecases/verification.py), so the
  🪪 badge comes and goes, and both parties are told, exactly as with Stripe.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from aiohttp import web

from bot.http import KIB, read_body
from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import NAME, SandboxGateway, sandbox_charge_ref
from domain.errors import DomainError
from domain.money import Money
from domain.ports import UnitOfWork
from domain.usecases.verification import record_identity

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_FORM_BYTES = 4 * KIB  # the form sends action=pay or action=decline


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


PAGE, CHECKOUT, RESULT, IDENTITY = (
    _template(n) for n in ("page.html", "checkout.html", "result.html", "identity.html")
)
IDENTITY_ACTIONS = {"verify": "verified", "revoke": "unverified"}


def _page(title: str, body: str) -> str:
    """The whole page: every one, errors too, under the "TEST — no real money" banner."""
    return PAGE.substitute(title=html.escape(title), body=body)


def _render(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=_page(title, body), status=status, content_type="text/html", charset="utf-8"
    )


def _refusal(error: type[web.HTTPException], message: str) -> web.HTTPException:
    """A 4xx as a page of its own (with the TEST banner), not a bare line of text."""
    body = f'<h1 class="bad">{html.escape(message)}</h1>'
    return error(text=_page(message, body), content_type="text/html")


def _fill(template: Template, **values: str) -> str:
    """Every value is escaped: milestone and contract titles are user text."""
    return template.substitute({k: html.escape(v, quote=True) for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class PageView:
    payment_id: int
    status: str
    external_id: str | None
    currency: str
    total: int  # what the payer is charged: amount + client fee
    amount: int  # the milestone's amount
    milestone: str
    contract: str

    def money(self, amount: int) -> str:
        return Money(amount, self.currency).format()


class SandboxPage:
    def __init__(self, gateway: SandboxGateway, news: PaymentNews, chat_url: str) -> None:
        self.gateway = gateway
        self.news = news
        self.chat_url = chat_url

    async def _load(self, request: web.Request) -> PageView:
        try:
            payment_id = int(request.match_info["payment_id"])
        except ValueError:
            raise _refusal(web.HTTPNotFound, "No such payment.") from None
        if not self.gateway.signer.verify(payment_id, request.query.get("sig", "")):
            raise _refusal(web.HTTPForbidden, "This payment link is not valid.")
        async with self.news.runner.uow_factory() as uow:
            payment = await uow.payments.get(payment_id)
            if payment is None or payment.gateway != NAME:
                raise _refusal(web.HTTPNotFound, "No such payment.")
            milestone = await uow.milestones.get(payment.milestone_id)
            if milestone is None:
                raise _refusal(web.HTTPNotFound, "No such milestone.")
            contract = await uow.contracts.get(milestone.contract_id)
            # Read everything now: leaving the unit of work expires the rows.
            return PageView(
                payment_id=payment_id,
                status=payment.status,
                external_id=payment.external_id,
                currency=payment.currency,
                total=payment.amount,
                amount=milestone.amount,
                milestone=milestone.title,
                contract=contract.title if contract else "",
            )

    def _result(self, view: PageView, paid: bool, headline: str, detail: str) -> str:
        return _fill(
            RESULT,
            css="ok" if paid else "bad",
            headline=headline,
            detail=detail,
            milestone=view.milestone,
            total=view.money(view.total),
            chat_url=self.chat_url,
        )

    async def show(self, request: web.Request) -> web.Response:
        view = await self._load(request)
        if view.status == "pending":
            body = _fill(
                CHECKOUT,
                milestone=view.milestone,
                contract=view.contract,
                amount=view.money(view.amount),
                # The fee is what the Payment row charges beyond the milestone
                # amount: domain.fees.funding_quote fixed it at checkout.
                fee=view.money(view.total - view.amount),
                total=view.money(view.total),
                action=f"/pay/{view.payment_id}?sig={self.gateway.signer.sign(view.payment_id)}",
            )
            return _render(f"Pay {view.money(view.total)}", body)
        if view.status == "succeeded":
            body = self._result(
                view,
                True,
                "Paid — return to the chat",
                "The milestone is funded; the freelancer has been told.",
            )
            return _render("Paid", body)
        body = self._result(
            view, False, "Payment declined", "Nothing was charged. Return to the chat to try again."
        )
        return _render("Declined", body)

    async def decide(self, request: web.Request) -> web.Response:
        view = await self._load(request)
        form = parse_qs((await read_body(request, MAX_FORM_BYTES)).decode("utf-8", "replace"))
        action = form.get("action", [None])[0]
        if action not in ("pay", "decline"):
            raise _refusal(web.HTTPBadRequest, "Choose Pay or Decline.")
        if view.status == "pending" and view.external_id:
            try:
                if action == "pay":
                    # The sandbox "bank" takes the money (once per payment), then tells us.
                    await self.gateway.charge(view.payment_id, view.total, view.currency)
                    await self.news.succeeded(
                        NAME, view.external_id, charge_ref=sandbox_charge_ref(view.payment_id)
                    )
                else:
                    await self.news.failed(NAME, view.external_id, "card_declined")
            except DomainError as exc:
                log.info("sandbox payment %s refused: %s", view.payment_id, exc.code)
                body = self._result(view, False, "This payment cannot be made", exc.message)
                return _render("Not possible", body, status=409)
        # Post/Redirect/Get: a reload shows the outcome instead of posting again.
        raise web.HTTPSeeOther(
            location=f"/pay/{view.payment_id}?sig={request.query.get('sig', '')}"
        )


class IdentityPage:
    """The sandbox gateway's identity check (what Stripe's onboarding is for Stripe)."""

    def __init__(self, gateway: SandboxGateway, news: PaymentNews, chat_url: str) -> None:
        self.gateway = gateway
        self.news = news
        self.chat_url = chat_url

    def _user_id(self, request: web.Request) -> int:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise _refusal(web.HTTPNotFound, "No such person.") from None
        if not self.gateway.signer.verify_identity(user_id, request.query.get("sig", "")):
            raise _refusal(web.HTTPForbidden, "This verification link is not valid.")
        return user_id

    async def show(self, request: web.Request) -> web.Response:
        user_id = self._user_id(request)
        async with self.news.runner.uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise _refusal(web.HTTPNotFound, "No such person.")
            row = await uow.verifications.get(user_id)
            name, status = user.name, row.status if row else "unverified"
        body = _fill(
            IDENTITY,
            name=name,
            status=status,
            action=f"/verify/{user_id}?sig={self.gateway.signer.sign_identity(user_id)}",
            chat_url=self.chat_url,
        )
        return _render("Identity verification", body)

    async def decide(self, request: web.Request) -> web.Response:
        user_id = self._user_id(request)
        form = parse_qs((await read_body(request, MAX_FORM_BYTES)).decode("utf-8", "replace"))
        status = IDENTITY_ACTIONS.get(form.get("action", [""])[0])
        if status is None:
            raise _refusal(web.HTTPBadRequest, "Choose Verify or Revoke.")
        runner = self.news.runner

        async def record(uow: UnitOfWork) -> bool:
            return await record_identity(uow, runner.clock, user_id, gateway=NAME, status=status)

        try:
            await runner.run(record, what=f"sandbox identity of {user_id}: {status}")
        except DomainError as exc:
            log.info("sandbox identity %s refused: %s", user_id, exc.code)
            raise _refusal(web.HTTPNotFound, "No such person.") from None
        raise web.HTTPSeeOther(location=f"/verify/{user_id}?sig={request.query.get('sig', '')}")


def install_routes(
    app: web.Application, *, gateway: SandboxGateway, news: PaymentNews, chat_url: str = "/"
) -> SandboxPage:
    """Mount GET/POST /pay/{payment_id} and /verify/{user_id}. `chat_url`: t.me/<bot username> for a real
    bot, "/" (the web chat) for the local sandbox."""
    page = SandboxPage(gateway, news, chat_url)
    app.router.add_get("/pay/{payment_id}", page.show)
    app.router.add_post("/pay/{payment_id}", page.decide)
    identity = IdentityPage(gateway, news, chat_url)
    app.router.add_get("/verify/{user_id}", identity.show)
    app.router.add_post("/verify/{user_id}", identity.decide)
    return page
