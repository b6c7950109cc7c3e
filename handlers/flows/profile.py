"""The freelancer's profile: a card with the record and a completeness meter, and
every field editable from it by a button (/profile, menu "Profile").

Callback data (prefix "prof"; the old codes in brackets still work):

    prof:card:<user_id>              show anyone's profile card (read-only unless yours)
    prof:my_card                     your own card with the edit buttons [me]
    prof:edit::<what>                edit: headline | bio | rate | years | category |
                                     skills | portfolio | certs, and the text prompts
                                     tag | link | cert
    prof:set_category::<slug>        set the category [cat]
    prof:category_skills::<category> the taxonomy skills of a category, as toggles [skc]
    prof:toggle_skill::<skill>       toggle a taxonomy skill [sk]
    prof:remove:<index>:<list>       remove entry <index> of tags | portfolio |
                                     certifications [rm]
    prof:cancel                      leave a text prompt, back to the card

For other flows (e.g. the client's pitch list):

    html, buttons = await profile_card(scope_or_ctx, user_id, viewer_lang)

is the card exactly as clients see it (the latest reviews with words; buttons: all
reviews, Report user), in the viewer's
language; `PROFILE.data("card", user_id)` (handlers.prefixes) is the callback data
of a button that opens it.
"""

from __future__ import annotations

from domain import taxonomy, validation
from domain.entities import FreelancerProfile
from domain.errors import NotAllowed
from domain.money import parse_money
from domain.ports import UnitOfWork
from domain.reputation import Reputation
from domain.usecases import profiles as uc
from domain.usecases import queries
from domain.usecases.profiles import ProfileFields
from domain.usecases.talent import availability_of
from domain.usecases.verification import identity_verified
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.events import Keyboard
from handlers.flows.availability import profile_button
from handlers.flows.blocking import block_button
from handlers.flows.menu import cmd_data
from handlers.flows.reviews import profile_reviews, score_line
from handlers.i18n import Translator, translator
from handlers.prefixes import PROFILE as PREFIX
from handlers.prefixes import REPORT, SAVED, VERIFY
from handlers.render import Html, button, esc, join, keyboard, money, rows, shorten
from handlers.routing import Menu, Steps, command, step
from handlers.talent_views import state_line
from handlers.taxonomy_names import category_name, skill_name, skill_names, typed_names


class ProfileStep(Steps, flow="profile"):
    """Editing the profile, step by step (the values are stored: never change one)."""

    HEADLINE = "headline"
    BIO = "bio"
    RATE = "rate"
    YEARS = "years"
    TAG = "tag"
    LINK = "link"
    CERT = "cert"


TEXT_PROMPTS = ("headline", "bio", "rate", "years", "tag", "link", "cert")
# The completeness meter's next step → what its button edits.
NEXT_EDITS = {
    "add_headline": "headline",
    "add_skills": "skills",
    "add_category": "category",
    "add_bio": "bio",
    "add_rate": "rate",
    "add_portfolio": "portfolio",
    "add_experience": "years",
    "add_certifications": "certs",
}
EDIT_BUTTONS = ("headline", "bio", "skills", "category", "rate", "years", "portfolio", "certs")
LISTS = ("tags", "portfolio", "certifications")
METER_CELLS = 10


# --- the card ---------------------------------------------------------------------


def _response(t: Translator, seconds: int | None) -> Html:
    if seconds is None:
        return t("profile.response_unknown")
    for limit, key in ((3600, "hour"), (4 * 3600, "hours"), (24 * 3600, "day")):
        if seconds <= limit:
            return t(f"profile.response_{key}")
    return t("profile.response_slow")


