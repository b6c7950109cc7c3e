"""Saved for later: a client's favourite freelancers and a freelancer's saved jobs
(/saved; handlers/flows/saved.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SavedKind(StrEnum):
    FREELANCER = "freelancer"  # saved by a client
    JOB = "job"  # saved by a freelancer


MAX_SAVED = 200  # per person and kind: a list, not an archive


@dataclass(kw_only=True, eq=False)
class SavedItem:
    id: int | None = None
    user_id: int
    kind: str  # a SavedKind value
    target_id: int  # the freelancer's user id or the job's id
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class EarnedBadge:
    """A reputation badge someone holds now (domain.reputation's rule); kept so
    that earning and losing one can be told (domain.usecases.badges)."""

    id: int | None = None
    user_id: int
    badge: str
    earned_at: datetime | None = None
