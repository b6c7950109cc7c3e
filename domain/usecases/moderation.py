"""Moderation: contact details shared before a contract, the admins' queue, and
ban appeals.

Contact details (domain/contact.py: phones, e-mails, @handles, t.me / wa.me /
skype links, messenger names) in a job's text, a pitch, a profile or a message
before a contract between the two people are **saved and flagged, not
refused** — as Upwork does: the detector errs on the side of missing an odd
contact, but a refusal on a false positive blocks honest work, and refusing
only teaches people to spell "g m a i l" around the check. The author is warned
at once (ContactDetailsFlagged), the recipient of a message sees a notice, and
the flag is kept as the record. A submission always belongs to a running
contract, where sharing contacts is allowed, so it is not screened.

Repeated cases — REPEAT_THRESHOLD flags within REPEAT_WINDOW, counted since the
user's last decided case — open a moderation case (ModerationCaseOpened, to the
admins; later flags join the open case). An admin dismisses it, warns the user
with a reason (they receive it), or bans them with a reason. A banned user may
appeal once per ban with a text; an admin sees it with the ban's reason and the
user's record and unbans or rejects it; the user is told either way.
Every decision is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain import validation
from domain.config import MarketConfig
from domain.contact import find_contact_details
from domain.entities import Appeal, ContactFlag, ModerationCase, User
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    AppealDecided,
    AppealFiled,
    ContactDetailsFlagged,
    ModerationCaseOpened,
    ModerationDecided,
)
from domain.ports import Clock, UnitOfWork
from domain.usecases import accounts
from domain.usecases.common import audit, load, require_admin

REPEAT_THRESHOLD = 3
REPEAT_WINDOW = timedelta(days=30)
DECISIONS = ("dismissed", "warned", "banned")
REASON_MAX = 500
APPEAL_MIN, APPEAL_MAX = 10, 2000


def spot(*texts: str | None) -> list[str]:
    """The contact details in the texts, in order, without repeats."""
    found: list[str] = []
    for text in texts:
        for item in find_contact_details(text or ""):
            if item not in found:
                found.append(item)
    return found


async def screen(
    uow: UnitOfWork, clock: Clock, user_id: int, source: str, ref_id: int | None, *texts: str | None
) -> ContactFlag | None:
    """Spot contact details in what `user_id` wrote (a job, pitch, profile) and
    record them; the text itself is kept. None when there are none."""
    found = spot(*texts)
    if not found:
        return None
    return await record(uow, clock, user_id, source, ref_id, found)


async def record(
    uow: UnitOfWork, clock: Clock, user_id: int, source: str, ref_id: int | None, found: list[str]
) -> ContactFlag | None:
    """A flag for contact details already spotted. Saving the same thing again
    (editing a job without touching its phone number) is not a new case."""
    for earlier in await uow.contact_flags.find(
        order_by="-id", limit=20, user_id=user_id, source=source, ref_id=ref_id
    ):
        if sorted(earlier.found) == sorted(found):
            return None
    now = clock.now()
    flag = await uow.contact_flags.add(
        ContactFlag(user_id=user_id, source=source, ref_id=ref_id, found=found, created_at=now)
    )
    assert flag.id is not None
    uow.emit(ContactDetailsFlagged(flag_id=flag.id, user_id=user_id, source=source, found=found))
    await _queue(uow, clock, user_id, flag)
    return flag


async def _queue(uow: UnitOfWork, clock: Clock, user_id: int, flag: ContactFlag) -> None:
    """Join the user's open case, or open one on the REPEAT_THRESHOLD-th flag."""
    open_ = await uow.moderation_cases.find(limit=1, user_id=user_id, status="open")
    if open_:
        flag.case_id = open_[0].id
        return
    now = clock.now()
    since = now - REPEAT_WINDOW
    decided = await uow.moderation_cases.find(
        order_by="-decided_at", limit=1, user_id=user_id, decided_at__isnull=False
    )
    if decided and decided[0].decided_at and decided[0].decided_at > since:
        since = decided[0].decided_at  # a decided case settles what came before it
    recent = await uow.contact_flags.find(
        user_id=user_id, case_id__isnull=True, created_at__gt=since
    )
    if len(recent) < REPEAT_THRESHOLD:
        return
    case = await uow.moderation_cases.add(ModerationCase(user_id=user_id, created_at=now))
    assert case.id is not None
    for each in recent:
        each.case_id = case.id
    uow.emit(ModerationCaseOpened(case_id=case.id, user_id=user_id, flags=len(recent)))


# --- the admins' queue ---------------------------------------------------------------


async def open_cases(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, limit: int = 50
) -> list[ModerationCase]:
    """Oldest first."""
    require_admin(config, actor_id)
    return await uow.moderation_cases.find(limit=limit, status="open")


@dataclass(frozen=True, slots=True)
class CaseView:
    case: ModerationCase
    user: User
    flags: list[ContactFlag]
    earlier_cases: int  # decided cases of the same user before this one


async def case_view(uow: UnitOfWork, config: MarketConfig, actor_id: int, case_id: int) -> CaseView:
    require_admin(config, actor_id)
    case = await load(uow.moderation_cases, case_id, "case")
    user = await load(uow.users, case.user_id, "user")
    flags = await uow.contact_flags.find(case_id=case_id)
    earlier = await uow.moderation_cases.count(user_id=case.user_id, id__lt=case_id)
    return CaseView(case, user, flags, earlier)