def _record_lines(t: Translator, view: queries.ProfileView) -> list[Html]:
    rep: Reputation = view.reputation
    record = view.record
    rating = (
        t("profile.rating", average=str(rep.average_rating), count=rep.rating_count)
        if rep.average_rating is not None
        else t("profile.rating_none")
    )
    on_time = f"{rep.on_time_percent}%" if rep.on_time_percent is not None else "—"
    lines = [
        t("profile.record_title"),
        rating,
        t("profile.jobs_done", count=record.contracts_completed, on_time=on_time),
        t("profile.response", time=_response(t, record.median_response_seconds)),
        score_line(t, rep, "profile.score"),
    ]
    if rep.badges:
        names = ", ".join(t.plain(f"profile.badge.{b}") for b in rep.badges)
        lines.append(t("profile.badges", badges=names))
    return lines


def _profile_lines(t: Translator, profile: FreelancerProfile | None) -> list[Html]:
    if profile is None:
        return [t("profile.empty")]
    lines: list[Html] = []
    if profile.headline:
        lines.append(Html("<i>") + esc(profile.headline) + Html("</i>"))
    facts = []
    if profile.category:
        facts.append(t("profile.category", category=category_name(t, profile.category)))
    if profile.hourly_rate:
        facts.append(t("profile.rate", rate=money(profile.hourly_rate, profile.currency)))
    if profile.years_experience is not None:
        facts.append(t("profile.years", years=profile.years_experience))
    if facts:
        lines.append(join(facts, " · "))
    skills = skill_names(t, [*profile.skills, *profile.tags])
    if skills:
        lines.append(t("profile.skills", skills=skills))
    if profile.bio:
        lines += [Html(""), esc(profile.bio)]
    if profile.portfolio:
        lines += [Html(""), t("profile.portfolio")]
        lines += [Html("• ") + esc(url) for url in profile.portfolio]
    if profile.certifications:
        lines += [Html(""), t("profile.certifications")]
        lines += [Html("• ") + esc(c) for c in profile.certifications]
    return lines


def card_text(t: Translator, view: queries.ProfileView) -> Html:
    name = view.user.name or f"#{view.user.id}"
    lines = [Html("👤 <b>") + esc(name) + Html("</b>")]
    lines += _profile_lines(t, view.profile)
    lines += [Html(""), *_record_lines(t, view)]
    return join(lines)


def meter(t: Translator, percent: int, next_step: str | None) -> Html:
    filled = round(percent * METER_CELLS / 100)
    bar = "▰" * filled + "▱" * (METER_CELLS - filled)
    line = t("profile.meter", bar=bar, percent=percent)
    if next_step:
        line = line + Html("\n") + t(f"profile.next.{next_step}")
    return line


async def identity_line(uow: UnitOfWork, t: Translator, user_id: int) -> Html:
    """🪪 Identity verified (or not): the gateway's word, never the profile's."""
    verified = await identity_verified(uow, user_id)
    return t("record.identity_verified" if verified else "record.identity_unverified")


async def profile_card(
    scope_or_ctx: Scope, user_id: int, viewer_lang: str | None
) -> tuple[Html, Keyboard | None]:
    """The card as others (clients) see it, in the viewer's language, with the
    latest reviews, a button to all of them and a Report button. Raises NotFound
    ("user_not_found") for an unknown user."""
    t = translator(viewer_lang)
    view = await queries.profile_view(scope_or_ctx.uow, scope_or_ctx.clock, user_id)
    reviews, all_reviews = await profile_reviews(scope_or_ctx, t, user_id)
    text = card_text(t, view) + Html("\n") + await identity_line(scope_or_ctx.uow, t, user_id)
    if reviews:
        text = join([text, Html(""), *reviews])
    report = button(t.plain("btn.report_user"), REPORT.data("user", user_id))
    save = button(t.plain("sv.btn.save_freelancer"), SAVED.data("save_freelancer", user_id))
    return text, keyboard(all_reviews, [report, block_button(t, user_id)], save)


