"""The hourly terms' one query of their own: which contracts need this week opened."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from domain.entities import Contract
from domain.states import ContractStatus
from domain.timesheet import HourlyTerms, TimesheetWeek
from storage.repository import SqlRepository


class SqlHourlyTerms(SqlRepository[HourlyTerms]):
    async def without_week(self, week_start: datetime, limit: int) -> list[HourlyTerms]:
        # Only active contracts can have an open week: the scheduler's tick reads
        # these few rows, not one count per hourly contract ever made.
        has_week = (
            sa.select(TimesheetWeek.id)  # type: ignore[call-overload]
            .where(
                TimesheetWeek.contract_id == HourlyTerms.contract_id,  # type: ignore[arg-type]
                TimesheetWeek.week_start == week_start,  # type: ignore[arg-type]
            )
            .exists()
        )
        stmt = (
            sa.select(HourlyTerms)
            .join(Contract, Contract.id == HourlyTerms.contract_id)  # type: ignore[arg-type]
            .where(Contract.status == ContractStatus.ACTIVE, ~has_week)  # type: ignore[arg-type]
            .order_by(HourlyTerms.contract_id)  # type: ignore[arg-type]
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())
