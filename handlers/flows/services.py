"""A seller's services (issue 15): /services lists them; "➕ New service" is a
wizard (title → description → category → skills → packages one by one → extras →
samples → buyer questions → preview → Publish); a saved service is managed from
its card (pause / resume, edit one section, delete).

The wizard's draft lives in the conversation state ("services", step), kept as
a continuable draft when another command interrupts it (drafts=True):
{"mode": "new" | "fix" | "svc", "service_id" (mode svc), "title",
"description", "category", "skills": [...], "packages": [{"name", "included",
"price", "delivery_days", "revisions"}] (tier by position: basic, standard,
premium), "pkg": the package being typed, "pkg_at": its index when one is being
changed, "extras": [{"title", "price", "days_delta"}], "extra": the extra
being typed, "samples": [{"kind", "value"}], "questions": [...]}.
Mode "fix" changes a section of a new service from its preview; mode "svc"
changes a section of a saved service, saved at once (domain.usecases.services).

Callback data (prefix "svc", handlers.prefixes.SERVICE):
- "svc:list" the seller's services; "svc:manage:<id>" their card; "svc:create" the wizard
- "svc:photos:<id>" the photo samples; "svc:pause:<id>", "svc:resume:<id>",
  "svc:publish_saved:<id>" (a saved draft), "svc:delete:<id>" → "svc:delete_sure:<id>"
- "svc:edit:<id>" the sections of a saved service → "svc:edit_section:<id>:<section>"
- wizard (only inside it): "svc:cancel", "svc:category::<slug>", "svc:toggle_skill::<slug>",
  "svc:skills_done", "svc:add_package", "svc:edit_package::<tier>",
  "svc:drop_package::<tier>", "svc:packages_done", "svc:add_extra",
  "svc:drop_extra::<n>", "svc:extras_done", "svc:extra_days::<delta>",
  "svc:drop_sample::<n>", "svc:samples_done", "svc:drop_question::<n>",
  "svc:questions_done", "svc:publish", "svc:sections", "svc:fix_section::<section>",
  "svc:back" (one screen back), "svc:back::preview" (from the sections to the preview)
"""

from __future__ import annotations

from typing import Any

from domain import services as rules
from domain import taxonomy
from domain.errors import ValidationError
from domain.services import (
    MAX_EXTRAS,
    MAX_PACKAGES,
    MAX_QUESTIONS,
    MAX_SAMPLES,
    SAMPLE_PHOTO,
    TIERS,
    Service,
    ServiceExtra,
    ServicePackage,
    ServiceStatus,
)
from domain.usecases import jobs
from domain.usecases import services as uc
from domain.usecases.common import freelancer
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import PHOTO_PREFIX, Button, Keyboard
from handlers.flows.cancel import confirm_discard, offer_draft
from handlers.i18n import Translator
from handlers.prefixes import SERVICE as PREFIX
from handlers.render import Html, button, join, keyboard, money, rows, shorten
from handlers.routing import Menu, Steps, command, resumes, step
from handlers.service_views import extra_line, service_card, show_service, tier_label
from handlers.taxonomy_names import skill_names
from handlers.wizard_views import (
    category_buttons,
    pressed_skill,
    required_skills,
    skill_buttons,
    typed_skills,
    wizard_draft,
)


class ServiceStep(Steps, flow="services", drafts=True):
    """The service wizard (the values are stored: never change one). A new
    service's wizard left by another command is kept as a draft."""

    TITLE = "title"
    DESCRIPTION = "description"
    CATEGORY = "category"
    SKILLS = "skills"
    PKG_NAME = "pkg_name"
    PKG_INCLUDED = "pkg_included"
    PKG_PRICE = "pkg_price"
    PKG_DAYS = "pkg_days"
    PKG_REVISIONS = "pkg_revisions"
    PACKAGES = "packages"
    EXTRAS = "extras"
    EXTRA_TITLE = "extra_title"
    EXTRA_PRICE = "extra_price"
    EXTRA_DAYS = "extra_days"
    SAMPLES = "samples"
    QUESTIONS = "questions"
    PREVIEW = "preview"

    @classmethod
    def draft_subject(cls, data: dict[str, Any]) -> str | None:
        return None if data.get("mode") == "svc" else ""  # a saved service's edit: not kept

    @classmethod
    def answered(cls, data: dict[str, Any]) -> int:
        singles = sum(1 for name in ("title", "description", "category") if data.get(name))
        lists = sum(len(data.get(name) or []) for name in SECTIONS[3:])
        return singles + lists


# The sections in asking order (each one step, or a list screen).
SECTIONS = (
    "title",
    "description",
    "category",
    "skills",
    "packages",
    "extras",
    "samples",
    "questions",
)
# Changing the category asks the skills again (their buttons depend on it).
CHAINED = {"category": "skills"}
EXTRA_DAY_CHOICES = ("0", "-1", "-2", "1")


def _cancel(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), PREFIX.data("cancel"))


def _back(t: Translator, arg: str | None = None) -> Button:
    return button(t.plain("svc.btn.back"), PREFIX.data("back", arg=arg))