async def own_card(ctx: Context) -> tuple[Html, Keyboard | None]:
    t = ctx.t
    view = await queries.profile_view(ctx.uow, ctx.clock, ctx.user.id)
    text = join(
        [
            card_text(t, view),
            await identity_line(ctx.uow, t, ctx.user.id),
            Html(""),
            meter(t, view.percent, view.next_step),
        ]
    )
    edits = [
        button(t.plain(f"profile.btn.{what}"), PREFIX.data("edit", arg=what))
        for what in EDIT_BUTTONS
    ]
    next_button = (
        button(
            t.plain(f"profile.btn_next.{view.next_step}"),
            PREFIX.data("edit", arg=NEXT_EDITS[view.next_step]),
        )
        if view.next_step
        else None
    )
    # The 🪪 badge comes only from the payment gateway's identity check (flows/verification.py).
    verify = (
        None
        if await identity_verified(ctx.uow, ctx.user.id)
        else button(t.plain("verify.btn.open"), VERIFY.data("start"))
    )
    # Available / busy / away (flows/availability.py); away ends by itself after its date.
    state = availability_of(view.profile, ctx.clock.now().date())
    text = (
        text + Html("\n") + state_line(t, state, view.profile.away_until if view.profile else None)
    )
    return text, keyboard(
        next_button,
        *rows(edits, 2),
        profile_button(t, state),
        verify,
        button(t.plain("btn.menu"), cmd_data("menu")),
    )


async def show_own(ctx: Context, edit: bool = True) -> None:
    await _leave_prompt(ctx)
    text, kb = await own_card(ctx)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


@command("profile", order=90, menu=Menu.FREELANCER, menu_order=50)
async def profile_command(ctx: Context) -> None:
    if not ctx.user.is_freelancer:
        t = ctx.t
        await ctx.edit(
            t("profile.need_role"),
            keyboard(button(t.plain("menu.settings"), cmd_data("settings"))),
        )
        return
    await show_own(ctx, edit=ctx.event.kind == "button")


# --- editing ------------------------------------------------------------------------


def _cancel_row(t: Translator) -> Keyboard | None:
    return keyboard(button(t.plain("btn.cancel"), PREFIX.data("cancel")))


async def _ask(ctx: Context, what: str) -> None:
    await ctx.set_state(ProfileStep(what), {})
    params = {
        "headline": {"max": validation.HEADLINE_MAX},
        "bio": {"max": validation.BIO_MAX},
        "rate": {"currency": ctx.config.currency},
        "years": {"max": uc.MAX_YEARS},
        "cert": {"max": uc.MAX_CERTIFICATION_LEN},
    }.get(what, {})
    await ctx.reply(ctx.t(f"profile.ask.{what}", **params), _cancel_row(ctx.t))


async def _profile(ctx: Context) -> FreelancerProfile | None:
    return await ctx.uow.profiles.get(ctx.user.id)


# A screen that invites typing sets the step that takes the text (skills, links and
# certifications accept it right on their list); one that does not leaves the step,
# so text sent later is not taken for a field the person has moved away from.


async def _takes_text(ctx: Context, what: ProfileStep) -> None:
    if ctx.state is None or ctx.state.flow != ProfileStep.flow or ctx.state.step != what:
        await ctx.set_state(what, {})


async def _leave_prompt(ctx: Context) -> None:
    if ctx.in_step(ProfileStep):
        await ctx.clear_state()


async def categories_screen(ctx: Context) -> None:
    await _leave_prompt(ctx)
    t = ctx.t
    profile = await _profile(ctx)
    current = profile.category if profile else None
    buttons = [
        button(
            ("✓ " if c.slug == current else "") + category_name(t, c.slug),
            PREFIX.data("set_category", arg=c.slug),
        )
        for c in taxonomy.CATEGORIES
    ]
    await ctx.edit(t("profile.pick_category"), keyboard(*rows(buttons, 2), _done(t)))


def _done(t: Translator) -> dict[str, str]:
    return button(t.plain("profile.btn_done"), PREFIX.data("my_card"))


