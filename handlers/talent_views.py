"""How a freelancer found by the talent index is shown: availability, the record
in brief, and why an invite candidate is suggested (flows/talent.py, flows/my_jobs.py,
flows/availability.py share these)."""

from __future__ import annotations

from datetime import date

from domain.talent import Availability, TalentHit
from handlers.i18n import Translator
from handlers.render import Html, join


def state_line(t: Translator, state: Availability, until: date | None) -> Html:
    """ "🟢 Available" / "🔴 Busy" / "🌴 Away until 2026-03-20"."""
    if state is Availability.AWAY:
        return t("talent.away_until", date=until.isoformat() if until else "…")
    return t(f"talent.state_{state.value}")


def record_text(t: Translator, hit: TalentHit) -> Html:
    """⭐4.8 (12) · 12 contracts · 🪪 — what the record says, briefly."""
    parts: list[Html] = []
    if hit.rating is not None:
        parts.append(t("talent.rating", rating=str(hit.rating), count=hit.ratings))
    else:
        parts.append(t("talent.no_reviews"))
    parts.append(t("talent.contracts", count=hit.completed))
    if hit.verified:
        parts.append(t("talent.verified"))
    return join(parts, " · ")


def reason_text(t: Translator, hit: TalentHit) -> Html:
    """Why an invite candidate is suggested: "3 of 4 skills · ⭐4.8 (5) · 12 contracts"."""
    parts: list[Html] = []
    if hit.wanted_skills:
        parts.append(t("talent.skill_fit", shared=hit.shared_skills, wanted=hit.wanted_skills))
    if hit.shared_skills == 0:
        parts.append(t("talent.same_category"))
    parts.append(record_text(t, hit))
    parts.append(t("talent.complete", percent=hit.completeness))
    if hit.availability is not Availability.AVAILABLE:
        parts.append(state_line(t, hit.availability, hit.away_until))
    return join(parts, " · ")