def _goes_back(draft: dict[str, Any], step: str) -> bool:
    """Is there somewhere to go back to from `step`? Within a package or an extra
    being typed, always (its previous question, or its list); in a new service's
    wizard, from every section but the first; changing one section from the
    preview, to the preview. Changing a saved service has Cancel for that."""
    if step.startswith(("pkg_", "extra_")):
        return True
    mode = _mode(draft)
    return mode == "fix" or (mode == "new" and step != SECTIONS[0])


def _nav(t: Translator, draft: dict[str, Any], step: str, cancel: bool = True) -> list[Button]:
    """The bottom row of a wizard screen: Back (where it goes somewhere) and Cancel."""
    back = _back(t) if _goes_back(draft, step) else None
    return [b for b in (back, _cancel(t) if cancel else None) if b is not None]


def _mode(draft: dict[str, Any]) -> str:
    return str(draft.get("mode", "new"))


# --- the draft as domain values --------------------------------------------------------


def _fields(draft: dict[str, Any]) -> uc.ServiceFields:
    return uc.ServiceFields(
        title=draft.get("title", ""),
        description=draft.get("description", ""),
        category=draft.get("category"),
        skills=tuple(draft.get("skills") or ()),
        packages=tuple(uc.PackageFields(**p) for p in draft.get("packages") or ()),
        extras=tuple(uc.ExtraFields(**x) for x in draft.get("extras") or ()),
        samples=tuple(dict(s) for s in draft.get("samples") or ()),
        questions=tuple(draft.get("questions") or ()),
    )


def _draft_of(fields: uc.ServiceFields) -> dict[str, Any]:
    return {
        "title": fields.title,
        "description": fields.description,
        "category": fields.category,
        "skills": list(fields.skills),
        "packages": [
            {
                "name": p.name,
                "included": p.included,
                "price": p.price,
                "delivery_days": p.delivery_days,
                "revisions": p.revisions,
            }
            for p in fields.packages
        ],
        "extras": [
            {"title": x.title, "price": x.price, "days_delta": x.days_delta} for x in fields.extras
        ],
        "samples": [dict(s) for s in fields.samples],
        "questions": list(fields.questions),
    }


def _packages(draft: dict[str, Any], currency: str) -> list[ServicePackage]:
    return [
        ServicePackage(service_id=0, tier=TIERS[i], **p)
        for i, p in enumerate((draft.get("packages") or [])[:MAX_PACKAGES])
    ]


def _extras(draft: dict[str, Any]) -> list[ServiceExtra]:
    return [
        ServiceExtra(service_id=0, position=i, **x)
        for i, x in enumerate(draft.get("extras") or [], start=1)
    ]


def preview_card(ctx: Context, draft: dict[str, Any]) -> Html:
    """The card as buyers will see it, without the id it has yet to get."""
    currency = ctx.config.currency
    service = Service(
        seller_id=ctx.user.id,
        title=draft.get("title", ""),
        description=draft.get("description", ""),
        category=draft.get("category"),
        skills=list(draft.get("skills") or []),
        status=ServiceStatus.ACTIVE,
        currency=currency,
        questions=list(draft.get("questions") or []),
        samples=list(draft.get("samples") or []),
    )
    card = service_card(
        ctx.t,
        service,
        _packages(draft, currency),
        _extras(draft),
        seller_name=ctx.user.name,
    )
    questions = draft.get("questions") or []
    if questions:
        card = join(
            [
                card,
                Html(""),
                ctx.t("svc.preview.questions"),
                *[ctx.t("svc.list.item", n=i, text=q) for i, q in enumerate(questions, 1)],
            ]
        )
    return card


# --- asking ------------------------------------------------------------------------------


async def ask(ctx: Context, section: str, draft: dict[str, Any]) -> None:
    """Enter a section: its question, or its list screen."""
    t = ctx.t
    if section in ("title", "description"):
        await ctx.set_state(ServiceStep(section), draft)
        if section == "title":
            text = t("svc.ask_title", min=rules.TITLE_MIN, max=rules.TITLE_MAX)
        else:
            text = t("svc.ask_description", min=rules.DESCRIPTION_MIN, max=rules.DESCRIPTION_MAX)
        if _mode(draft) != "new" and draft.get(section):
            current = shorten(str(draft[section]), 300)
            text = join([text, Html(""), t("svc.current_value", value=current)])
        await ctx.edit(text, [_nav(t, draft, section)])
    elif section == "category":
        await ctx.set_state(ServiceStep.CATEGORY, draft)
        cats = category_buttons(t, draft.get("category"), lambda c: PREFIX.data("category", arg=c))
        await ctx.edit(t("svc.ask_category"), [*rows(cats, 2), _nav(t, draft, "category")])
    elif section == "skills":
        await ctx.set_state(ServiceStep.SKILLS, draft)
        text, kb = _skills_view(ctx, draft)
        await ctx.edit(text, kb)
    elif section == "packages":
        if draft.get("packages"):
            await show_packages(ctx, draft)
        else:
            await ask_package(ctx, draft | {"pkg": {}, "pkg_at": None})
    elif section == "extras":
        await show_extras(ctx, draft)
    elif section == "samples":
        await show_samples(ctx, draft)
    elif section == "questions":
        await show_questions(ctx, draft)
    else:
        raise StaleButton()