async def decide(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    case_id: int,
    decision: str,
    reason: str = "",
) -> ModerationCase:
    """Dismiss, warn (the user receives the reason) or ban (with the reason)."""
    require_admin(config, actor_id)
    if decision not in DECISIONS:
        raise ValidationError("bad_decision", "Unknown decision.")
    case = await load(uow.moderation_cases, case_id, "case", lock=True)
    if case.status != "open":
        raise NotAllowed("case_decided", "This case was already decided.")
    why = (reason or "").strip()[:REASON_MAX] or None
    if decision != "dismissed" and why is None:
        raise ValidationError("reason_required", "Give a reason.")
    if decision == "banned":
        user = await load(uow.users, case.user_id, "user")
        if not user.banned:
            await accounts.ban_user(uow, clock, config, actor_id, case.user_id, why or "")
    case.status = decision
    case.reason = why
    case.decided_by = actor_id
    case.decided_at = clock.now()
    await audit(uow, clock, actor_id, f"case_{decision}", f"case:{case_id}", reason=why)
    uow.emit(
        ModerationDecided(
            case_id=case_id, user_id=case.user_id, admin_id=actor_id, decision=decision, reason=why
        )
    )
    return case


# --- appeals -------------------------------------------------------------------------


async def _current_ban(uow: UnitOfWork, user_id: int) -> User:
    user = await load(uow.users, user_id, "user")
    if not user.banned:
        raise NotAllowed("appeal_not_banned", "Your account is not suspended.")
    return user


async def _ban_ref(uow: UnitOfWork, user_id: int) -> int | None:
    """The audit entry of the user's current ban: an appeal is once per ban."""
    bans = await uow.audit.find(order_by="-id", limit=1, action="ban", target=f"user:{user_id}")
    return bans[0].id if bans else None


async def check_can_appeal(uow: UnitOfWork, user_id: int) -> User:
    user = await _current_ban(uow, user_id)
    ref = await _ban_ref(uow, user_id)
    if await uow.appeals.count(user_id=user_id, ban_ref=ref):
        raise NotAllowed("appeal_used", "You have already appealed this suspension.")
    return user


async def file_appeal(uow: UnitOfWork, clock: Clock, user_id: int, text: str) -> Appeal:
    """The banned user's one appeal of this ban (banned users may do this alone)."""
    user = await check_can_appeal(uow, user_id)
    body = validation.clean_text(text, "appeal", APPEAL_MIN, APPEAL_MAX)
    appeal = await uow.appeals.add(
        Appeal(
            user_id=user_id,
            text=body,
            ban_reason=user.ban_reason,
            ban_ref=await _ban_ref(uow, user_id),
            created_at=clock.now(),
        )
    )
    assert appeal.id is not None
    uow.emit(AppealFiled(appeal_id=appeal.id, user_id=user_id))
    return appeal


@dataclass(frozen=True, slots=True)
class UserRecord:
    """What an admin weighs an appeal against."""

    jobs: int
    contracts: int
    disputes: int  # on the user's contracts
    cases: list[ModerationCase]
    flags: int


async def user_record(uow: UnitOfWork, user_id: int) -> UserRecord:
    contracts = await uow.contracts.find(client_id=user_id) + await uow.contracts.find(
        freelancer_id=user_id
    )
    ids = [c.id for c in contracts]
    return UserRecord(
        jobs=await uow.jobs.count(client_id=user_id),
        contracts=len(contracts),
        disputes=await uow.disputes.count(contract_id__in=ids) if ids else 0,
        cases=await uow.moderation_cases.find(user_id=user_id),
        flags=await uow.contact_flags.count(user_id=user_id),
    )


@dataclass(frozen=True, slots=True)
class AppealView:
    appeal: Appeal
    user: User
    record: UserRecord


async def appeal_view(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, appeal_id: int
) -> AppealView:
    require_admin(config, actor_id)
    appeal = await load(uow.appeals, appeal_id, "appeal")
    user = await load(uow.users, appeal.user_id, "user")
    return AppealView(appeal, user, await user_record(uow, appeal.user_id))


async def decide_appeal(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    appeal_id: int,
    accept: bool,
) -> Appeal:
    """Unban (accept) or reject; the user is told either way."""
    require_admin(config, actor_id)
    appeal = await load(uow.appeals, appeal_id, "appeal", lock=True)
    if appeal.status != "open":
        raise NotAllowed("appeal_decided", "This appeal was already decided.")
    appeal.status = "accepted" if accept else "rejected"
    appeal.decided_by = actor_id
    appeal.decided_at = clock.now()
    user = await load(uow.users, appeal.user_id, "user")
    if accept and user.banned:
        await accounts.unban_user(uow, clock, config, actor_id, appeal.user_id)
    await audit(uow, clock, actor_id, f"appeal_{appeal.status}", f"appeal:{appeal_id}")
    uow.emit(
        AppealDecided(
            appeal_id=appeal_id, user_id=appeal.user_id, admin_id=actor_id, accepted=accept
        )
    )
    return appeal
