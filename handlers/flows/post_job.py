"""Post a job (/post): title → description → category → skills → budget type →
amount → deadline → preview → Publish; and editing a published job's fields.

The draft lives in the conversation state ("post_job", step) so a restart
loses nothing: {"mode": "new" | "fix" | "job", "job_id", "title",
"description", "category", "skills": [...], "budget_type", "budget": minor
units, "deadline": iso date | None, "changed": [fields]}. Mode "fix" edits one
field of the draft from the preview; mode "job" edits a published job.

Callback data (prefix "pj", handlers.prefixes.POST_JOB; the old codes in brackets
still work):
- "pj:edit:<job id>"              the field menu for editing a published job (job cards)
- "pj:edit_field:<job id>:<field>"  start editing that field of the published job [jf]
- wizard (valid only inside it, else "no longer available"):
  "pj:cancel", "pj:back", "pj:category::<category slug>" [cat],
  "pj:toggle_skill::<skill slug>" [sk], "pj:skills_done" [skdone],
  "pj:budget_type::fixed|hourly" [bt], "pj:no_deadline" [skip], "pj:publish" [pub],
  "pj:draft_fields" (the field menu from the preview) [fixm],
  "pj:fix_field::<field>" (edit a draft field) [fix]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain import validation
from domain.entities import Job
from domain.money import parse_money
from domain.states import JOB, JobStatus
from domain.usecases import jobs, queries
from domain.usecases.common import client
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.flows.cancel import confirm_discard, offer_draft
from handlers.flows.my_jobs import show_manage_card
from handlers.i18n import Translator
from handlers.prefixes import MY_JOBS
from handlers.prefixes import POST_JOB as PREFIX
from handlers.render import Html, button, job_card, join, keyboard, money, rows
from handlers.routing import Menu, Steps, command, resumes, step
from handlers.taxonomy_names import skill_names
from handlers.wizard_views import (
    category_buttons,
    pressed_skill,
    required_skills,
    skill_buttons,
    typed_skills,
    wizard_draft,
)


class PostJobStep(Steps, flow="post_job", drafts=True):
    """The job wizard, step by step (the values are stored: never change one).
    A new job's wizard left by another command is kept as a draft."""

    TITLE = "title"
    DESCRIPTION = "description"
    CATEGORY = "category"
    SKILLS = "skills"
    BUDGET_TYPE = "budget_type"
    AMOUNT = "amount"
    DEADLINE = "deadline"
    PREVIEW = "preview"

    @classmethod
    def draft_subject(cls, data: dict[str, Any]) -> str | None:
        return None if data.get("mode") == "job" else ""  # a published job's edit: not kept

    @classmethod
    def answered(cls, data: dict[str, Any]) -> int:
        return sum(1 for name in FIELDS.values() if name in data and data[name] != [])


# Steps in asking order; "amount" stores the draft's "budget".
STEPS = ("title", "description", "category", "skills", "budget_type", "amount", "deadline")
FIELDS = {step: ("budget" if step == "amount" else step) for step in STEPS}
# Editing one of these also asks the next (skill buttons depend on the category,
# the amount's meaning on the budget type).
CHAINED = {"category": "skills", "budget_type": "amount"}


def _cancel(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), PREFIX.data("cancel"))


def _back(t: Translator) -> Button:
    return button(t.plain("post.btn.back"), PREFIX.data("back"))


def _nav(ctx: Context, step_name: str) -> list[Button]:
    """Back (where there is somewhere to go back to) and Cancel."""
    mode = ctx.data.get("mode", "new")
    first = mode == "new" and step_name == STEPS[0]
    return [b for b in (None if first else _back(ctx.t), _cancel(ctx.t)) if b]


# --- asking --------------------------------------------------------------------


async def ask(
    ctx: Context, step_name: str, draft: dict[str, Any], current: str | None = None
) -> None:
    """Enter `step_name` and show its question (in place after a button press);
    `current` is the value being replaced, shown under the question."""
    await ctx.set_state(PostJobStep(step_name), draft)
    t = ctx.t
    nav = _nav(ctx, step_name)
    if step_name == "title":
        text = t("post.ask_title", min=validation.JOB_TITLE_MIN, max=validation.JOB_TITLE_MAX)
        kb = keyboard(nav)
    elif step_name == "description":
        text = t(
            "post.ask_description",
            min=validation.DESCRIPTION_MIN,
            max=validation.DESCRIPTION_MAX,
        )
        kb = keyboard(nav)
    elif step_name == "category":
        text = t("post.ask_category")
        cats = category_buttons(t, draft.get("category"), lambda c: PREFIX.data("category", arg=c))
        kb = [*rows(cats, 2), nav]
    elif step_name == "skills":
        text, kb = _skills_view(ctx, draft)
    elif step_name == "budget_type":
        text = t("post.ask_budget_type")
        kb = keyboard(
            [
                button(t.plain("post.btn.fixed"), PREFIX.data("budget_type", arg="fixed")),
                button(t.plain("post.btn.hourly"), PREFIX.data("budget_type", arg="hourly")),
            ],
            nav,
        )
    elif step_name == "amount":
        key = "post.ask_rate" if draft.get("budget_type") == "hourly" else "post.ask_budget"
        text = t(key, currency=ctx.config.currency)
        kb = keyboard(nav)
    elif step_name == "deadline":
        text = t("post.ask_deadline")
        kb = keyboard(button(t.plain("post.btn.no_deadline"), PREFIX.data("no_deadline")), nav)
    else:
        raise StaleButton()
    if current:
        text = join([text, Html(""), ctx.t("post.current_value", value=current)])
    await ctx.edit(text, kb)


