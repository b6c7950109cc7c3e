"""A wire-level stand-in for the parts of Stripe that localstripe lacks:
Checkout Sessions, Connect accounts, Account Links and Transfers.

It checks every request against the shapes of Stripe's API reference —
`Authorization: Bearer sk_test_…`, form-encoded bracket parameters
(`line_items[0][price_data][unit_amount]`, `metadata[payment_id]` …), an
`Idempotency-Key` on creations — and answers with Stripe's response shapes
(`object`, ids `cs_test_…`, `acct_…`, `tr_…`, `url`). A request that breaks the
contract gets a 400 *and* is recorded in `violations`, which the tests assert
empty. Idempotency is Stripe's: the same key with the same parameters replays
the first answer; with other parameters it is an `idempotency_error`.

Everything else under /v1 is proxied to localstripe (PaymentIntents, charges,
refunds), so the two look like one Stripe to the client. Test controls under
/_standin/ play the payer and Stripe's side: pay or expire a session, finish
onboarding, open a dispute, make the next requests fail; their events are
signed like Stripe's and posted to the registered webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

SECRET_KEY = re.compile(r"^sk_test_[A-Za-z0-9]+$")


def unflatten(form: dict[str, str]) -> dict[str, Any]:
    """Stripe's form encoding: a[b][0][c]=v → {"a": {"b": [{"c": "v"}]}}."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        parts = re.findall(r"[^\[\]]+", key)
        if not parts or key.count("[") != key.count("]"):
            raise ValueError(f"malformed parameter {key!r}")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def stripe_error(status: int, kind: str, message: str, code: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": {"type": kind, "message": message}}
    if code:
        body["error"]["code"] = code
    return web.json_response(body, status=status)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None


@dataclass
class StandIn:
    localstripe_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, str, web.Response]] = field(default_factory=dict)
    _fail_next: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None

    # --- the contract ----------------------------------------------------

    def _violation(self, text: str) -> web.Response:
        self.violations.append(text)
        return stripe_error(400, "invalid_request_error", text, "parameter_invalid")

    async def _parse(
        self, request: web.Request, *, needs_key: bool
    ) -> tuple[dict[str, Any], str | None] | web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not SECRET_KEY.match(auth[7:]):
            self.violations.append(f"{request.path}: no Bearer sk_test_ key")
            return stripe_error(401, "invalid_request_error", "Invalid API Key provided")
        params: dict[str, Any] = {}
        if request.method == "POST":
            ctype = request.headers.get("Content-Type", "")
            if not ctype.startswith("application/x-www-form-urlencoded"):
                return self._violation(f"{request.path}: body must be form-encoded, not {ctype}")
            try:
                params = unflatten(dict(await request.post()))  # type: ignore[arg-type]
            except ValueError as exc:
                return self._violation(str(exc))
        key = request.headers.get("Idempotency-Key")
        if needs_key and request.method == "POST" and not key:
            return self._violation(f"{request.path}: creation without an Idempotency-Key")
        self.requests.append(Recorded(request.method, request.path, params, key))
        for i, (status, kind, code, path) in enumerate(self._fail_next):
            if path is None or path == request.path:
                del self._fail_next[i]
                return stripe_error(status, kind, f"injected {kind}", code)  # type: ignore[return-value]
        return params, key

    def _require(self, params: dict[str, Any], path: str, *names: str) -> str | None:
        for name in names:
            node: Any = params
            for part in name.split("."):
                node = (
                    node.get(part)
                    if isinstance(node, dict)
                    else (
                        node[int(part)]
                        if isinstance(node, list) and part.isdigit() and int(part) < len(node)
                        else None
                    )
                )
            if node in (None, ""):
                return f"{path}: missing {name}"
        return None

    def _replay(self, key: str | None, path: str, params: dict[str, Any]) -> web.Response | None:
        if key is None or key not in self._idempotent:
            return None
        seen_path, seen_params, response = self._idempotent[key]
        if seen_path != path or seen_params != json.dumps(params, sort_keys=True):
            return stripe_error(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters.",
            )
        return web.json_response(json.loads(response.text or "{}"), status=response.status)

    def _remember(
        self, key: str | None, path: str, params: dict[str, Any], obj: dict[str, Any]
    ) -> web.Response:
        response = web.json_response(obj)
        if key is not None:
            self._idempotent[key] = (
                path,
                json.dumps(params, sort_keys=True),
                web.json_response(obj),
            )
        return response

    # --- Checkout Sessions -------------------------------------------------

    async def create_session(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=True)
        if isinstance(parsed, web.Response):
            return parsed
        params, key = parsed
        if (replay := self._replay(key, request.path, params)) is not None:
            return replay
        missing = self._require(
            params,
            request.path,
            "mode",
            "line_items.0.quantity",
            "line_items.0.price_data.currency",
            "line_items.0.price_data.unit_amount",
            "line_items.0.price_data.product_data.name",
            "success_url",
            "cancel_url",
            "metadata.milestone_id",
            "metadata.payment_id",
            "client_reference_id",
            "payment_intent_data.metadata.payment_id",
        )
        if missing:
            return self._violation(missing)
        if params["mode"] != "payment":
            return self._violation("mode must be payment")
        items = params["line_items"]
        currencies = {i["price_data"]["currency"] for i in items}
        if len(currencies) != 1 or not re.fullmatch(r"[a-z]{3}", next(iter(currencies))):
            return self._violation(
                f"line item currency must be one lowercase ISO code: {currencies}"
            )
        try:
            total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
        except ValueError:
            return self._violation("unit_amount and quantity must be integers")
        for url in (params["success_url"], params["cancel_url"]):
            if not url.startswith(("http://", "https://")):
                return self._violation(f"not an absolute URL: {url}")
        sid = _new_id("cs_test_")
        session = {
            "id": sid,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": next(iter(currencies)),
            "client_reference_id": params["client_reference_id"],
            "metadata": params["metadata"],
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
            "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600,
            "livemode": False,
            "_intent_metadata": params["payment_intent_data"]["metadata"],
        }
        self.sessions[sid] = session
        return self._remember(key, request.path, params, self._public(session))

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    async def get_session(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=False)
        if isinstance(parsed, web.Response):
            return parsed
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return stripe_error(
                404, "invalid_request_error", "No such checkout.session", "resource_missing"
            )
        return web.json_response(self._public(session))

    # --- Connect -------------------------------------------------------------

    async def create_account(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=True)
        if isinstance(parsed, web.Response):
            return parsed
        params, key = parsed
        if (replay := self._replay(key, request.path, params)) is not None:
            return replay
        if params.get("type") != "express":
            return self._violation(f"account type must be express, not {params.get('type')}")
        account = {
            "id": _new_id("acct_"),
            "object": "account",
            "type": "express",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"transfers": "inactive"},
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.accounts[account["id"]] = account
        return self._remember(key, request.path, params, account)

    async def get_account(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=False)
        if isinstance(parsed, web.Response):
            return parsed
        account = self.accounts.get(request.match_info["id"])
        if account is None:
            return stripe_error(404, "invalid_request_error", "No such account", "resource_missing")
        return web.json_response(account)

    async def create_account_link(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=False)
        if isinstance(parsed, web.Response):
            return parsed
        params, _key = parsed
        missing = self._require(
            params, request.path, "account", "type", "refresh_url", "return_url"
        )
        if missing:
            return self._violation(missing)
        if params["type"] != "account_onboarding":
            return self._violation(f"link type must be account_onboarding: {params['type']}")
        if params["account"] not in self.accounts:
            return stripe_error(400, "invalid_request_error", "No such account", "resource_missing")
        now = int(time.time())
        return web.json_response(
            {
                "object": "account_link",
                "created": now,
                "expires_at": now + 300,
                "url": f"https://connect.stripe.com/setup/e/{params['account']}/{secrets.token_hex(8)}",
            }
        )

    async def create_transfer(self, request: web.Request) -> web.Response:
        parsed = await self._parse(request, needs_key=True)
        if isinstance(parsed, web.Response):
            return parsed
        params, key = parsed
        if (replay := self._replay(key, request.path, params)) is not None:
            return replay
        missing = self._require(params, request.path, "amount", "currency", "destination")
        if missing:
            return self._violation(missing)
        account = self.accounts.get(params["destination"])
        if account is None:
            return stripe_error(
                400, "invalid_request_error", "No such destination", "resource_missing"
            )
        if account["capabilities"].get("transfers") != "active":
            return stripe_error(
                400,
                "invalid_request_error",
                "The destination account needs the transfers capability enabled.",
                "insufficient_capabilities_for_transfer",
            )
        source = params.get("source_transaction")
        if source is not None:
            charge = await self._localstripe_json("GET", f"/v1/charges/{source}", request)
            if charge is None:
                return stripe_error(
                    400, "invalid_request_error", "No such charge", "resource_missing"
                )
            if int(params["amount"]) > charge["amount"] - charge.get("amount_refunded", 0):
                return stripe_error(
                    400, "invalid_request_error", "Transfer exceeds the charge", "amount_too_large"
                )
        transfer = {
            "id": _new_id("tr_"),
            "object": "transfer",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "destination": params["destination"],
            "transfer_group": params.get("transfer_group"),
            "source_transaction": source,
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "created": int(time.time()),
        }
        self.transfers[transfer["id"]] = transfer
        return self._remember(key, request.path, params, transfer)

    # --- localstripe behind us ---------------------------------------------

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def _localstripe_json(
        self, method: str, path: str, request: web.Request | None = None
    ) -> Any:
        headers = (
            {"Authorization": request.headers["Authorization"]}
            if request
            else {"Authorization": "Bearer sk_test_standin"}
        )
        async with self.http.request(method, self.localstripe_url + path, headers=headers) as r:
            return await r.json() if r.status == 200 else None

    async def proxy(self, request: web.Request) -> web.Response:
        """Resources localstripe implements (PaymentIntents, charges, refunds …),
        with Stripe's idempotency in front (localstripe ignores the key): the same
        key replays the first successful answer instead of creating again."""
        parsed = await self._parse(request, needs_key=False)
        if isinstance(parsed, web.Response):
            return parsed
        params, key = parsed
        if request.method == "POST" and (replay := self._replay(key, request.path, params)):
            return replay
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "idempotency-key")
        }
        body = await request.read()
        async with self.http.request(
            request.method,
            self.localstripe_url + request.path_qs,
            data=body or None,
            headers=headers,
        ) as r:
            answer = await r.read()
            if request.method == "POST" and r.status == 200:
                self._remember(key, request.path, params, json.loads(answer or b"{}"))
            return web.Response(body=answer, status=r.status, content_type="application/json")

    # --- the payer's and Stripe's side (test controls) ----------------------

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _new_id("evt_"),
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2024-06-20",
            "data": {"object": self._public(obj)},
        }

    async def deliver(self, event: dict[str, Any], *, secret: str | None = None) -> int:
        """POST a signed event to the webhook; returns the HTTP status."""
        assert self.webhook_url and self.webhook_secret, "no webhook registered"
        payload = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, secret or self.webhook_secret),
        }
        async with self.http.post(self.webhook_url, data=payload, headers=headers) as r:
            return r.status

    async def pay_session(self, session_id: str, card: str = "pm_card_visa") -> dict[str, Any]:
        """The payer pays: a real PaymentIntent in localstripe (which sends its own
        payment_intent.* webhooks), then the session completes. Returns the
        checkout.session.completed event, not yet delivered."""
        session = self.sessions[session_id]
        status, intent = await self._confirm_intent(session, card)
        if status != 200:
            raise AssertionError(f"localstripe refused the payment: {intent}")
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return self.event("checkout.session.completed", session)

    async def decline_session(
        self, session_id: str, card: str = "pm_card_chargeCustomerFail"
    ) -> None:
        """The payer tries a card that is declined: localstripe refuses the
        PaymentIntent (402) and sends payment_intent.payment_failed itself; the
        session stays open for another card, as Checkout's does."""
        status, body = await self._confirm_intent(self.sessions[session_id], card)
        assert status == 402 and body["error"]["code"] == "card_declined", body

    async def _confirm_intent(
        self, session: dict[str, Any], card: str
    ) -> tuple[int, dict[str, Any]]:
        """A confirmed PaymentIntent for the session's total at localstripe, as
        Checkout makes when the payer submits a card: (HTTP status, body)."""
        form = {
            "amount": str(session["amount_total"]),
            "currency": session["currency"],
            "payment_method": card,
            "confirm": "true",
        }
        for k, v in session["_intent_metadata"].items():
            form[f"metadata[{k}]"] = v
        async with self.http.post(
            self.localstripe_url + "/v1/payment_intents",
            data=form,
            headers={"Authorization": "Bearer sk_test_standin"},
        ) as r:
            return r.status, await r.json()

    def expire_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        session.update(status="expired")
        return self.event("checkout.session.expired", session)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        account = self.accounts[account_id]
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
        account["capabilities"] = {"transfers": "active"}
        return self.event("account.updated", account)

    def verify_identity(
        self, account_id: str, status: str = "verified", due: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Stripe's identity check of the account's person: `individual.verification.status`
        and the requirements still due, as an account.updated event (not yet delivered)."""
        account = self.accounts[account_id]
        account["business_type"] = "individual"
        account["individual"] = {
            "id": _new_id("person_"),
            "object": "person",
            "verification": {"status": status, "details": None, "details_code": None},
        }
        account["requirements"] = {
            "currently_due": list(due),
            "eventually_due": list(due),
            "past_due": [],
            "pending_verification": [],
            "errors": [],
            "disabled_reason": None,
        }
        return self.event("account.updated", account)

    def dispute(self, charge_id: str, payment_intent: str | None, amount: int) -> dict[str, Any]:
        return self.event(
            "charge.dispute.created",
            {
                "id": _new_id("dp_"),
                "object": "dispute",
                "charge": charge_id,
                "payment_intent": payment_intent,
                "amount": amount,
                "reason": "fraudulent",
                "status": "needs_response",
            },
        )

    def fail_next(
        self,
        status: int,
        kind: str,
        code: str | None = None,
        times: int = 1,
        *,
        path: str | None = None,
    ) -> None:
        """The next `times` requests (to `path` only, if given) fail with this error."""
        self._fail_next.extend([(status, kind, code or "", path)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/checkout/sessions", self.create_session)
        app.router.add_get("/v1/checkout/sessions/{id}", self.get_session)
        app.router.add_post("/v1/accounts", self.create_account)
        app.router.add_get("/v1/accounts/{id}", self.get_account)
        app.router.add_post("/v1/account_links", self.create_account_link)
        app.router.add_post("/v1/transfers", self.create_transfer)
        app.router.add_route("*", "/v1/{tail:.*}", self.proxy)
        return app

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