def _skills_view(ctx: Context, draft: dict[str, Any]) -> tuple[Html, Keyboard]:
    t = ctx.t
    toggles = skill_buttons(t, draft, lambda s: PREFIX.data("toggle_skill", arg=s))
    shown = skill_names(t, draft.get("skills") or []) or t.plain("svc.none_yet")
    text = join([t("svc.ask_skills", max=jobs.MAX_SKILLS), t("svc.skills_chosen", skills=shown)])
    done = button(t.plain("svc.btn.skills_done"), PREFIX.data("skills_done"))
    return text, [*rows(toggles, 2), [done], _nav(t, draft, "skills")]


def _package_tier(draft: dict[str, Any]) -> str:
    at = draft.get("pkg_at")
    return TIERS[at] if isinstance(at, int) else TIERS[len(draft.get("packages") or [])]


async def ask_package(ctx: Context, draft: dict[str, Any]) -> None:
    """The next question of the package being typed (name → included → price →
    delivery days → revisions)."""
    t = ctx.t
    pkg: dict[str, Any] = draft.get("pkg") or {}
    tier = tier_label(t, _package_tier(draft))
    if "name" not in pkg:
        at, key, params = ServiceStep.PKG_NAME, "svc.ask_pkg_name", {"max": rules.PACKAGE_NAME_MAX}
    elif "included" not in pkg:
        at, key, params = ServiceStep.PKG_INCLUDED, "svc.ask_pkg_included", {}
    elif "price" not in pkg:
        at, key, params = (
            ServiceStep.PKG_PRICE,
            "svc.ask_pkg_price",
            {"currency": ctx.config.currency},
        )
    elif "delivery_days" not in pkg:
        at, key, params = ServiceStep.PKG_DAYS, "svc.ask_pkg_days", {"max": rules.MAX_DELIVERY_DAYS}
    else:
        at, key, params = ServiceStep.PKG_REVISIONS, "svc.ask_pkg_revisions", {}
    await ctx.set_state(at, draft)
    kb: Keyboard = [_nav(t, draft, at)]
    if at is ServiceStep.PKG_REVISIONS:
        kb = [
            [button(n, PREFIX.data("revisions", arg=n)) for n in ("0", "1", "2", "3")],
            _nav(t, draft, at),
        ]
    await ctx.edit(join([t("svc.pkg_header", tier=tier), t(key, **params)]), kb)


def _done_label(t: Translator, draft: dict[str, Any], empty: bool = False) -> str:
    if _mode(draft) == "new":
        return t.plain("svc.btn.skip" if empty else "svc.btn.continue")
    return t.plain("svc.btn.done")


async def show_packages(ctx: Context, draft: dict[str, Any], notice: Html | None = None) -> None:
    t = ctx.t
    currency = ctx.config.currency
    packages = _packages(draft, currency)
    await ctx.set_state(ServiceStep.PACKAGES, draft | {"pkg": {}, "pkg_at": None})
    lines: list[str] = [t("svc.packages_title", have=len(packages), max=MAX_PACKAGES)]
    for p in packages:
        lines.append(
            t(
                "svc.packages_line",
                tier=tier_label(t, p.tier),
                name=p.name,
                price=money(p.price, currency),
                days=t.plain("svc.days", count=p.delivery_days),
            )
        )
    if notice is not None:
        lines = [notice, Html(""), *lines]
    kb: Keyboard = []
    for p in packages:
        kb.append(
            [
                button(f"✏️ {tier_label(t, p.tier)}", PREFIX.data("edit_package", arg=p.tier)),
                button(f"🗑 {tier_label(t, p.tier)}", PREFIX.data("drop_package", arg=p.tier)),
            ]
        )
    if len(packages) < MAX_PACKAGES:
        kb.append([button(t.plain("svc.btn.add_package"), PREFIX.data("add_package"))])
    if packages:
        kb.append([button(_done_label(t, draft), PREFIX.data("packages_done"))])
    if _mode(draft) != "svc":
        kb.append(_nav(t, draft, "packages"))
    await ctx.edit(join(lines), kb)


async def show_extras(ctx: Context, draft: dict[str, Any], notice: Html | None = None) -> None:
    t = ctx.t
    extras = _extras(draft)
    await ctx.set_state(ServiceStep.EXTRAS, draft | {"extra": {}})
    lines: list[str] = [t("svc.extras_title", max=MAX_EXTRAS)]
    lines += [
        join([Html(f"{i}. "), extra_line(t, x, ctx.config.currency)], "")
        for i, x in enumerate(extras, 1)
    ]
    add = button(t.plain("svc.btn.add_extra"), PREFIX.data("add_extra"))
    await _show_list_section(
        ctx,
        draft,
        "extras",
        lines,
        notice,
        drop=[PREFIX.data("drop_extra", arg=str(i)) for i in range(1, len(extras) + 1)],
        add=add if len(extras) < MAX_EXTRAS else None,
        done=PREFIX.data("extras_done"),
    )