def _skills_view(ctx: Context, draft: dict[str, Any]) -> tuple[Html, Keyboard]:
    t = ctx.t
    toggles = skill_buttons(t, draft, lambda s: PREFIX.data("toggle_skill", arg=s))
    shown = skill_names(t, draft.get("skills") or []) or t.plain("post.none_yet")
    text = join(
        [
            t("post.ask_skills", max=jobs.MAX_SKILLS),
            t("post.skills_chosen", skills=shown),
        ]
    )
    done = button(t.plain("post.btn.skills_done"), PREFIX.data("skills_done"))
    return text, [*rows(toggles, 2), [done], _nav(ctx, "skills")]


def _draft_job(ctx: Context, draft: dict[str, Any]) -> Job:
    return Job(
        id=None,
        client_id=ctx.user.id,
        title=draft.get("title", ""),
        description=draft.get("description", ""),
        category=draft.get("category"),
        skills=list(draft.get("skills") or []),
        budget_type=draft.get("budget_type", "fixed"),
        budget=int(draft.get("budget") or 0),
        currency=ctx.config.currency,
        deadline=date.fromisoformat(draft["deadline"]) if draft.get("deadline") else None,
        status=JobStatus.OPEN,
    )


def preview_card(ctx: Context, draft: dict[str, Any]) -> Html:
    """The job card exactly as freelancers will see it, without the id it has yet to get."""
    return job_card(_draft_job(ctx, draft), ctx.t)  # no id yet: no status, no "Job #…"


async def show_preview(ctx: Context, draft: dict[str, Any]) -> None:
    draft = dict(draft) | {"mode": "new"}
    await ctx.set_state(PostJobStep.PREVIEW, draft)
    t = ctx.t
    text = join([t("post.preview_title"), Html(""), preview_card(ctx, draft)])
    kb = keyboard(
        button(t.plain("post.btn.publish"), PREFIX.data("publish")),
        [
            button(t.plain("post.btn.edit"), PREFIX.data("draft_fields")),
            _back(t),
        ],
        _cancel(t),
    )
    await ctx.edit(text, kb)


def _field_menu(t: Translator, data_for: Any) -> Keyboard:
    return rows([button(t.plain(f"post.field.{s}"), data_for(s)) for s in STEPS], 2)


# --- moving on ---------------------------------------------------------------------


async def advance(ctx: Context, draft: dict[str, Any], done: str) -> None:
    """After step `done` got its answer: the next question, the preview, or the saved job."""
    changed = list(dict.fromkeys([*draft.get("changed", []), FIELDS[done]]))
    draft = draft | {"changed": changed}
    mode = draft.get("mode", "new")
    if mode != "new" and done in CHAINED:
        await ask(ctx, CHAINED[done], draft)
    elif mode == "new" and done != STEPS[-1]:
        await ask(ctx, STEPS[STEPS.index(done) + 1], draft)
    elif mode == "job":
        await _save_job(ctx, draft)
    else:
        await show_preview(ctx, draft)


async def _save_job(ctx: Context, draft: dict[str, Any]) -> None:
    """Only the fields edited in this round change; the rest are re-read from the job."""
    job = await queries.own_job(ctx.uow, ctx.user.id, int(draft["job_id"]))
    current = _job_draft(job)
    merged = current | {name: draft.get(name) for name in draft.get("changed", [])}
    assert job.id is not None
    job = await jobs.edit_job(ctx.uow, ctx.clock, ctx.user.id, job.id, _fields(merged))
    await ctx.clear_state()
    await show_manage_card(ctx, job, notice=ctx.t("post.saved"))


def _clean_title(text: str) -> str:
    return validation.clean_text(text, "title", validation.JOB_TITLE_MIN, validation.JOB_TITLE_MAX)


def _clean_description(text: str) -> str:
    return validation.clean_text(
        text, "description", validation.DESCRIPTION_MIN, validation.DESCRIPTION_MAX
    )


