"""Rating each other when a contract ends (double-blind), and the reputation card.

Callback data (prefix "rv", handlers/prefixes.py REVIEW; other flows link to the first
two; the old codes of buttons already sent, still honoured, in brackets):
- "rv:rate:<contract_id>"       rate the other party of an ended contract, stars first (new)
- "rv:reputation:<user_id>"     someone's reputation card (score, badges, revealed
                                reviews) (rep)
- "rv:reviews:<user_id>:<page>" all the revealed reviews of someone, paged (linked
                                from the profile card and the reputation card)
- "rv:end_and_rate:<contract_id>" once every milestone is settled: end the contract
                                (if the other party has not) and the stars, in one tap
Internal: "rv:stars:<contract_id>:<1-5>" the stars (st), "rv:subrate:<contract_id>:<1-5>"
a sub-rating, "rv:recommend:<contract_id>:<0-10>" would you recommend them (private),
"rv:endreason:<contract_id>:<reason>" why the contract ended (private), "rv:skip" save
now (no text, no further details), "rv:reply:<review_id>" reply to a review about oneself,
"rv:cancel" cancel (x), "rv:show:<contract_id>" the contract's reviews once revealed,
"rv:rule" the rule.

Commands: /rate (ended contracts still waiting for one's review), /reputation
[user id] (one's own card, or another person's).

The rating waits in the conversation state ("review", "text") while the three
sub-ratings, the private feedback and the optional text are asked, one screen
each; words typed at any of them are the review's text and save it with the
details given so far (so "stars, then a few words" still works in two steps); domain.usecases.reviews.leave_review stores it hidden. Both reviews
are shown when both parties have rated (the use case reveals them at once) or when
the window closes (deadlines.reveal_due_reviews on the scheduler's tick); both
emit "reviews_revealed", rendered here.
"""

from __future__ import annotations

from domain.entities import Contract, Review
from domain.errors import ValidationError
from domain.events import (
    BadgeEarned,
    BadgeLost,
    ContractEnded,
    ReviewLeft,
    ReviewReplied,
    ReviewsRevealed,
)
from domain.reputation import Reputation
from domain.states import ContractStatus, MilestoneStatus, ReviewStatus
from domain.usecases import contracts as contracts_uc
from domain.usecases import queries
from domain.usecases import reviews as uc
from domain.usecases.common import load, other_party, require_party
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Button, Keyboard
from handlers.helpers import int_arg, leave_flow, name_of, page_of
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import CONTRACT, PROFILE, REVIEW
from handlers.render import Html, button, esc, join, keyboard, pagination_row, shorten
from handlers.routing import Menu, Steps, command, step


class ReviewStep(Steps, flow="review"):
    """Leaving a review, step by step (the values are stored: never change one)."""

    TEXT = "text"
    REPLY = "reply"


LATEST_REVIEWS = 5
ON_PROFILE = 3  # the latest reviews with words on the profile card
REVIEWS_PAGE = 5


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


def rate_button(t: Translator, contract_id: int) -> Button:
    return button(t.plain("rv.btn.rate"), REVIEW.data("rate", contract_id))


def reputation_button(t: Translator, user_id: int) -> Button:
    return button(t.plain("rv.btn.reputation"), REVIEW.data("reputation", user_id))


def reply_button(t: Translator, review_id: int, name: str) -> Button:
    return button(t.plain("rv.btn.reply", name=name), REVIEW.data("reply", review_id))


def star_keyboard(t: Translator, contract_id: int) -> Keyboard | None:
    return keyboard(
        [button("⭐" * n, REVIEW.data("stars", contract_id, n)) for n in (1, 2, 3)],
        [button("⭐" * n, REVIEW.data("stars", contract_id, n)) for n in (4, 5)],
        button(t.plain("btn.cancel"), REVIEW.data("cancel")),
    )