async def ask_extra(ctx: Context, draft: dict[str, Any]) -> None:
    t = ctx.t
    extra: dict[str, Any] = draft.get("extra") or {}
    if "title" not in extra:
        await ctx.set_state(ServiceStep.EXTRA_TITLE, draft)
        await ctx.edit(
            t("svc.ask_extra_title", max=rules.EXTRA_TITLE_MAX),
            [_nav(t, draft, ServiceStep.EXTRA_TITLE)],
        )
    elif "price" not in extra:
        await ctx.set_state(ServiceStep.EXTRA_PRICE, draft)
        await ctx.edit(
            t("svc.ask_extra_price", title=extra["title"], currency=ctx.config.currency),
            [_nav(t, draft, ServiceStep.EXTRA_PRICE)],
        )
    else:
        await ctx.set_state(ServiceStep.EXTRA_DAYS, draft)
        choices = [
            button(t.plain(f"svc.btn.extra_days.{d}"), PREFIX.data("extra_days", arg=d))
            for d in EXTRA_DAY_CHOICES
        ]
        await ctx.edit(
            t("svc.ask_extra_days"), [*rows(choices, 2), _nav(t, draft, ServiceStep.EXTRA_DAYS)]
        )


async def show_samples(ctx: Context, draft: dict[str, Any], notice: Html | None = None) -> None:
    t = ctx.t
    samples: list[dict[str, str]] = list(draft.get("samples") or [])
    await ctx.set_state(ServiceStep.SAMPLES, draft)
    lines: list[str] = [t("svc.samples_title", max=MAX_SAMPLES, have=len(samples))]
    for i, s in enumerate(samples, 1):
        what = t.plain("svc.sample_photo") if s.get("kind") == SAMPLE_PHOTO else s.get("value", "")
        lines.append(t("svc.list.item", n=i, text=shorten(what, 80)))
    await _show_list_section(
        ctx,
        draft,
        "samples",
        lines,
        notice,
        drop=[PREFIX.data("drop_sample", arg=str(i)) for i in range(1, len(samples) + 1)],
        done=PREFIX.data("samples_done"),
    )


async def show_questions(ctx: Context, draft: dict[str, Any], notice: Html | None = None) -> None:
    t = ctx.t
    questions: list[str] = list(draft.get("questions") or [])
    await ctx.set_state(ServiceStep.QUESTIONS, draft)
    lines: list[str] = [t("svc.questions_title", max=MAX_QUESTIONS, have=len(questions))]
    lines += [t("svc.list.item", n=i, text=q) for i, q in enumerate(questions, 1)]
    await _show_list_section(
        ctx,
        draft,
        "questions",
        lines,
        notice,
        drop=[PREFIX.data("drop_question", arg=str(i)) for i in range(1, len(questions) + 1)],
        done=PREFIX.data("questions_done"),
    )


async def _show_list_section(
    ctx: Context,
    draft: dict[str, Any],
    section: str,
    lines: list[str],
    notice: Html | None,
    drop: list[str],
    done: str,
    add: Button | None = None,
) -> None:
    """A list section's screen (extras, samples, questions): the notice, the lines, a 🗑
    button an item (`drop`: their data), `add` (while there is room), Continue / Skip /
    Done, and Back and Cancel but when changing a saved service."""
    t = ctx.t
    if notice is not None:
        lines = [notice, Html(""), *lines]
    kb: Keyboard = rows([button(f"🗑 {i}", data) for i, data in enumerate(drop, 1)], 5)
    if add is not None:
        kb.append([add])
    kb.append([button(_done_label(t, draft, not drop), done)])
    if _mode(draft) != "svc":
        kb.append(_nav(t, draft, section))
    await ctx.edit(join(lines), kb)


async def show_preview(ctx: Context, draft: dict[str, Any]) -> None:
    draft = dict(draft) | {"mode": "new"}
    await ctx.set_state(ServiceStep.PREVIEW, draft)
    t = ctx.t
    text = join([t("svc.preview_title"), Html(""), preview_card(ctx, draft)])
    kb: Keyboard = [
        [button(t.plain("svc.btn.publish"), PREFIX.data("publish"))],
        [button(t.plain("svc.btn.edit"), PREFIX.data("sections"))],
        _nav(t, draft, ServiceStep.PREVIEW),
    ]
    await ctx.edit(text, kb)


def _section_menu(t: Translator, data_for: Any) -> Keyboard:
    return rows([button(t.plain(f"svc.section.{s}"), data_for(s)) for s in SECTIONS], 2)


# --- moving on -------------------------------------------------------------------------------


async def advance(ctx: Context, draft: dict[str, Any], done: str) -> None:
    """After a section got its answer: the next section, the preview, or (editing a
    saved service) the saved service."""
    mode = _mode(draft)
    if mode != "new" and done in CHAINED:
        await ask(ctx, CHAINED[done], draft)
    elif mode == "new" and done != SECTIONS[-1]:
        await ask(ctx, SECTIONS[SECTIONS.index(done) + 1], draft)
    elif mode == "svc":
        await _save(ctx, draft)
        await ctx.clear_state()
        await show_service(ctx, int(draft["service_id"]), notice=ctx.t("svc.saved"))
    else:
        await show_preview(ctx, draft)


async def _save(ctx: Context, draft: dict[str, Any]) -> None:
    """Editing a saved service: every change is saved at once."""
    if _mode(draft) == "svc":
        await uc.update_service(
            ctx.uow, ctx.clock, ctx.user.id, int(draft["service_id"]), _fields(draft)
        )


