"""The services catalogue (/catalog, issue 15 part 2) through the real engine, in English
and Russian: categories as buttons, typed search, filters (price range, delivery,
rating, verified), paging, a result opening THE service card with its packages as
buttons; stale buttons; the deep link /start service_<id>; inline sharing
("@bot service <words>", and one's own services)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.services import Service, ServicePackage, ServiceStatus
from handlers.events import Event
from tests.flows.harness import Harness, Person
from tests.flows.test_post_job import client, freelancer

T0 = datetime(2026, 3, 1, tzinfo=UTC)

L = {
    "en": {
        "home": "Services catalogue",
        "found": "Services found: {n}",
        "design": "Design",
        "all": "🛍 All services",
        "search": "🔎 Search",
        "price": "💲 Price",
        "delivery": "⏱ Delivery",
        "within3": "≤ 3 days",
        "verified": "🪪 Verified",
        "rating": "⭐ 4.5+",
        "reset": "↺ Clear filters",
        "next": "Next ›",
        "nothing": "No service matches",
        "from": "from $50.00",
        "ask_price": "Type a price range",
    },
    "ru": {
        "home": "Каталог услуг",
        "found": "Найдено услуг: {n}",
        "design": "Дизайн",
        "all": "🛍 Все услуги",
        "search": "🔎 Поиск",
        "price": "💲 Цена",
        "delivery": "⏱ Срок",
        "within3": "до 3 дней",
        "verified": "🪪 Проверенные",
        "rating": "⭐ 4.5+",
        "reset": "↺ Сбросить фильтры",
        "next": "Далее ›",
        "nothing": "Ничего не нашлось",
        "from": "от $50.00",
        "ask_price": "диапазон цены",
    },
}


async def seed(
    h: Harness,
    seller: Person,
    title: str,
    *,
    category: str = "design",
    packages: tuple[tuple[int, int], ...] = ((5_000, 3),),
    status: ServiceStatus = ServiceStatus.ACTIVE,
    minutes: int = 0,
) -> int:
    """A service of the seller's, published (at T0 + minutes) and indexed."""
    async with h.db.uow() as uow:
        service = await uow.services.add(
            Service(
                seller_id=seller.id,
                title=title,
                description=f"{title}: done with care, two rounds of changes.",
                category=category,
                skills=[],
                status=status,
                currency="USD",
                created_at=T0,
                published_at=T0 + timedelta(minutes=minutes),
                updated_at=T0,
            )
        )
        for tier, (price, days) in zip(("basic", "standard", "premium"), packages, strict=False):
            await uow.service_packages.add(
                ServicePackage(
                    service_id=service.id,
                    tier=tier,
                    name=tier.title(),
                    included="The files you need.",
                    price=price,
                    delivery_days=days,
                    revisions=1,
                )
            )
        await uow.service_search.reindex(service.id)
        await uow.commit()
        assert service.id is not None
        return service.id


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_browse_by_category_search_filter_page_and_open_a_card(h: Harness, lang):
    w = L[lang]
    felix = await freelancer(h, "Felix")
    logos = [
        await seed(h, felix, f"Logo for your shop no. {n}", minutes=n, packages=((5_000, 3),))
        for n in range(1, 7)
    ]
    bot = await seed(
        h,
        felix,
        "Telegram bot with payments",
        category="development",
        packages=((30_000, 10), (60_000, 7)),
        minutes=10,
    )
    clara = await client(h, "Clara", lang=lang)

    await h.send(clara, "/catalog")
    home = h.last(clara)
    assert w["home"] in home.text and "7" in home.text
    assert w["design"] in home.labels() and w["search"] in home.labels()
    await h.press(clara, w["design"])
    results = h.last(clara)
    assert w["found"].format(n=6) in results.text
    assert "Logo for your shop no. 6" in results.labels()[0]  # published last, first
    assert w["from"] in results.text
    await h.press(clara, w["next"])
    assert "6. Logo for your shop no. 1" in h.last(clara).text

    # Typed words search within the category; the search button says how.
    await h.press(clara, w["search"])
    await h.send(clara, "telegram")
    assert w["nothing"] in h.last(clara).text  # still in Design
    await h.press(clara, w["reset"])
    await h.send(clara, "telegram payments")
    found = h.last(clara)
    assert w["found"].format(n=1) in found.text and "Telegram bot with payments" in found.text

    # Filters: delivery time, price range, rating, verified.
    await h.press(clara, w["reset"])
    await h.press(clara, w["delivery"])
    await h.press(clara, w["within3"])
    assert w["found"].format(n=6) in h.last(clara).text
    await h.press(clara, w["reset"])
    await h.press(clara, w["price"])
    assert w["ask_price"] in h.last(clara).text
    await h.send(clara, "200-700")
    priced = h.last(clara)
    assert w["found"].format(n=1) in priced.text and "$200.00" in priced.text
    await h.press(clara, w["rating"])
    assert w["found"].format(n=0) in h.last(clara).text  # Felix has no reviews yet
    await h.press(clara, "✅ " + w["rating"])  # pressed again: off
    await h.press(clara, w["verified"])
    assert w["found"].format(n=0) in h.last(clara).text

    # A result opens THE service card with its packages as buttons.
    await h.press(clara, w["reset"])
    await h.send(clara, "telegram")
    await h.press(clara, "1. Telegram bot with payments")
    card = h.last(clara)
    assert "Telegram bot with payments" in card.text and "$600.00" in card.text
    assert len(_buys(card, bot)) == 2
    assert logos  # (seeded)