async def _rateable(ctx: Context, contract_id: int) -> Contract:
    """Checks what leave_review will check, so the stars are not offered in vain."""
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    await uc.require_reviewable(ctx.uow, ctx.clock.now(), contract, ctx.user.id)
    return contract


# --- rating --------------------------------------------------------------------------------


async def ask_stars(ctx: Context, contract_id: int, header: Html | None = None) -> None:
    """The stars in place of the pressed message (after `header`, e.g. "ended")."""
    contract = await _rateable(ctx, contract_id)
    if ctx.in_step(ReviewStep):
        await ctx.clear_state()
    ask = ctx.t(
        "rv.ask_stars",
        name=await name_of(ctx, other_party(contract, ctx.user.id)),
        title=contract.title,
    )
    await ctx.edit(
        join([header, Html(""), ask]) if header else ask, star_keyboard(ctx.t, contract_id)
    )


async def _stars_chosen(ctx: Context, contract_id: int, rating: int) -> None:
    if not 1 <= rating <= 5:
        raise StaleButton()
    await _rateable(ctx, contract_id)
    await ctx.set_state(ReviewStep.TEXT, {"c": contract_id, "r": rating, "s": []})
    await _ask_next(ctx)


def _side_of_reviewee(contract: Contract, reviewer_id: int) -> str:
    return "freelancer" if contract.client_id == reviewer_id else "client"


async def _ask_next(ctx: Context) -> None:
    """The next screen of the review: a sub-rating, the private feedback, the text."""
    data = ctx.data
    contract_id, rating = int(data["c"]), int(data["r"])
    contract = await _rateable(ctx, contract_id)
    subs = list(data.get("s") or [])
    t = ctx.t
    nav = [
        button(t.plain("rv.btn.back"), REVIEW.data("rate", contract_id)),
        button(t.plain("btn.cancel"), REVIEW.data("cancel")),
    ]
    skip = button(t.plain("rv.btn.skip"), REVIEW.data("skip"))
    name = await name_of(ctx, other_party(contract, ctx.user.id))
    if len(subs) < 3:
        what = uc.SUB_RATINGS[_side_of_reviewee(contract, ctx.user.id)][len(subs)]
        await ctx.edit(
            t(
                "rv.ask_sub",
                stars=stars(rating),
                n=len(subs) + 1,
                what=t.plain(f"rv.sub.{what}"),
                name=name,
            ),
            keyboard(
                [button(str(n), REVIEW.data("subrate", contract_id, n)) for n in range(1, 6)],
                skip,
                nav,
            ),
        )
    elif data.get("rec") is None:
        await ctx.edit(
            t("rv.ask_recommend", stars=stars(rating), name=name),
            keyboard(
                [button(str(n), REVIEW.data("recommend", contract_id, n)) for n in range(0, 6)],
                [button(str(n), REVIEW.data("recommend", contract_id, n)) for n in range(6, 11)],
                skip,
                nav,
            ),
        )
    elif not data.get("why"):
        await ctx.edit(
            t("rv.ask_why", stars=stars(rating)),
            keyboard(
                *[
                    button(
                        t.plain(f"rv.why.{reason}"), REVIEW.data("endreason", contract_id, reason)
                    )
                    for reason in uc.END_REASONS
                ],
                skip,
                nav,
            ),
        )
    else:
        await ctx.edit(
            t("rv.ask_text", stars=stars(rating), max=1000),
            keyboard(skip, nav),
        )


async def _detail_given(ctx: Context, key: str, value: object) -> None:
    """A sub-rating ("s"), the recommendation ("rec") or the reason ("why") chosen."""
    cb = ctx.callback
    assert cb is not None
    if not ctx.in_step(ReviewStep.TEXT) or int(ctx.data["c"]) != cb.require_id():
        raise StaleButton()
    data = dict(ctx.data)
    if key == "s":
        if len(data.get("s") or []) >= 3:
            raise StaleButton()
        data["s"] = [*(data.get("s") or []), value]
    else:
        data[key] = value
    await ctx.set_state(ReviewStep.TEXT, data)
    await _ask_next(ctx)