async def _list_changed(ctx: Context, draft: dict[str, Any], section: str) -> None:
    """A list section changed (an item added or removed): saved when editing a
    saved service, and its list shown again."""
    await _save(ctx, draft)
    notice = ctx.t("svc.saved") if _mode(draft) == "svc" else None
    shows = {
        "packages": show_packages,
        "extras": show_extras,
        "samples": show_samples,
        "questions": show_questions,
    }
    await shows[section](ctx, draft, notice)


# --- entry points -------------------------------------------------------------------------------


@command("services", order=85, menu=Menu.FREELANCER, menu_order=45)
async def services_command(ctx: Context) -> None:
    await show_list(ctx)


async def show_list(ctx: Context) -> None:
    t = ctx.t
    services = await uc.my_services(ctx.uow, ctx.user.id)
    queued = await ctx.uow.services.queued_orders([s.id for s in services if s.id is not None])
    lines: list[str] = [t("svc.list_title", have=len(services), max=rules.MAX_LIVE_SERVICES)]
    if not services:
        lines.append(t("svc.list_empty"))
    kb: Keyboard = []
    for s in services:
        assert s.id is not None
        status = t.plain(f"svc.status.{s.status}")
        label = f"{shorten(s.title, 40)} · {status}"
        if queued.get(s.id):
            label += f" · 📦 {queued[s.id]}"
        kb.append([button(label, PREFIX.data("manage", s.id))])
    if len(services) < rules.MAX_LIVE_SERVICES:
        kb.append([button(t.plain("svc.btn.new"), PREFIX.data("create"))])
    await ctx.edit(join(lines), kb)


@PREFIX.on("list")
async def list_pressed(ctx: Context) -> None:
    if ctx.in_step(ServiceStep):
        await ctx.leave()
    await show_list(ctx)
    ctx.answer()


@PREFIX.on("create")
async def new_pressed(ctx: Context) -> None:
    await freelancer(ctx.uow, ctx.user.id)
    rules.check_live_services(await ctx.uow.services.live_count(ctx.user.id))
    fresh: dict[str, Any] = {"mode": "new", "skills": [], "packages": [], "extras": []}
    if not await offer_draft(ctx, ServiceStep, fresh):
        await ask(ctx, "title", fresh)
        ctx.answer()


@resumes(ServiceStep)
async def resume(ctx: Context) -> None:
    """A continued draft: its step asked again (or its list or preview shown)."""
    at = ctx.state.step if ctx.state else ""
    draft = ctx.data
    if at == ServiceStep.PREVIEW:
        await show_preview(ctx, draft)
    elif at.startswith("pkg_"):
        await ask_package(ctx, draft)
    elif at.startswith("extra_"):
        await ask_extra(ctx, draft)
    elif at in SECTIONS:
        await ask(ctx, at, draft)
    else:
        await ask(ctx, "title", draft)


# --- typed answers -----------------------------------------------------------------------------


@step(ServiceStep.TITLE)
async def got_title(ctx: Context) -> None:
    await advance(ctx, ctx.data | {"title": rules.clean_title(ctx.text)}, "title")


@step(ServiceStep.DESCRIPTION)
async def got_description(ctx: Context) -> None:
    await advance(ctx, ctx.data | {"description": rules.clean_description(ctx.text)}, "description")


@step(ServiceStep.SKILLS)
async def got_skill(ctx: Context) -> None:
    """Typed skills (taxonomy.parse_skills, as on the profile and the job wizard):
    each added, or removed when typed again."""
    draft = ctx.data
    draft["skills"] = typed_skills(ctx.t, draft.get("skills") or [], ctx.text)
    await ctx.set_state(ServiceStep.SKILLS, draft)
    text, kb = _skills_view(ctx, draft)
    await ctx.reply(text, kb)


async def _package_answer(ctx: Context, name: str, value: Any) -> None:
    draft = ctx.data
    pkg = dict(draft.get("pkg") or {}) | {name: value}
    draft = draft | {"pkg": pkg}
    if name != "revisions":
        await ask_package(ctx, draft)
        return
    packages = list(draft.get("packages") or [])
    at = draft.get("pkg_at")
    if isinstance(at, int) and at < len(packages):
        packages[at] = pkg
    else:
        rules.check_room("packages", len(packages), MAX_PACKAGES)
        packages.append(pkg)
    draft = draft | {"packages": packages, "pkg": {}, "pkg_at": None}
    uc.PackageFields(**pkg)  # every field is there
    await _list_changed(ctx, draft, "packages")


@step(ServiceStep.PKG_NAME)
async def got_package_name(ctx: Context) -> None:
    await _package_answer(ctx, "name", rules.clean_package_name(ctx.text))


@step(ServiceStep.PKG_INCLUDED)
async def got_package_included(ctx: Context) -> None:
    await _package_answer(ctx, "included", rules.clean_included(ctx.text))


@step(ServiceStep.PKG_PRICE)
async def got_package_price(ctx: Context) -> None:
    await _package_answer(ctx, "price", rules.parse_price(ctx.text, ctx.config.currency))


@step(ServiceStep.PKG_DAYS)
async def got_package_days(ctx: Context) -> None:
    await _package_answer(ctx, "delivery_days", rules.parse_delivery_days(_number(ctx.text)))


@step(ServiceStep.PKG_REVISIONS)
async def got_package_revisions(ctx: Context) -> None:
    await _package_answer(ctx, "revisions", rules.parse_revisions(_number(ctx.text)))