def _datas(message) -> list[str]:
    return [b["data"] for row in (message.buttons or []) for b in row if "data" in b]


def _buys(message, service_id: int) -> list[str]:
    """The card's package buttons (flows/service_orders.py's "ord:…:<service>:<tier>")."""
    return [d for d in _datas(message) if re.fullmatch(rf"ord:\w+:{service_id}:\w+", d)]


async def test_paused_and_deleted_services_leave_the_catalogue(h: Harness):
    felix = await freelancer(h, "Felix")
    kept = await seed(h, felix, "Podcast editing, any length")
    gone = await seed(h, felix, "Podcast cover art", minutes=1)
    clara = await client(h, "Clara")
    await h.send(clara, "/catalog podcast")
    assert "Services found: 2" in h.last(clara).text
    async with h.db.uow() as uow:
        service = await uow.services.get(gone)
        service.status = ServiceStatus.PAUSED
        await uow.service_search.reindex(gone)
        await uow.commit()
    await h.send(clara, "/catalog podcast")
    assert "Services found: 1" in h.last(clara).text
    assert "Podcast editing" in h.last(clara).text and kept


async def test_stale_and_forged_buttons_change_nothing(h: Harness):
    felix = await freelancer(h, "Felix")
    await seed(h, felix, "Logo for a bakery")
    clara = await client(h, "Clara")
    await h.send(clara, "/catalog")
    await h.send(clara, "/help")  # the search ended: its buttons are stale
    await h.press_data(clara, "cat:page::2")
    assert "no longer available" in h.last_answer(clara).text
    await h.send(clara, "/catalog")
    await h.press_data(clara, "cat:category::no-such-category")
    assert "no longer available" in h.last_answer(clara).text
    await h.press_data(clara, "cat:max_days::2")
    assert "no longer available" in h.last_answer(clara).text
    await h.press_data(clara, "cat:rating::5")
    assert "no longer available" in h.last_answer(clara).text
    await h.send(clara, "<b>" + "x" * 10_000)  # hostile words: a search, not an error
    assert "Services found: 0" in h.last(clara).text


async def test_deep_link_opens_the_card_en_and_ru(h: Harness):
    felix = await freelancer(h, "Felix")
    sid = await seed(h, felix, "Brand book for a cafe", packages=((12_000, 5), (20_000, 4)))
    for lang in ("en", "ru"):
        clara = h.person(f"Clara-{lang}", lang=lang)
        await h.send(clara, f"/start service_{sid}")
        card = h.last(clara)
        assert "Brand book for a cafe" in card.text and "$120.00" in card.text
        assert len(_buys(card, sid)) == 2
    # The seller's own link shows their card (no buying from oneself).
    await h.send(felix, f"/start service_{sid}")
    assert not _buys(h.last(felix), sid)


