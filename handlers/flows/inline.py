"""Inline mode: "@<bot> python bot" in any chat lists matching open jobs;
"@<bot> service logo" lists services of the catalogue (just "service": one's own
services, personal; flows/catalog.py renders them with deep links service_<id>).

Each result posts the job's card with "Open in Gigbot" and "Pitch" — deep links
(t.me/<bot>?start=job_<id> / pitch_<id>, handlers/flows/start.py), as a message
sent "via @bot" belongs to no conversation with the bot and callback buttons
under it would reach us without a chat. Empty text: the newest jobs. Pages of
PAGE results, `next_offset` the next page's start.

Only public data: open jobs as the market shows them to anyone, no one's block
list (the answer is cached by Telegram for everyone typing the same words:
is_personal false); opening a link goes through the visibility rule again.
"""

from __future__ import annotations

from domain.entities import Job
from domain.ports import JobQuery
from handlers.context import Scope
from handlers.events import Event, InlineAnswer, InlineResult, Outcome
from handlers.i18n import Translator
from handlers.render import job_card, money, shorten
from handlers.routing import answers
from handlers.taxonomy_names import skill_names

PAGE = 20  # Telegram takes up to 50 results per answer
MAX_OFFSET = 1000  # deeper than anyone scrolls in an inline list
CACHE_SECONDS = 60  # the same words within a minute get the same (public) answer


def _offset(raw: str) -> int:
    """The page start Telegram echoes back (ours: a decimal number); else 0."""
    return int(raw) if raw.isdigit() and int(raw) <= MAX_OFFSET else 0


def deep_link(bot_username: str | None, payload: str) -> str:
    return f"https://t.me/{bot_username or 'gigbot_bot'}?start={payload}"


def job_result(job: Job, t: Translator, bot_username: str | None) -> InlineResult:
    assert job.id is not None
    budget = money(job.budget, job.currency)
    kind = t.plain("inline.hourly" if job.budget_type == "hourly" else "inline.fixed")
    about = f"{budget} {kind}"
    if job.skills:
        about += " · " + str(skill_names(t, job.skills[:4]))
    buttons = [
        [{"text": t.plain("inline.open"), "url": deep_link(bot_username, f"job_{job.id}")}],
        [{"text": t.plain("inline.pitch"), "url": deep_link(bot_username, f"pitch_{job.id}")}],
    ]
    return InlineResult(
        id=f"job_{job.id}",
        title=shorten(job.title, 120),
        description=shorten(about, 200),
        text=str(job_card(job, t, full=False)),
        buttons=buttons,
    )


@answers("inline_query")
async def inline_jobs(scope: Scope, event: Event, t: Translator) -> Outcome:
    start = _offset(event.inline_offset)
    from handlers.flows.catalog import inline_service_words, inline_services

    words = inline_service_words(event.text or "")
    if words is not None:  # "service <words>": service cards (flows/catalog.py)
        found, more, personal = await inline_services(scope, event, t, words, start, PAGE)
        return Outcome(
            inline_answer=InlineAnswer(
                results=found,
                next_offset=str(start + PAGE) if more and start + PAGE <= MAX_OFFSET else "",
                cache_time=CACHE_SECONDS,
                is_personal=personal,
            )
        )
    jobs, total = await scope.uow.search.search(
        JobQuery(text=(event.text or "").strip(), offset=start, limit=PAGE)
    )
    results = tuple(job_result(job, t, event.bot_username) for job in jobs)
    more = start + len(jobs) < total and start + PAGE <= MAX_OFFSET
    return Outcome(
        inline_answer=InlineAnswer(
            results=results,
            next_offset=str(start + PAGE) if more else "",
            cache_time=CACHE_SECONDS,
            is_personal=False,
        )
    )