def _number(text: str) -> str:
    """ "3 days", "3 дня" → "3": the first word, when it is a number."""
    head = (text or "").strip().replace("−", "-").split(" ")[0]  # a typographic minus too
    return head if head.lstrip("+-").isdigit() else text


@step(ServiceStep.EXTRA_TITLE)
async def got_extra_title(ctx: Context) -> None:
    extra = dict(ctx.data.get("extra") or {}) | {"title": rules.clean_extra_title(ctx.text)}
    await ask_extra(ctx, ctx.data | {"extra": extra})


@step(ServiceStep.EXTRA_PRICE)
async def got_extra_price(ctx: Context) -> None:
    price = rules.parse_price(ctx.text, ctx.config.currency)
    extra = dict(ctx.data.get("extra") or {}) | {"price": price}
    await ask_extra(ctx, ctx.data | {"extra": extra})


@step(ServiceStep.EXTRA_DAYS)
async def got_extra_days(ctx: Context) -> None:
    await _extra_done(ctx, ctx.data, rules.parse_days_delta(_number(ctx.text)))


async def _extra_done(ctx: Context, draft: dict[str, Any], delta: int) -> None:
    extra = dict(draft.get("extra") or {}) | {"days_delta": delta}
    if "title" not in extra or "price" not in extra:
        raise StaleButton()
    extras = list(draft.get("extras") or [])
    rules.check_room("extras", len(extras), MAX_EXTRAS)
    extras.append(extra)
    await _list_changed(ctx, draft | {"extras": extras, "extra": {}}, "extras")


@step(ServiceStep.SAMPLES)
async def got_sample(ctx: Context) -> None:
    draft = ctx.data
    samples = list(draft.get("samples") or [])
    files = ctx.event.files
    if files:
        if any(f.kind != "photo" for f in files):
            raise ValidationError("service_sample_invalid", "Send a photo or a link.")
        added = [rules.photo_sample(f.file_id) for f in files]
    else:
        added = [rules.link_sample(ctx.text)]
    for sample in added:
        rules.check_room("samples", len(samples), MAX_SAMPLES)
        samples.append(sample)
    await _list_changed(ctx, draft | {"samples": samples}, "samples")


@step(ServiceStep.QUESTIONS)
async def got_question(ctx: Context) -> None:
    draft = ctx.data
    questions = list(draft.get("questions") or [])
    rules.check_room("questions", len(questions), MAX_QUESTIONS)
    questions.append(rules.clean_question(ctx.text))
    await _list_changed(ctx, draft | {"questions": questions}, "questions")


async def _buttons_only(ctx: Context) -> None:
    await ctx.reply(ctx.t("svc.use_buttons"))


for _name in ("category", "packages", "extras", "preview"):
    step(ServiceStep(_name))(_buttons_only)


# --- the wizard's buttons ------------------------------------------------------------------------


def _draft(ctx: Context, *steps: str) -> dict[str, Any]:
    return wizard_draft(ctx, ServiceStep, *steps)


def _arg(ctx: Context) -> str:
    return (ctx.callback.arg if ctx.callback else None) or ""


def _index(ctx: Context, items: list[Any]) -> int:
    """The 1-based item number of a 🗑 button, as a list index (stale if gone)."""
    arg = _arg(ctx)
    if not arg.isdigit() or not 1 <= int(arg) <= len(items):
        raise StaleButton()
    return int(arg) - 1


@PREFIX.on("cancel", wizard=True)
async def cancel_pressed(ctx: Context) -> None:
    draft = _draft(ctx)
    if await confirm_discard(ctx, ServiceStep.PREVIEW):
        return
    await ctx.clear_state()
    if _mode(draft) == "svc":
        await show_service(ctx, int(draft["service_id"]))
    else:
        await ctx.edit(ctx.t("svc.cancelled"))
    ctx.answer(ctx.t.plain("svc.cancelled_short"))


@PREFIX.on("category", wizard=True)
async def category_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "category")
    category = jobs.clean_category(_arg(ctx))
    if category != draft.get("category"):
        cat = taxonomy.category(category or "")
        offered = {s.slug for s in cat.skills} if cat else set()
        # Skills of another category's buttons go; typed ones stay.
        all_slugs = {s.slug for c in taxonomy.CATEGORIES for s in c.skills}
        kept = [s for s in draft.get("skills") or [] if s in offered or s not in all_slugs]
        draft = draft | {"skills": kept}
    await advance(ctx, draft | {"category": category}, "category")
    ctx.answer()


@PREFIX.on("toggle_skill", wizard=True)
async def toggle_skill_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "skills")
    draft["skills"] = pressed_skill(draft, _arg(ctx))
    await ctx.set_state(ServiceStep.SKILLS, draft)
    text, kb = _skills_view(ctx, draft)
    await ctx.edit(text, kb)
    ctx.answer()


@PREFIX.on("skills_done", wizard=True)
async def skills_done_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "skills")
    skills = required_skills(draft.get("skills") or [])
    await advance(ctx, draft | {"skills": skills}, "skills")
    ctx.answer()


@PREFIX.on("revisions", wizard=True)
async def revisions_pressed(ctx: Context) -> None:
    _draft(ctx, "pkg_revisions")
    await _package_answer(ctx, "revisions", rules.parse_revisions(_arg(ctx)))
    ctx.answer()