async def _save(ctx: Context, text: str) -> None:
    data = ctx.data
    contract_id, rating = int(data["c"]), int(data["r"])
    subs = [int(x) for x in data.get("s") or []]
    rec = data.get("rec")
    review = await uc.leave_review(
        ctx.uow,
        ctx.clock,
        ctx.config,
        ctx.user.id,
        contract_id,
        rating,
        text,
        subs=(subs[0], subs[1], subs[2]) if len(subs) == 3 else None,
        recommend=int(rec) if rec is not None else None,
        end_reason=str(data.get("why") or ""),
    )
    await ctx.clear_state()
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    if review.status is ReviewStatus.REVEALED:
        await ctx.reply(ctx.t("rv.saved_revealed", stars=stars(rating)))
        return  # the "reviews_revealed" notification shows both reviews
    deadline = contract.review_deadline
    await ctx.reply(
        ctx.t(
            "rv.saved_hidden",
            stars=stars(rating),
            date=deadline.date().isoformat() if deadline else "—",
        )
    )


@step(ReviewStep.TEXT)
async def text_step(ctx: Context) -> None:
    if ctx.event.files and not ctx.text.strip():
        raise ValidationError("text_empty", "The review cannot be empty.", field="review")
    await _save(ctx, ctx.text)


# --- showing -------------------------------------------------------------------------------


def review_block(
    t: Translator, review: Review, who: str, cut: int | None = None, side: str = ""
) -> Html:
    """One public review: stars, the sub-ratings, the words and the reply (never the
    private feedback). `side` is the reviewee's ("freelancer" or "client")."""
    lines = [t("rv.review_line", stars=stars(review.rating), name=who)]
    subs = (review.sub1, review.sub2, review.sub3)
    if side in uc.SUB_RATINGS and all(s is not None for s in subs):
        lines.append(
            Html(
                " · ".join(
                    f"{esc(t.plain(f'rv.sub.{name}'))} {value}"
                    for name, value in zip(uc.SUB_RATINGS[side], subs, strict=True)
                )
            )
        )
    if review.text:
        lines.append(esc(shorten(review.text, cut) if cut else review.text))
    if review.reply:
        reply = shorten(review.reply, cut) if cut else review.reply
        lines.append(t("rv.reply_line", text=reply))
    return join(lines)


async def side_of(scope: Scope, review: Review) -> str:
    """The reviewee's side in the review's contract."""
    contract = await scope.uow.contracts.get(review.contract_id)
    if contract is None:
        return ""
    return "freelancer" if contract.freelancer_id == review.reviewee_id else "client"


def score_line(t: Translator, rep: Reputation, key: str) -> Html:
    """The score by `key` ({score}), or "New — no score yet" before a completed
    contract (domain.reputation: the priors alone are not a record)."""
    return t("rv.no_score") if rep.is_new else t(key, score=rep.score)


def all_reviews_button(t: Translator, user_id: int, count: int) -> Button | None:
    if not count:
        return None
    return button(t.plain("rv.btn.all_reviews", count=count), REVIEW.data("reviews", user_id, 1))


async def profile_reviews(
    scope: Scope, t: Translator, user_id: int
) -> tuple[list[Html], Button | None]:
    """For the profile card others open: the latest reviews with words, and the
    button to all of them (None when there are none)."""
    count = await scope.uow.reviews.count(reviewee_id=user_id, status=ReviewStatus.REVEALED)
    latest = await queries.reviews_about(scope.uow, user_id, with_text=True, limit=ON_PROFILE)
    lines: list[Html] = []
    if latest:
        lines = [t("rv.rep.latest")]
        for review in latest:
            who = await name_of(scope, review.reviewer_id)
            side = await side_of(scope, review)
            lines += [review_block(t, review, who, cut=300, side=side), Html("")]
        lines.pop()
    return lines, all_reviews_button(t, user_id, count)