# --- entry points -------------------------------------------------------------------


@command("post", order=60, menu=Menu.CLIENT, menu_order=10)
async def post(ctx: Context) -> None:
    await client(ctx.uow, ctx.user.id)  # clients only; others get a clear refusal
    fresh: dict[str, Any] = {"mode": "new", "skills": []}
    if not await offer_draft(ctx, PostJobStep, fresh):
        await ask(ctx, "title", fresh)


@resumes(PostJobStep)
async def resume(ctx: Context) -> None:
    """A continued draft: its step asked again (or its preview shown)."""
    at = ctx.state.step if ctx.state else ""
    if at == PostJobStep.PREVIEW:
        await show_preview(ctx, ctx.data)
    else:
        await ask(ctx, at, ctx.data)


@step(PostJobStep.TITLE)
async def got_title(ctx: Context) -> None:
    await advance(ctx, ctx.data | {"title": _clean_title(ctx.text)}, "title")


@step(PostJobStep.DESCRIPTION)
async def got_description(ctx: Context) -> None:
    await advance(ctx, ctx.data | {"description": _clean_description(ctx.text)}, "description")


@step(PostJobStep.SKILLS)
async def got_tag(ctx: Context) -> None:
    """Typed skills (taxonomy.parse_skills, as on the profile): each added, or
    removed when typed again (in any case)."""
    draft = ctx.data
    draft["skills"] = typed_skills(ctx.t, draft.get("skills") or [], ctx.text)
    await ctx.set_state(PostJobStep.SKILLS, draft)
    text, kb = _skills_view(ctx, draft)
    await ctx.reply(text, kb)


@step(PostJobStep.AMOUNT)
async def got_amount(ctx: Context) -> None:
    field = "rate" if ctx.data.get("budget_type") == "hourly" else "budget"
    amount = parse_money(ctx.text, ctx.config.currency, field).amount
    await advance(ctx, ctx.data | {"budget": amount}, "amount")


@step(PostJobStep.DEADLINE)
async def got_deadline(ctx: Context) -> None:
    day = validation.parse_date(ctx.text, ctx.clock.now().date())
    await advance(ctx, ctx.data | {"deadline": day.isoformat()}, "deadline")


async def _buttons_only(ctx: Context) -> None:
    await ctx.reply(ctx.t("post.use_buttons"))


for _name in ("category", "budget_type", "preview"):
    step(PostJobStep(_name))(_buttons_only)


# --- buttons ---------------------------------------------------------------------------


@PREFIX.on("edit")
async def edit_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _job_field_menu(ctx, ctx.callback.require_id())


@PREFIX.on("edit_field", old=("jf",))
async def edit_field_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _edit_job_field(ctx, ctx.callback.require_id(), ctx.callback.arg)


# The wizard's buttons: a button from a finished or replaced conversation, or from
# another step of it, is no longer available.


def _draft(ctx: Context, *steps: str) -> dict[str, Any]:
    return wizard_draft(ctx, PostJobStep, *steps)


def _arg(ctx: Context) -> str | None:
    return ctx.callback.arg if ctx.callback else None


@PREFIX.on("cancel", wizard=True)
async def cancel_pressed(ctx: Context) -> None:
    draft = _draft(ctx)
    if await confirm_discard(ctx, PostJobStep.PREVIEW):
        return
    await ctx.clear_state()
    if draft.get("mode") == "job":
        job = await queries.own_job(ctx.uow, ctx.user.id, int(draft["job_id"]))
        await show_manage_card(ctx, job)
    else:
        await ctx.edit(ctx.t("post.cancelled"))
    ctx.answer(ctx.t.plain("post.cancelled_short"))


@PREFIX.on("back", wizard=True)
async def back_pressed(ctx: Context) -> None:
    draft = _draft(ctx)
    await _go_back(ctx, draft, ctx.state.step if ctx.state else "")


@PREFIX.on("category", old=("cat",), wizard=True)
async def category_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "category")
    await advance(ctx, draft | {"category": jobs.clean_category(_arg(ctx) or "")}, "category")


@PREFIX.on("toggle_skill", old=("sk",), wizard=True)
async def toggle_skill_pressed(ctx: Context) -> None:
    await _toggle_skill(ctx, _draft(ctx, "skills"), _arg(ctx))


@PREFIX.on("skills_done", old=("skdone",), wizard=True)
async def skills_done_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "skills")
    skills = required_skills(draft.get("skills") or [])
    await advance(ctx, draft | {"skills": skills}, "skills")


@PREFIX.on("budget_type", old=("bt",), wizard=True)
async def budget_type_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "budget_type")
    kind = _arg(ctx)
    if kind not in jobs.BUDGET_TYPES:
        raise StaleButton()
    await advance(ctx, draft | {"budget_type": kind}, "budget_type")