async def skills_screen(ctx: Context) -> None:
    await _takes_text(ctx, ProfileStep.TAG)
    t = ctx.t
    profile = await _profile(ctx)
    skills = profile.skills if profile else []
    tags = profile.tags if profile else []
    chosen = [skill_name(t, s) for s in [*skills, *tags]]
    text = join(
        [
            t("profile.skills_title", count=len(chosen), max=uc.MAX_SKILLS),
            t("profile.skills", skills=", ".join(chosen)) if chosen else t("profile.skills_none"),
            t("profile.skills_hint"),
        ]
    )
    cats = [
        button(category_name(t, c.slug), PREFIX.data("category_skills", arg=c.slug))
        for c in taxonomy.CATEGORIES
    ]
    remove = [
        button("✖ " + shorten(tag, 30), PREFIX.data("remove", i, "tags"))
        for i, tag in enumerate(tags)
    ]
    await ctx.edit(
        text,
        keyboard(
            *rows(cats, 2),
            *rows(remove, 2),
            button(t.plain("profile.btn_add_tag"), PREFIX.data("edit", arg="tag")),
            _done(t),
        ),
    )


async def category_skills_screen(ctx: Context, slug: str | None) -> None:
    category = taxonomy.category(slug or "")
    if category is None:
        raise StaleButton()
    await _takes_text(ctx, ProfileStep.TAG)
    t = ctx.t
    profile = await _profile(ctx)
    mine = set(profile.skills) if profile else set()
    toggles = [
        button(
            ("✓ " if s.slug in mine else "") + skill_name(t, s.slug),
            PREFIX.data("toggle_skill", arg=s.slug),
        )
        for s in category.skills
    ]
    await ctx.edit(
        t("profile.pick_skills", category=category_name(t, category.slug)),
        keyboard(
            *rows(toggles, 2),
            [
                button(t.plain("profile.btn_back"), PREFIX.data("edit", arg="skills")),
                _done(t),
            ],
        ),
    )


async def list_screen(ctx: Context, field: str) -> None:
    """Portfolio links or certifications: each with a remove button, and Add."""
    add = "link" if field == "portfolio" else "cert"
    await _takes_text(ctx, ProfileStep(add))
    t = ctx.t
    profile = await _profile(ctx)
    items: list[str] = list(getattr(profile, field)) if profile else []
    lines = [t(f"profile.list.{field}", count=len(items))]
    lines += [Html(f"{k}. ") + esc(item) for k, item in enumerate(items, start=1)]
    if not items:
        lines.append(t("profile.list_empty"))
    lines.append(t(f"profile.list_hint.{field}"))
    remove = [
        button(f"✖ {k}. " + shorten(item, 28), PREFIX.data("remove", k - 1, field))
        for k, item in enumerate(items, start=1)
    ]
    await ctx.edit(
        join(lines),
        keyboard(
            *rows(remove, 1),
            button(t.plain(f"profile.btn_add_{add}"), PREFIX.data("edit", arg=add)),
            _done(t),
        ),
    )


async def edit(ctx: Context, what: str | None) -> None:
    if what in TEXT_PROMPTS:
        await _ask(ctx, what)
    elif what == "category":
        await categories_screen(ctx)
    elif what == "skills":
        await skills_screen(ctx)
    elif what == "portfolio":
        await list_screen(ctx, "portfolio")
    elif what == "certs":
        await list_screen(ctx, "certifications")
    else:
        raise StaleButton()


@PREFIX.on("card")
async def card_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    user_id = ctx.callback.require_id()
    if user_id == ctx.user.id and ctx.user.is_freelancer:
        await show_own(ctx, edit=False)
    else:
        text, kb = await profile_card(ctx, user_id, ctx.user.language)
        await ctx.reply(text, kb)


def _editor(ctx: Context) -> tuple:
    """The use cases' common arguments, for a freelancer: editing is theirs, the card
    stays readable for everyone."""
    if not ctx.user.is_freelancer:
        raise NotAllowed("freelancer_only", "Only freelancers can do this.")
    return (ctx.uow, ctx.clock, ctx.config, ctx.user.id)