async def show_reviews(ctx: Context, user_id: int, page: int) -> None:
    """Every revealed review of someone, newest first, REVIEWS_PAGE a page."""
    t = ctx.t
    user = await load(ctx.uow.users, user_id, "user")
    found = await queries.reviews_about(ctx.uow, user_id)
    shown, page, pages = page_of(found, page, REVIEWS_PAGE)
    lines = [t("rv.all.title", name=user.name or f"#{user.id}", count=len(found)), Html("")]
    replies: list[Button] = []
    for review in shown:
        who = await name_of(ctx, review.reviewer_id)
        lines += [review_block(t, review, who, side=await side_of(ctx, review)), Html("")]
        if user_id == ctx.user.id and not review.reply and review.id is not None:
            replies.append(reply_button(t, review.id, who))
    if not found:
        lines.append(t("rv.rep.no_ratings"))
    nav = pagination_row(
        page,
        pages,
        lambda p: REVIEW.data("reviews", user_id, p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )
    back = button(t.plain("rv.btn.profile"), PROFILE.data("card", user_id))
    await ctx.edit(join(lines), keyboard(*replies, nav or None, back))


async def _show_contract_reviews(ctx: Context, contract_id: int) -> None:
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    found = await ctx.uow.reviews.find(order_by="id", contract_id=contract_id)
    lines = [ctx.t("rv.contract_title", title=contract.title), Html("")]
    for review in found:
        who = await name_of(ctx, review.reviewer_id)
        if review.status is ReviewStatus.REVEALED:
            side = await side_of(ctx, review)
            lines += [review_block(ctx.t, review, who, side=side), Html("")]
        elif review.reviewer_id == ctx.user.id:
            lines += [ctx.t("rv.yours_hidden", stars=stars(review.rating)), Html("")]
        else:
            lines += [ctx.t("rv.theirs_hidden", name=who), Html("")]
    if not found:
        lines.append(ctx.t("rv.none_yet"))
    await ctx.edit(join(lines))


def reputation_lines(t: Translator, rep: Reputation) -> list[Html]:
    lines = [score_line(t, rep, "rv.rep.score")]
    if rep.average_rating is not None:
        lines.append(t("rv.rep.rating", average=str(rep.average_rating), count=rep.rating_count))
    else:
        lines.append(t("rv.rep.no_ratings"))
    if rep.on_time_percent is not None:
        lines.append(t("rv.rep.on_time", percent=rep.on_time_percent))
    if rep.badges:
        names = ", ".join(t.plain(f"rv.badge.{b}") for b in rep.badges)
        lines.append(t("rv.rep.badges", badges=names))
    return lines


def own_score_lines(t: Translator, rep: Reputation, freelancer: bool) -> list[Html]:
    """For one's own card: the score by its parts, or — with too little history —
    the way to a first score and the Rising Talent badge."""
    if rep.is_new:
        return [t("rv.path.title"), t("rv.path.freelancer" if freelancer else "rv.path.client")]
    lines = [t("rv.parts.title")]
    for part in rep.parts:
        lines.append(
            t(
                f"rv.part.{part.key}",
                points=int((part.points * 2 + 1) // 2),
                weight=part.weight,
                have=part.have,
                of=part.of,
            )
        )
    return lines


async def show_reputation(ctx: Context, user_id: int) -> None:
    user = await load(ctx.uow.users, user_id, "user")
    rep = await queries.reputation_of(ctx.uow, ctx.clock, user_id)
    name = user.name or f"#{user.id}"
    lines = [ctx.t("rv.rep.title", name=name), *reputation_lines(ctx.t, rep)]
    if user_id == ctx.user.id:
        lines += [Html(""), *own_score_lines(ctx.t, rep, user.is_freelancer)]
    latest = await ctx.uow.reviews.find(
        order_by="-id", limit=LATEST_REVIEWS, reviewee_id=user_id, status=ReviewStatus.REVEALED
    )
    if latest:
        lines += [Html(""), ctx.t("rv.rep.latest")]
        for review in latest:
            who = await name_of(ctx, review.reviewer_id)
            block = review_block(ctx.t, review, who, side=await side_of(ctx, review))
            lines += [block, Html("")]
    rule = button(ctx.t.plain("rv.btn.rule"), REVIEW.data("rule"))
    more = (
        all_reviews_button(ctx.t, user_id, rep.rating_count)
        if len(latest) < rep.rating_count
        else None
    )
    await ctx.edit(join(lines), keyboard(more, rule))


@command("reputation", order=160, menu=Menu.ANY, menu_order=110)
async def reputation_command(ctx: Context) -> None:
    arg = ctx.args
    if not arg:
        await show_reputation(ctx, ctx.user.id)
    elif arg.isdigit() and len(arg) <= 18:
        await show_reputation(ctx, int(arg))
    else:
        await ctx.reply(ctx.t("rv.rep.usage"))


@command("rate", order=150)
async def rate_command(ctx: Context) -> None:
    now = ctx.clock.now()
    ended = await queries.my_contracts(ctx.uow, ctx.user.id, (ContractStatus.ENDED,))
    waiting = [
        c
        for c in ended
        if (c.review_deadline is None or c.review_deadline >= now)
        and not await ctx.uow.reviews.count(contract_id=c.id, reviewer_id=ctx.user.id)
    ]
    if not waiting:
        await ctx.reply(ctx.t("rv.rate_none"))
        return
    rows_ = [
        [
            button(
                f"⭐ {await name_of(ctx, other_party(c, ctx.user.id))} · {shorten(c.title, 30)}",
                REVIEW.data("rate", c.id),
            )
        ]
        for c in waiting[:20]
    ]
    await ctx.reply(ctx.t("rv.rate_title"), keyboard(*rows_))


# --- buttons ---------------------------------------------------------------------------------


@REVIEW.on("cancel", old=("x",))
async def cancel_pressed(ctx: Context) -> None:
    replying = ctx.in_step(ReviewStep.REPLY)
    await leave_flow(ctx, ReviewStep, "rv.reply_cancelled" if replying else "rv.cancelled")
    ctx.answer()


@REVIEW.on("rate", old=("new",))
async def rate_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await ask_stars(ctx, ctx.callback.require_id())
    ctx.answer()


@REVIEW.on("end_and_rate")
async def end_and_rate_pressed(ctx: Context) -> None:
    """One tap: end the contract (unless the other party has) and the stars in place."""
    assert ctx.callback is not None
    contract_id = ctx.callback.require_id()
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    header = None
    if contract.status is ContractStatus.ACTIVE:
        pending = await ctx.uow.milestones.count(
            contract_id=contract_id,
            status__in=[MilestoneStatus.PENDING, MilestoneStatus.PROPOSED],
        )
        if pending:  # a milestone was added since: ending would cancel it, so ask first
            await ctx.edit(
                join(
                    [
                        ctx.t("contracts.end.ask", title=contract.title),
                        ctx.t("contracts.end.pending_cancelled", count=pending),
                    ]
                ),
                keyboard(
                    [
                        button(
                            ctx.t.plain("contracts.btn.end_confirm"),
                            CONTRACT.data("confirm_end", contract_id),
                        ),
                        button(
                            ctx.t.plain("contracts.btn.back"), CONTRACT.data("view", contract_id)
                        ),
                    ]
                ),
            )
            ctx.answer()
            return
        contract = await contracts_uc.end_contract(
            ctx.uow, ctx.clock, ctx.config, ctx.user.id, contract_id, rating_shown=True
        )
        header = ctx.t("contracts.end.done", title=contract.title)
    await ask_stars(ctx, contract_id, header)
    ctx.answer()


@REVIEW.on("stars", old=("st",))
async def stars_pressed(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    await _stars_chosen(ctx, cb.require_id(), int_arg(cb.arg))
    ctx.answer()


@REVIEW.on("skip")
async def skip_pressed(ctx: Context) -> None:
    if not ctx.in_step(ReviewStep.TEXT):
        raise StaleButton()
    await _save(ctx, "")
    ctx.answer()


@REVIEW.on("subrate")
async def sub_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    value = int_arg(ctx.callback.arg)
    if not 1 <= value <= 5:
        raise StaleButton()
    await _detail_given(ctx, "s", value)
    ctx.answer()


@REVIEW.on("recommend")
async def recommend_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    value = int_arg(ctx.callback.arg)
    if not 0 <= value <= 10:
        raise StaleButton()
    await _detail_given(ctx, "rec", value)
    ctx.answer()


@REVIEW.on("endreason")
async def why_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    reason = ctx.callback.arg or ""
    if reason not in uc.END_REASONS:
        raise StaleButton()
    await _detail_given(ctx, "why", reason)
    ctx.answer()


@REVIEW.on("reply")
async def reply_pressed(ctx: Context) -> None:
    """Reply to a review about oneself: the words are asked next."""
    assert ctx.callback is not None
    review_id = ctx.callback.require_id()
    review = await load(ctx.uow.reviews, review_id, "review")
    if review.reviewee_id != ctx.user.id:
        raise StaleButton()
    if review.reply:
        await ctx.reply(ctx.t("rv.reply_already"))
    else:
        await ctx.set_state(ReviewStep.REPLY, {"rv": review_id})
        await ctx.reply(
            ctx.t("rv.ask_reply", name=await name_of(ctx, review.reviewer_id), max=uc.REPLY_MAX),
            keyboard(button(ctx.t.plain("btn.cancel"), REVIEW.data("cancel"))),
        )
    ctx.answer()


@step(ReviewStep.REPLY)
async def reply_step(ctx: Context) -> None:
    review = await uc.reply_to_review(
        ctx.uow, ctx.clock, ctx.user.id, int(ctx.data["rv"]), ctx.text
    )
    await ctx.clear_state()
    await ctx.reply(
        ctx.t("rv.reply_saved"),
        keyboard(
            button(ctx.t.plain("rv.btn.my_reviews"), REVIEW.data("reviews", review.reviewee_id, 1))
        ),
    )


@REVIEW.on("show")
async def show_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _show_contract_reviews(ctx, ctx.callback.require_id())
    ctx.answer()


@REVIEW.on("reputation", old=("rep",))
async def reputation_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_reputation(ctx, ctx.callback.require_id())
    ctx.answer()


@REVIEW.on("reviews")
async def reviews_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_reviews(ctx, ctx.callback.require_id(), int_arg(ctx.callback.arg))
    ctx.answer()


@REVIEW.on("rule")
async def rule_pressed(ctx: Context) -> None:
    await ctx.reply(ctx.t("rv.rule"))
    ctx.answer()


# --- notifications ---------------------------------------------------------------------------


@renders(ContractEnded)
async def ask_to_rate(scope: Scope, event: ContractEnded) -> None:
    """The other party hears who ended the contract; then both get the stars, whoever
    ended it (one renderer, so the order never depends on which flow loads first)."""
    contract = await scope.uow.contracts.get(event.contract_id)
    if contract is None or contract.id is None:
        return
    cid = contract.id
    await scope.notify(
        other_party(contract, event.ended_by),
        "contracts.end.notify",
        buttons=lambda t: keyboard(open_contract_button(t, cid)),
        name=await name_of(scope, event.ended_by),
        title=contract.title,
    )
    deadline = contract.review_deadline
    for user_id in (contract.client_id, contract.freelancer_id):
        if event.rating_shown and user_id == event.ended_by:
            continue  # "End contract and rate" showed them the stars in place
        await scope.notify(
            user_id,
            "rv.notify_rate",
            buttons=lambda t: star_keyboard(t, cid),
            name=await name_of(scope, other_party(contract, user_id)),
            title=contract.title,
            date=deadline.date().isoformat() if deadline else "—",
        )


@renders(ReviewLeft)
async def review_left(scope: Scope, event: ReviewLeft) -> None:
    review = await scope.uow.reviews.get(event.review_id)
    if review is None or review.status is ReviewStatus.REVEALED:
        return  # both have rated: "reviews_revealed" tells them
    contract = await scope.uow.contracts.get(review.contract_id)
    if contract is None:
        return
    cid = review.contract_id
    await scope.notify(
        review.reviewee_id,
        "rv.notify_left",
        buttons=lambda t: keyboard(rate_button(t, cid)),
        name=await name_of(scope, review.reviewer_id),
        title=contract.title,
    )


@renders(BadgeEarned)
async def badge_earned(scope: Scope, event: BadgeEarned) -> None:
    t = await scope.translator_for(event.user_id)
    uid = event.user_id
    await scope.notify(
        uid,
        text=t("rv.notify_badge_earned", badge=t.plain(f"rv.badge.{event.badge}")),
        buttons=lambda t: keyboard(reputation_button(t, uid)),
    )


@renders(BadgeLost)
async def badge_lost(scope: Scope, event: BadgeLost) -> None:
    t = await scope.translator_for(event.user_id)
    uid = event.user_id
    await scope.notify(
        uid,
        text=t(
            "rv.notify_badge_lost",
            badge=t.plain(f"rv.badge.{event.badge}"),
            rule=t.plain(f"rv.badge_rule.{event.badge}"),
        ),
        buttons=lambda t: keyboard(reputation_button(t, uid)),
    )


@renders(ReviewReplied)
async def review_replied(scope: Scope, event: ReviewReplied) -> None:
    review = await scope.uow.reviews.get(event.review_id)
    if review is None:
        return
    rid = event.reviewee_id
    await scope.notify(
        event.reviewer_id,
        "rv.notify_replied",
        buttons=lambda t: keyboard(
            button(t.plain("rv.btn.all_reviews_of"), REVIEW.data("reviews", rid, 1))
        ),
        name=await name_of(scope, event.reviewee_id),
        reply=shorten(review.reply, 300),
    )


@renders(ReviewsRevealed)
async def reviews_revealed(scope: Scope, event: ReviewsRevealed) -> None:
    contract = await scope.uow.contracts.get(event.contract_id)
    if contract is None:
        return
    found = await scope.uow.reviews.find(order_by="id", contract_id=contract.id)
    for user_id in (contract.client_id, contract.freelancer_id):
        t = await scope.translator_for(user_id)
        lines = [t("rv.notify_revealed", title=contract.title), Html("")]
        about_me = [r for r in found if r.reviewee_id == user_id]
        mine = [r for r in found if r.reviewer_id == user_id]
        replies: list[Button] = []
        for review in about_me:
            who = await name_of(scope, review.reviewer_id)
            lines += [
                t("rv.about_you"),
                review_block(t, review, who, side=await side_of(scope, review)),
                Html(""),
            ]
            if review.id is not None:
                replies.append(reply_button(t, review.id, who))
        if not about_me:
            lines += [
                t("rv.no_review_from", name=await name_of(scope, other_party(contract, user_id)))
            ]
        for review in mine:
            side = await side_of(scope, review)
            block = review_block(t, review, await name_of(scope, user_id), side=side)
            lines += [t("rv.from_you"), block]
        me = user_id
        await scope.notify(
            user_id,
            text=join(lines),
            buttons=lambda t, me=me, replies=replies: keyboard(*replies, reputation_button(t, me)),
        )
