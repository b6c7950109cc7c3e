"""Reports of a job or a user to the admins, and closing them (admin, audited)."""

from __future__ import annotations

from domain import validation
from domain.config import MarketConfig
from domain.entities import Job, Report, User
from domain.errors import NotAllowed, ValidationError
from domain.events import ReportFiled
from domain.ports import Clock, UnitOfWork
from domain.usecases.common import active_user, audit, load, require_admin
from domain.usecases.visibility import visible_job

TARGETS = ("job", "user")


async def report_target(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, target_type: str, target_id: int
) -> Job | User:
    """What the actor may report: a job they may see (usecases.visibility) that is
    not their own, or another user."""
    await active_user(uow, actor_id)
    if target_type not in TARGETS:
        raise ValidationError("report_target_invalid", "Report a job or a user.")
    target: Job | User
    if target_type == "job":
        target = await visible_job(uow, config, actor_id, target_id)
        owner = target.client_id
    else:
        target = await load(uow.users, target_id, "user")
        owner = target.id
    if owner == actor_id:
        raise NotAllowed("report_self", "You cannot report yourself or your own job.")
    return target


async def report(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    target_type: str,
    target_id: int,
    reason: str,
) -> Report:
    await report_target(uow, config, actor_id, target_type, target_id)
    text = validation.clean_text(reason, "reason", 5, validation.REPORT_REASON_MAX)
    if await uow.reports.count(
        reporter_id=actor_id, target_type=target_type, target_id=target_id, status="open"
    ):
        raise NotAllowed("already_reported", "You have already reported this; admins will look.")
    filed = await uow.reports.add(
        Report(
            reporter_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            reason=text,
            created_at=clock.now(),
        )
    )
    uow.emit(
        ReportFiled(
            report_id=filed.id,
            reporter_id=actor_id,
            target_type=target_type,
            target_id=target_id,
        )
    )
    return filed


async def close_report(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    report_id: int,
    note: str = "",
) -> Report:
    require_admin(config, actor_id)
    filed = await load(uow.reports, report_id, "report", lock=True)
    if filed.status != "open":
        raise NotAllowed("report_closed", "This report is already closed.")
    filed.status = "closed"
    await audit(uow, clock, actor_id, "close_report", f"report:{report_id}", note=note[:500])
    return filed