async def _inline(h: Harness, who: Person, text: str, offset: str = ""):
    event = Event(
        kind="inline_query",
        user_id=who.id,
        chat_id=who.id,
        update_id=None,
        user_name=who.name,
        language_code=who.language_code,
        text=text,
        inline_query_id="q1",
        inline_offset=offset,
        bot_username="gigbot_test_bot",
    )
    outcome = await h.handle(event)
    assert outcome.inline_answer is not None
    return outcome.inline_answer


async def test_inline_shares_service_cards(h: Harness):
    felix = await freelancer(h, "Felix")
    mine = await seed(h, felix, "Logo for a flower shop")
    other = await freelancer(h, "Olga")
    theirs = await seed(h, other, "Logo animation", minutes=5)
    clara = await client(h, "Clara", lang="ru")

    answer = await _inline(h, clara, "service logo")
    assert [r.id for r in answer.results] == [f"service_{theirs}", f"service_{mine}"]
    first = answer.results[0]
    assert "Logo animation" in first.text and "от $50.00" in first.description
    assert first.buttons[0][0]["url"].endswith(f"?start=service_{theirs}")
    assert not answer.is_personal

    own = await _inline(h, felix, "service")  # one's own services, personal
    assert [r.id for r in own.results] == [f"service_{mine}"] and own.is_personal
    none_of_her_own = await _inline(h, clara, "услуги")  # none: the catalogue's best
    assert len(none_of_her_own.results) == 2 and not none_of_her_own.is_personal
    jobs = await _inline(h, clara, "logo")  # without "service": jobs, as before
    assert all(r.id.startswith("job_") for r in jobs.results)


async def test_home_counts_in_words_and_a_price_range_is_forgiving(h: Harness):
    felix = await freelancer(h, "Felix")
    await seed(h, felix, "Logo for a bakery", packages=((5_000, 3),))
    clara = await client(h, "Clara")
    boris = await client(h, "Boris", lang="ru")
    await h.send(clara, "/catalog")
    assert "1 service ready to buy" in h.last(clara).text
    await h.send(boris, "/catalog")
    assert "1 услуга готова к покупке" in h.last(boris).text

    await h.press(clara, "🛍 All services")
    await h.press(clara, "💲 Price")
    await h.send(clara, "cheap")  # not an amount: a reason, nothing changes
    assert "Services found" not in h.last(clara).text
    await h.send(clara, "100 - 20")  # the wrong way round: taken as 20–100
    found = h.last(clara)
    assert "$20.00–$100.00" in found.text and "Services found: 1" in found.text
    await h.press(clara, "✅ 💲 Price")
    await h.press(clara, "Any price")
    assert (
        "Services found: 1" in h.last(clara).text and "💲" not in h.last(clara).text.split("\n")[1]
    )


async def test_deep_link_to_a_paused_deleted_or_unknown_service(h: Harness):
    felix = await freelancer(h, "Felix")
    paused = await seed(h, felix, "Voice-over for a podcast intro")
    deleted = await seed(h, felix, "Voice-over for an audiobook")
    async with h.db.uow() as uow:
        for sid, status in ((paused, ServiceStatus.PAUSED), (deleted, ServiceStatus.DELETED)):
            service = await uow.services.get(sid)
            service.status = status
            await uow.service_search.reindex(sid)
        await uow.commit()
    clara = await client(h, "Clara")
    await h.send(clara, f"/start service_{paused}")
    card = h.last(clara)
    assert "Voice-over for a podcast intro" in card.text and not _buys(card, paused)
    await h.send(clara, f"/start service_{deleted}")
    assert "This service is not available" in h.last(clara).text
    await h.send(clara, "/start service_999999")
    assert "This service is not available" in h.last(clara).text
    await h.press_data(clara, f"cat:show:{deleted}")  # an old result's button
    answer = h.last_answer(clara)
    assert answer is not None and "not available" in answer.text