@PREFIX.on("add_package", wizard=True)
async def add_package_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "packages")
    rules.check_room("packages", len(draft.get("packages") or []), MAX_PACKAGES)
    await ask_package(ctx, draft | {"pkg": {}, "pkg_at": None})
    ctx.answer()


def _tier_at(ctx: Context, draft: dict[str, Any]) -> int:
    tier = _arg(ctx)
    packages = draft.get("packages") or []
    if tier not in TIERS or TIERS.index(tier) >= len(packages):
        raise StaleButton()
    return TIERS.index(tier)


@PREFIX.on("edit_package", wizard=True)
async def edit_package_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "packages")
    await ask_package(ctx, draft | {"pkg": {}, "pkg_at": _tier_at(ctx, draft)})
    ctx.answer()


@PREFIX.on("drop_package", wizard=True)
async def drop_package_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "packages")
    at = _tier_at(ctx, draft)
    packages = list(draft.get("packages") or [])
    if len(packages) == 1 and _mode(draft) == "svc":
        raise ValidationError("service_no_packages", "A service needs at least one package.")
    packages.pop(at)
    await _list_changed(ctx, draft | {"packages": packages}, "packages")
    ctx.answer()


@PREFIX.on("packages_done", wizard=True)
async def packages_done_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "packages")
    if not draft.get("packages"):
        raise ValidationError("service_no_packages", "A service needs at least one package.")
    await _section_done(ctx, draft, "packages")


async def _section_done(ctx: Context, draft: dict[str, Any], section: str) -> None:
    """A list section's Continue / Done: its changes were saved already."""
    if _mode(draft) == "svc":
        await ctx.clear_state()
        await show_service(ctx, int(draft["service_id"]), notice=ctx.t("svc.saved"))
    else:
        await advance(ctx, draft, section)
    ctx.answer()


@PREFIX.on("add_extra", wizard=True)
async def add_extra_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "extras")
    rules.check_room("extras", len(draft.get("extras") or []), MAX_EXTRAS)
    await ask_extra(ctx, draft | {"extra": {}})
    ctx.answer()


@PREFIX.on("extra_days", wizard=True)
async def extra_days_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "extra_days")
    if _arg(ctx) not in EXTRA_DAY_CHOICES:
        raise StaleButton()
    await _extra_done(ctx, draft, int(_arg(ctx)))
    ctx.answer()


async def _drop_item(ctx: Context, section: str) -> None:
    """A 🗑 button of a list section (extras, samples, questions): that item removed."""
    draft = _draft(ctx, section)
    items = list(draft.get(section) or [])
    items.pop(_index(ctx, items))
    await _list_changed(ctx, draft | {section: items}, section)
    ctx.answer()


@PREFIX.on("drop_extra", wizard=True)
async def drop_extra_pressed(ctx: Context) -> None:
    await _drop_item(ctx, "extras")


@PREFIX.on("extras_done", wizard=True)
async def extras_done_pressed(ctx: Context) -> None:
    await _section_done(ctx, _draft(ctx, "extras"), "extras")


@PREFIX.on("drop_sample", wizard=True)
async def drop_sample_pressed(ctx: Context) -> None:
    await _drop_item(ctx, "samples")


@PREFIX.on("samples_done", wizard=True)
async def samples_done_pressed(ctx: Context) -> None:
    await _section_done(ctx, _draft(ctx, "samples"), "samples")


@PREFIX.on("drop_question", wizard=True)
async def drop_question_pressed(ctx: Context) -> None:
    await _drop_item(ctx, "questions")


@PREFIX.on("questions_done", wizard=True)
async def questions_done_pressed(ctx: Context) -> None:
    await _section_done(ctx, _draft(ctx, "questions"), "questions")


@PREFIX.on("publish", wizard=True)
async def publish_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "preview")
    service = await uc.create_service(ctx.uow, ctx.clock, ctx.config, ctx.user.id, _fields(draft))
    assert service.id is not None
    await uc.publish_service(ctx.uow, ctx.clock, ctx.user.id, service.id)
    await ctx.clear_state()
    await show_service(ctx, service.id, notice=ctx.t("svc.published"))
    ctx.answer(ctx.t.plain("svc.published_short"))


@PREFIX.on("sections", wizard=True)
async def sections_pressed(ctx: Context) -> None:
    _draft(ctx, "preview")
    await ctx.edit(
        ctx.t("svc.which_section"),
        [
            *_section_menu(ctx.t, lambda s: PREFIX.data("fix_section", arg=s)),
            [_back(ctx.t, PREVIEW_AGAIN), _cancel(ctx.t)],
        ],
    )
    ctx.answer()


# Back from the preview's list of sections: the preview again.
PREVIEW_AGAIN = "preview"
PACKAGE_QUESTIONS = ("name", "included", "price", "delivery_days")
EXTRA_QUESTIONS = ("title", "price")


@PREFIX.on("back", wizard=True)
async def back_pressed(ctx: Context) -> None:
    draft = _draft(ctx)
    step = ctx.state.step if ctx.state else ""
    if _arg(ctx) == PREVIEW_AGAIN and step == ServiceStep.PREVIEW:
        await show_preview(ctx, draft)
    else:
        await _go_back(ctx, draft, step)
    ctx.answer()