@PREFIX.on("no_deadline", old=("skip",), wizard=True)
async def no_deadline_pressed(ctx: Context) -> None:
    await advance(ctx, _draft(ctx, "deadline") | {"deadline": None}, "deadline")


@PREFIX.on("publish", old=("pub",), wizard=True)
async def publish_pressed(ctx: Context) -> None:
    await _publish(ctx, _draft(ctx, "preview"))


@PREFIX.on("draft_fields", old=("fixm",), wizard=True)
async def draft_fields_pressed(ctx: Context) -> None:
    _draft(ctx, "preview")
    await ctx.edit(
        ctx.t("post.which_field"),
        [*_field_menu(ctx.t, lambda s: PREFIX.data("fix_field", arg=s)), [_back(ctx.t)]],
    )


@PREFIX.on("fix_field", old=("fix",), wizard=True)
async def fix_field_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "preview")
    field = _arg(ctx)
    if field not in STEPS:
        raise StaleButton()
    await ask(ctx, field, draft | {"mode": "fix"})


async def _go_back(ctx: Context, draft: dict[str, Any], current: str) -> None:
    mode = draft.get("mode", "new")
    if mode == "job":
        await _job_field_menu(ctx, int(draft["job_id"]))
    elif mode == "fix":
        await show_preview(ctx, draft)
    elif current == "preview":
        await ask(ctx, STEPS[-1], draft)
    elif current in STEPS and current != STEPS[0]:
        await ask(ctx, STEPS[STEPS.index(current) - 1], draft)
    else:
        raise StaleButton()


async def _toggle_skill(ctx: Context, draft: dict[str, Any], slug: str | None) -> None:
    draft["skills"] = pressed_skill(draft, slug)
    await ctx.set_state(PostJobStep.SKILLS, draft)
    text, kb = _skills_view(ctx, draft)
    await ctx.edit(text, kb)
    ctx.answer()


def _fields(draft: dict[str, Any]) -> jobs.JobFields:
    deadline = draft.get("deadline")
    return jobs.JobFields(
        title=draft.get("title", ""),
        description=draft.get("description", ""),
        category=draft.get("category"),
        skills=tuple(required_skills(draft.get("skills") or ())),
        budget_type=draft.get("budget_type", "fixed"),
        budget=int(draft.get("budget") or 0),
        deadline=date.fromisoformat(deadline) if deadline else None,
    )


async def _publish(ctx: Context, draft: dict[str, Any]) -> None:
    """A draft job, published at once: matching freelancers get their alerts."""
    draft_job = await jobs.post_job(ctx.uow, ctx.clock, ctx.config, ctx.user.id, _fields(draft))
    assert draft_job.id is not None
    job = await jobs.publish_job(ctx.uow, ctx.clock, ctx.user.id, draft_job.id)
    await ctx.clear_state()
    await show_manage_card(ctx, job, notice=ctx.t("post.published"))
    ctx.answer(ctx.t.plain("post.published_short"))


# --- editing a published job ---------------------------------------------------------------


async def _editable_job(ctx: Context, job_id: int) -> Job:
    job = await queries.own_job(ctx.uow, ctx.user.id, job_id)
    JOB.next(job.status, "edit")  # a closed job cannot be edited: refused now, not at the end
    return job


async def _job_field_menu(ctx: Context, job_id: int) -> None:
    job = await _editable_job(ctx, job_id)
    if ctx.in_step(PostJobStep):
        await ctx.leave()  # a new job's wizard is kept as a draft
    t = ctx.t
    kb = [
        *_field_menu(t, lambda s: PREFIX.data("edit_field", job_id, s)),
        [button(t.plain("post.btn.back"), MY_JOBS.data("manage_job", job_id))],
    ]
    await ctx.edit(join([t("post.edit_which", title=job.title)]), kb)


async def _edit_job_field(ctx: Context, job_id: int, field: str | None) -> None:
    if field not in STEPS:
        raise StaleButton()
    job = await _editable_job(ctx, job_id)
    draft = _job_draft(job) | {"mode": "job", "job_id": job.id, "changed": []}
    await ask(ctx, field, draft, current=_current_value(job, field))


def _job_draft(job: Job) -> dict[str, Any]:
    return {
        "title": job.title,
        "description": job.description,
        "category": job.category,
        "skills": list(job.skills),
        "budget_type": job.budget_type,
        "budget": job.budget,
        "deadline": job.deadline.isoformat() if job.deadline else None,
    }


def _current_value(job: Job, field: str) -> str:
    if field in ("title", "description"):
        return getattr(job, field)
    if field == "amount":
        return money(job.budget, job.currency)
    if field == "deadline":
        return job.deadline.isoformat() if job.deadline else ""
    return ""
