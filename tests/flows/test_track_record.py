"""A track record on every card (issue 12, part 4): after a scripted history —
post, hire, fund, release, review — the job card, the instant alert, the digest,
the search results and the pitch list show figures that direct database queries
agree with; a page of records costs the same queries for one person or many."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from domain.entities import AlertSubscription, Job, User
from domain.states import JobStatus
from domain.usecases import pitches
from domain.usecases.track_record import client_records, freelancer_records, on_time_share
from handlers.callbacks import encode
from handlers.context import Scope
from handlers.notify import render_events
from handlers.track_record import rounded
from storage.database import Database
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    enter_milestone,
    fund,
    label,
    money_harness,
    open_job,
    people,
)
from tests.flows.test_post_job import freelancer, post_job
from tests.flows.test_work import submit
from tests.sql_log import SqlLog

CLIENT_LINE = re.compile(r"👤 Client · member since (?P<since>[^·]+) · (?P<badge>💳 [^\n]+)")
FACTS_LINE = re.compile(
    r"📊 (?P<jobs>\d+) jobs? posted · (?P<hires>\d+) hires? · (?P<spent>\S+) spent"
    r" · (?:⭐ (?P<rating>[\d.]+) \((?P<reviews>\d+) reviews?\)|no reviews yet)"
)


@pytest.fixture
def h(any_db, clock) -> Harness:  # type: ignore[no-untyped-def]
    return money_harness(any_db, clock)


async def history(h: Harness) -> tuple[Person, Person, int]:
    """Carla posts a job, hires Fred for a $1,250 milestone due 2026-01-20, funds it,
    Fred delivers on time, Carla releases, the contract ends and both rate (Fred gives
    Carla 5★, Carla gives Fred 4★). Returns (Carla, Fred, the job's id)."""
    carla, fred = await people(h)
    await post_job(h, carla, title="Logo for a coffee shop", deadline=None)
    [job] = await all_of(h, "jobs")
    # The pitch through its use case (the pitch wizard is another flow's, tested there).
    async with h.db.uow() as uow:
        fields = pitches.PitchFields(
            "Forty coffee logos drawn; here is how I'd do yours.", 125_000, 7
        )
        await pitches.submit_pitch(uow, h.clock, h.config, fred.id, job.id, fields)
        await uow.commit()
    [pitch] = await all_of(h, "pitches")
    await h.press_data(carla, encode("of", "hire", pitch.id))
    await enter_milestone(h, carla, "Logo", "1250", "2026-01-20")
    await h.press(carla, label("offers.btn.send_new"))
    [contract] = await all_of(h, "contracts")
    await h.press_data(fred, encode("of", "accept", contract.id))
    await h.press(carla, "📢 Keep open")  # the job stays on the market for others
    [milestone] = await all_of(h, "milestones")
    await fund(h, carla, milestone.id)
    await submit(h, fred, milestone.id, "Here is the logo.")
    await h.press(carla, label("work.btn.approve"))
    await h.press(carla, label("work.btn.release_confirm"))
    await h.press_data(carla, f"ct:endok:{contract.id}")
    for who, stars in ((fred, 5), (carla, 4)):
        await h.press_data(who, f"rv:rate:{contract.id}")
        await h.press_data(who, f"rv:stars:{contract.id}:{stars}", h.last(who).message_id)
        await h.press_data(who, "rv:skip", h.last(who).message_id)
    return carla, fred, job.id


async def scalar(db: Database, sql: str, **params: object) -> object:
    async with db.uow() as uow:
        return (await uow.session.execute(sa.text(sql), params)).scalar()  # type: ignore[attr-defined]


async def expected_client(db: Database, user_id: int) -> dict[str, str]:
    """The client's figures, straight from the tables."""
    created = await scalar(db, "SELECT created_at FROM users WHERE id = :u", u=user_id)
    jobs = await scalar(
        db, "SELECT count(*) FROM jobs WHERE client_id = :u AND published_at IS NOT NULL", u=user_id
    )
    hires = await scalar(
        db,
        "SELECT count(*) FROM contracts WHERE client_id = :u AND status IN ('active', 'ended')",
        u=user_id,
    )
    spent = await scalar(
        db,
        "SELECT coalesce(sum(m.amount), 0) FROM milestones m JOIN contracts c"
        " ON c.id = m.contract_id WHERE c.client_id = :u AND m.status = 'released'",
        u=user_id,
    )
    ratings = await scalar(
        db,
        "SELECT avg(r.rating * 1.0) FROM reviews r JOIN contracts c ON c.id = r.contract_id"
        " WHERE r.reviewee_id = :u AND c.client_id = :u AND r.status = 'revealed'",
        u=user_id,
    )
    reviews = await scalar(
        db, "SELECT count(*) FROM reviews WHERE reviewee_id = :u AND status = 'revealed'", u=user_id
    )
    paid = await scalar(
        db,
        "SELECT count(*) FROM payments WHERE payer_id = :u AND status = 'succeeded'"
        " AND failure_reason IS NULL AND charged_back_at IS NULL",
        u=user_id,
    )
    if isinstance(created, str):  # SQLite hands the raw text back
        from datetime import datetime

        created = datetime.fromisoformat(created)
    return {
        "since": format_date(created, "LLLL y", locale="en"),  # type: ignore[arg-type]
        "badge": "💳 Payment verified" if paid else "💳 Payment not verified",
        "jobs": str(jobs),
        "hires": str(hires),
        "spent": rounded(int(spent), "USD"),  # type: ignore[call-overload]
        "rating": str(Decimal(str(ratings)).quantize(Decimal("0.1"), ROUND_HALF_UP)),
        "reviews": str(reviews),
    }


def shown(text: str) -> dict[str, str]:
    """The figures a card shows."""
    client, facts = CLIENT_LINE.search(text), FACTS_LINE.search(text)
    assert client and facts, text
    return {**{k: v.strip() for k, v in client.groupdict().items()}, **facts.groupdict()}


async def test_the_card_alert_and_digest_show_what_the_database_says(h: Harness) -> None:
    carla, fred, job_id = await history(h)
    want = await expected_client(h.db, carla.id)
    # What the history should have produced, so the comparison is not vacuous.
    assert want == {
        "since": "January 2026",
        "badge": "💳 Payment verified",
        "jobs": "1",
        "hires": "1",
        "spent": "$1.2k+",
        "rating": "5.0",
        "reviews": "1",
    }

    # The job card a freelancer opens by a deep link.
    hank = await freelancer(h, "Hank")
    await h.send(hank, f"/start job_{job_id}")
    assert shown(h.last(hank).text) == want

    # An instant alert of her next job, and a daily digest: the same figures, the
    # new job counted.
    ivan = await freelancer(h, "Ivan")
    async with h.db.uow() as uow:
        now = h.clock.now()
        await uow.subscriptions.add(
            AlertSubscription(user_id=hank.id, categories=["design"], created_at=now)
        )
        await uow.subscriptions.add(
            AlertSubscription(
                user_id=ivan.id,
                categories=["design"],
                mode="daily",
                created_at=now,
                last_digest_at=now,
            )
        )
        await uow.commit()
    h.clock.advance(minutes=1)  # published after the digest's start
    await post_job(h, carla, title="Menu cards for the same coffee shop", deadline=None)
    alert = h.last(hank)
    assert "Menu cards" in alert.text
    assert shown(alert.text) == await expected_client(h.db, carla.id) == want | {"jobs": "2"}

    # The same card in Russian.
    olga = await freelancer(h, "Olga", lang="ru")
    await h.send(olga, f"/start job_{job_id}")
    card = h.last(olga).text
    assert "👤 Заказчик · регистрация: январь 2026 · 💳 Оплата подтверждена" in card
    assert "📊 2 заказа опубликовано · 1 найм · потрачено $1.2k+ · ⭐ 5.0 (1 отзыв)" in card

    # The daily digest a day later: a line per job with the client's record.
    h.clock.advance(days=1, minutes=1)
    await h.tick()
    digest = h.last(ivan).text
    assert "Menu cards" in digest
    brief = "since January 2026 · 2 jobs posted · 1 hire · $1.2k+ spent · ⭐ 5.0 (1 review)"
    assert brief + " · 💳 Payment verified" in digest

    # The search results: one line per job, with the client's record.
    await h.send(hank, "/jobs")
    assert brief in h.last(hank).text

    # Fred's record as Carla sees it on his next pitch: a completed contract, 4★,
    # delivered on time (submitted 2026-01-05, due 2026-01-20), identity not verified.
    second = (await all_of(h, "jobs"))[-1]
    async with h.db.uow() as uow:
        fields = pitches.PitchFields("The same style, for the menu cards too, gladly.", 30_000, 3)
        made = await pitches.submit_pitch(uow, h.clock, h.config, fred.id, second.id, fields)
        await render_events(Scope(uow, h.clock, h.config), uow.events)  # as a step would
        await uow.commit()
    await h.deliver()
    facts = "1 completed contract · ⭐ 4.0 (1 review) · ⏱ 100% on time"
    assert "📊 " + facts in h.last(carla).text  # the notification of the pitch
    await h.press_data(carla, encode("mj", "pitches", second.id, "1"))
    assert facts in h.last(carla).text  # the list of pitches
    await h.press_data(carla, encode("mj", "view_pitch", made.id))
    card = h.last(carla).text
    assert "🧑‍💻 Freelancer · member since January 2026 · 🪪 Identity not verified" in card
    assert "📊 " + facts in card
    async with h.db.uow() as uow:
        records = await freelancer_records(uow, h.clock, [fred.id])
    record = records[fred.id]
    assert (record.completed, str(record.rating), record.on_time_percent) == (1, "4.0", 100)
    assert not record.identity_verified


async def test_a_page_of_records_costs_the_same_queries_for_one_or_many(db, clock) -> None:
    """No N+1: the records of 1 and of 12 clients (or freelancers) take the same
    statement, one a role (the facts and the lists together)."""
    async with db.uow() as uow:
        for k in range(12):
            await uow.users.add(User(id=500 + k, name=f"U{k}", created_at=clock.now()))
            await uow.jobs.add(
                Job(
                    client_id=500 + k,
                    title=f"Job {k}",
                    status=JobStatus.OPEN,
                    created_at=clock.now(),
                    published_at=clock.now(),
                )
            )
        await uow.commit()

    sizes = {}
    with SqlLog(db.engine) as log:
        for ids in ([500], list(range(500, 512))):
            for kind in ("clients", "freelancers"):
                log.clear()
                async with db.uow() as uow:
                    if kind == "clients":
                        got = await client_records(uow, type("C", (), {"currency": "USD"})(), ids)  # type: ignore[arg-type]
                    else:
                        got = await freelancer_records(uow, clock, ids)
                assert sorted(got) == ids
                sizes[(kind, len(ids))] = len(log.statements)
    assert set(sizes.values()) == {1}, sizes
    async with db.uow() as uow:
        got = await client_records(uow, type("C", (), {"currency": "USD"})(), [503])  # type: ignore[arg-type]
    assert got[503].jobs_posted == 1 and got[503].hires == 0 and not got[503].payment_verified


def test_on_time_share_and_rounding_rules() -> None:
    from datetime import UTC, date, datetime

    from domain.ports import DueMilestone

    today = date(2026, 3, 1)
    due = [
        DueMilestone(date(2026, 1, 10), datetime(2026, 1, 10, 23, tzinfo=UTC), False),  # on time
        DueMilestone(date(2026, 1, 10), datetime(2026, 1, 11, tzinfo=UTC), False),  # late
        DueMilestone(date(2026, 2, 1), None, True),  # held past its date: late
        DueMilestone(date(2026, 4, 1), None, True),  # not due yet: not counted
    ]
    assert on_time_share(due, today) == 33
    assert on_time_share([], today) is None
    assert [rounded(a, "USD") for a in (0, 99, 25_000, 25_050, 100_000, 123_456, 250_000_000)] == [
        "$0",
        "$0+",
        "$250",
        "$250+",
        "$1k",
        "$1.2k+",
        "$2.5M",
    ]


async def test_offers_show_the_other_partys_record(h: Harness) -> None:
    """The client sees the freelancer's record on the offer they are about to send; the
    freelancer sees the client's on the offer they receive."""
    carla, fred = await people(h)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await enter_milestone(h, carla, "Design", "100")
    review = h.last(carla).text
    assert "🧑‍💻 Freelancer · member since January 2026 · 🪪 Identity not verified" in review
    assert "📊 0 completed contracts · no reviews yet" in review
    await h.press(carla, label("offers.btn.send_new"))
    offer = h.last(fred).text
    assert "offers you a contract" in offer
    assert "👤 Client · member since January 2026 · 💳 Payment not verified" in offer
    assert "📊 1 job posted · 0 hires · $0 spent · no reviews yet" in offer
