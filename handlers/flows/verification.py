"""Verified badges in the chat (domain/usecases/verification.py has the rules).

- "vf:start" (🪪 Verify identity, on a freelancer's own profile card): the payment
  gateway's identity check — Stripe Connect onboarding, or the sandbox's
  verification page — as a link. Nothing here can set a badge: only the
  gateway's report does (account.updated, the sandbox page's POST).
- When a badge comes or goes, the person is told, and so is the other party of
  each of their live contracts (offered, countered or active).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.errors import NotAllowed
from domain.events import IdentityVerificationChanged, PaymentVerificationChanged
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases.common import freelancer
from domain.usecases.verification import identity_verified
from handlers.context import Context, Scope
from handlers.helpers import name_of
from handlers.notify import renders
from handlers.prefixes import VERIFY
from handlers.render import keyboard, url_button

IdentityLink = Callable[[UnitOfWork, Clock, int], Awaitable[str | None]]
LIVE = (ContractStatus.OFFERED, ContractStatus.COUNTERED, ContractStatus.ACTIVE)


@VERIFY.on("start")
async def start_pressed(ctx: Context) -> None:
    t = ctx.t
    await freelancer(ctx.uow, ctx.user.id)
    if await identity_verified(ctx.uow, ctx.user.id):
        await ctx.reply(t("verify.already"))
        return
    hook: IdentityLink | None = getattr(ctx.gateway, "identity_link", None)
    link = await hook(ctx.uow, ctx.clock, ctx.user.id) if hook else None
    if await identity_verified(ctx.uow, ctx.user.id):  # the gateway, asked just now, says so
        came = any(
            isinstance(e, IdentityVerificationChanged) and e.user_id == ctx.user.id
            for e in ctx.uow.events
        )
        if not came:  # when it came just now, its notification says so
            await ctx.reply(t("verify.already"))
        return
    if not link:
        raise NotAllowed("verification_unavailable", "Identity checks are not available here.")
    await ctx.reply(t("verify.open"), keyboard(url_button(t.plain("verify.btn.go"), link)))


async def _others(scope: Scope, user_id: int) -> list[int]:
    """The other party of each of the user's live contracts, once each."""
    found = await scope.uow.contracts.find(client_id=user_id, status__in=LIVE)
    found += await scope.uow.contracts.find(freelancer_id=user_id, status__in=LIVE)
    return sorted({c.freelancer_id if c.client_id == user_id else c.client_id for c in found})


async def _tell(scope: Scope, user_id: int, badge: str, verified: bool) -> None:
    state = "gained" if verified else "lost"
    await scope.notify(user_id, f"verify.notify.{badge}_{state}")
    name = await name_of(scope, user_id)
    for other in await _others(scope, user_id):
        await scope.notify(other, f"verify.notify.{badge}_{state}_other", name=name)


@renders(IdentityVerificationChanged)
async def identity_changed(scope: Scope, event: IdentityVerificationChanged) -> None:
    await _tell(scope, event.user_id, "identity", event.verified)


@renders(PaymentVerificationChanged)
async def payment_changed(scope: Scope, event: PaymentVerificationChanged) -> None:
    await _tell(scope, event.user_id, "payment", event.verified)