async def _go_back(ctx: Context, draft: dict[str, Any], step: str) -> None:
    """One screen back, nothing typed lost but the answer being taken back: within a
    package or an extra its previous question (or, before its first, the list);
    in a new service's wizard the previous section; changing one section of a new
    service, its preview."""
    if not _goes_back(draft, step):
        raise StaleButton()
    if step.startswith("pkg_"):
        pkg = dict(draft.get("pkg") or {})
        answered = [q for q in PACKAGE_QUESTIONS if q in pkg]
        if answered:
            pkg.pop(answered[-1])
            await ask_package(ctx, draft | {"pkg": pkg})
            return
        if draft.get("packages") or _mode(draft) != "new":
            await show_packages(ctx, draft)
            return
        step = "packages"  # the first package's first question: the section before
    elif step.startswith("extra_"):
        extra = dict(draft.get("extra") or {})
        answered = [q for q in EXTRA_QUESTIONS if q in extra]
        if answered:
            extra.pop(answered[-1])
            await ask_extra(ctx, draft | {"extra": extra})
        else:
            await show_extras(ctx, draft)
        return
    if _mode(draft) == "fix":
        await show_preview(ctx, draft)
    elif step == ServiceStep.PREVIEW:
        await ask(ctx, SECTIONS[-1], draft)
    elif step in SECTIONS and step != SECTIONS[0]:
        await ask(ctx, SECTIONS[SECTIONS.index(step) - 1], draft)
    else:
        raise StaleButton()


@PREFIX.on("fix_section", wizard=True)
async def fix_section_pressed(ctx: Context) -> None:
    draft = _draft(ctx, "preview")
    section = _arg(ctx)
    if section not in SECTIONS:
        raise StaleButton()
    await ask(ctx, section, draft | {"mode": "fix"})
    ctx.answer()


# --- a saved service --------------------------------------------------------------------------------


@PREFIX.on("manage")
async def manage_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await uc.own_service(ctx.uow, ctx.user.id, ctx.callback.require_id())
    await show_service(ctx, ctx.callback.require_id())
    ctx.answer()


@PREFIX.on("photos")
async def photos_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    service = await uc.visible_service(ctx.uow, ctx.user.id, ctx.callback.require_id())
    photos = [s["value"] for s in service.samples if s.get("kind") == SAMPLE_PHOTO]
    for i, file_id in enumerate(photos, 1):
        caption = ctx.t.plain("svc.photo_caption", title=service.title, n=i, total=len(photos))
        await ctx.reply_file(PHOTO_PREFIX + file_id, caption)
    ctx.answer()


async def _moved(ctx: Context, key: str) -> None:
    assert ctx.callback is not None
    await show_service(ctx, ctx.callback.require_id(), notice=ctx.t(key))
    ctx.answer(ctx.t.plain(key))


@PREFIX.on("pause")
async def pause_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await uc.pause_service(ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id())
    await _moved(ctx, "svc.paused")


@PREFIX.on("resume")
async def resume_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await uc.resume_service(ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id())
    await _moved(ctx, "svc.resumed")


@PREFIX.on("publish_saved")
async def publish_saved_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await uc.publish_service(ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id())
    await _moved(ctx, "svc.published")


@PREFIX.on("delete")
async def delete_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    service = await uc.own_service(ctx.uow, ctx.user.id, ctx.callback.require_id())
    assert service.id is not None
    t = ctx.t
    await ctx.edit(
        t("svc.delete_sure", title=service.title),
        keyboard(
            [
                button(t.plain("svc.btn.delete_yes"), PREFIX.data("delete_sure", service.id)),
                button(t.plain("svc.btn.delete_no"), PREFIX.data("manage", service.id)),
            ]
        ),
    )
    ctx.answer()


@PREFIX.on("delete_sure")
async def delete_sure_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    service = await uc.delete_service(ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id())
    await show_list(ctx)
    await ctx.reply(ctx.t("svc.deleted", title=service.title))
    ctx.answer(ctx.t.plain("svc.deleted_short"))


@PREFIX.on("edit")
async def edit_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    service = await uc.own_service(ctx.uow, ctx.user.id, ctx.callback.require_id())
    assert service.id is not None
    if ctx.in_step(ServiceStep):
        await ctx.leave()  # a new service's wizard is kept as a draft
    t = ctx.t
    kb = [
        *_section_menu(t, lambda s: PREFIX.data("edit_section", service.id, s)),
        [button(t.plain("svc.btn.back"), PREFIX.data("manage", service.id))],
    ]
    await ctx.edit(t("svc.edit_which", title=service.title), kb)
    ctx.answer()


@PREFIX.on("edit_section")
async def edit_section_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    section = ctx.callback.arg
    if section not in SECTIONS:
        raise StaleButton()
    service = await uc.own_service(ctx.uow, ctx.user.id, ctx.callback.require_id())
    assert service.id is not None
    fields = uc.fields_of(
        service,
        await ctx.uow.services.packages(service.id),
        await ctx.uow.services.extras(service.id),
    )
    if ctx.in_step(ServiceStep):
        await ctx.leave()
    draft = _draft_of(fields) | {"mode": "svc", "service_id": service.id}
    await ask(ctx, section, draft)
    ctx.answer()