def _arg(ctx: Context) -> str | None:
    return ctx.callback.arg if ctx.callback else None


@PREFIX.on("my_card", old=("me",))
async def my_card_pressed(ctx: Context) -> None:
    _editor(ctx)
    await show_own(ctx)


@PREFIX.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    _editor(ctx)
    if ctx.in_step(ProfileStep):
        await ctx.clear_state()
    await show_own(ctx)


@PREFIX.on("edit")
async def edit_pressed(ctx: Context) -> None:
    _editor(ctx)
    await edit(ctx, _arg(ctx))


@PREFIX.on("set_category", old=("cat",))
async def set_category_pressed(ctx: Context) -> None:
    await uc.update_profile(*_editor(ctx), ProfileFields(category=_arg(ctx) or ""))
    ctx.answer(ctx.t.plain("profile.saved"))
    await show_own(ctx)


@PREFIX.on("category_skills", old=("skc",))
async def category_skills_pressed(ctx: Context) -> None:
    _editor(ctx)
    await category_skills_screen(ctx, _arg(ctx))


@PREFIX.on("toggle_skill", old=("sk",))
async def toggle_skill_pressed(ctx: Context) -> None:
    skill = _arg(ctx) or ""
    await uc.toggle_skill(*_editor(ctx), skill)
    await category_skills_screen(ctx, taxonomy.category_of(skill))


@PREFIX.on("remove", old=("rm",))
async def remove_pressed(ctx: Context) -> None:
    args = _editor(ctx)
    assert ctx.callback is not None
    field = ctx.callback.arg
    if field not in LISTS:
        raise StaleButton()
    await uc.remove_item(*args, field, ctx.callback.require_id())
    ctx.answer(ctx.t.plain("profile.removed"))
    await (skills_screen(ctx) if field == "tags" else list_screen(ctx, field))


# --- text prompts ---------------------------------------------------------------------


async def _saved(ctx: Context, then: str | None = None) -> None:
    """After a text edit: back to the list being edited, or to the card."""
    await ctx.clear_state()
    if then == "skills":
        await skills_screen(ctx)
    elif then in ("portfolio", "certifications"):
        await list_screen(ctx, then)
    else:
        await ctx.reply(ctx.t("profile.saved_long"))
        await show_own(ctx, edit=False)


async def _update(ctx: Context, fields: ProfileFields) -> None:
    await uc.update_profile(ctx.uow, ctx.clock, ctx.config, ctx.user.id, fields)


@step(ProfileStep.HEADLINE)
async def headline_step(ctx: Context) -> None:
    await _update(ctx, ProfileFields(headline=ctx.text))
    await _saved(ctx)


@step(ProfileStep.BIO)
async def bio_step(ctx: Context) -> None:
    await _update(ctx, ProfileFields(bio=ctx.text))
    await _saved(ctx)


@step(ProfileStep.RATE)
async def rate_step(ctx: Context) -> None:
    amount = parse_money(ctx.text, ctx.config.currency, "rate").amount
    await _update(ctx, ProfileFields(hourly_rate=amount))
    await _saved(ctx)


@step(ProfileStep.YEARS)
async def years_step(ctx: Context) -> None:
    await _update(ctx, ProfileFields(years_experience=ctx.text))
    await _saved(ctx)


@step(ProfileStep.TAG)
async def tag_step(ctx: Context) -> None:
    names = typed_names(ctx.t)  # a skill typed by its name in the person's language
    await uc.add_skills(ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.text, names)
    await _saved(ctx, "skills")


@step(ProfileStep.LINK)
async def link_step(ctx: Context) -> None:
    await uc.add_portfolio_link(ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.text)
    await _saved(ctx, "portfolio")


@step(ProfileStep.CERT)
async def cert_step(ctx: Context) -> None:
    await uc.add_certification(ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.text)
    await _saved(ctx, "certifications")
