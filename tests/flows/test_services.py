"""A seller's services (issue 15, flows/services.py): the New service wizard with
three packages and an extra, the limits, pause / resume / edit / delete, a
stranger's forged buttons, and a draft continued after leaving the wizard —
through the real engine on SQLite, in English and Russian."""

from __future__ import annotations

import pytest

from domain.services import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_LIVE_SERVICES,
    TITLE_MAX,
    TITLE_MIN,
    Service,
    ServiceStatus,
)
from handlers.events import IncomingFile
from handlers.i18n import translator
from handlers.service_views import buy_buttons
from tests.flows.harness import Harness, Person

HOSTILE = "<b>bold</b> <script>x</script> a < b & c 👩‍💻"

WORDS = {
    "en": {
        "role": "🧑‍💻 I work (freelancer)",
        "new": "➕ New service",
        "done": "✅ Done",
        "continue": "Continue ›",
        "skip": "Skip ›",
        "add_package": "➕ Add another package",
        "add_extra": "➕ Add an extra",
        "faster": "1 day faster",
        "publish": "🚀 Publish",
        "pause": "⏸ Pause",
        "resume": "▶️ Resume",
        "edit": "✏️ Edit",
        "delete": "🗑 Delete",
        "delete_yes": "🗑 Yes, delete",
        "title_section": "📝 Title",
        "packages_section": "📦 Packages",
        "design": "Design",
        "published": "Your service is live",
        "continue_draft": "▶️ Continue your draft",
    },
    "ru": {
        "role": "🧑‍💻 Я работаю (фрилансер)",
        "new": "➕ Новая услуга",
        "done": "✅ Готово",
        "continue": "Далее ›",
        "skip": "Пропустить ›",
        "add_package": "➕ Добавить пакет",
        "add_extra": "➕ Добавить опцию",
        "faster": "На 1 день быстрее",
        "publish": "🚀 Опубликовать",
        "pause": "⏸ Приостановить",
        "resume": "▶️ Возобновить",
        "edit": "✏️ Изменить",
        "delete": "🗑 Удалить",
        "delete_yes": "🗑 Да, удалить",
        "title_section": "📝 Название",
        "packages_section": "📦 Пакеты",
        "design": "Дизайн и творчество",
        "published": "Услуга опубликована",
        "continue_draft": "▶️ Продолжить черновик",
    },
}


async def seller(h: Harness, name: str = "Felix", lang: str = "en") -> Person:
    who = h.person(name, lang=lang)
    await h.send(who, "/start")
    await h.press(who, WORDS[lang]["role"])
    return who


def category_label(h: Harness, who: Person) -> str:
    """The first category button of the wizard's category step."""
    buttons = [b for row in h.last(who).buttons or [] for b in row]
    return next(b["text"] for b in buttons if b.get("data", "").startswith("svc:category"))


async def package(
    h: Harness, who: Person, name: str, price: str, days: str, revisions: str
) -> None:
    await h.send(who, name)
    await h.send(who, f"{name}: two concepts, vector files and a PNG")
    await h.send(who, price)
    await h.send(who, days)
    await h.press(who, revisions)


async def start_wizard(h: Harness, who: Person, lang: str) -> None:
    await h.send(who, "/services")
    await h.press(who, WORDS[lang]["new"])


async def fill_to_packages(h: Harness, who: Person, lang: str, title: str) -> None:
    await h.send(who, title)
    await h.send(who, "I draw clean, memorable logos for small brands, with vector files.")
    await h.press(who, category_label(h, who))
    await h.send(who, "logo design, branding")
    await h.press(who, WORDS[lang]["done"])


async def publish_full(
    h: Harness, who: Person, lang: str = "en", title: str = "A minimalist logo for your brand"
) -> int:
    """Three packages, an extra, a link sample, a question: published. The service id."""
    w = WORDS[lang]
    await start_wizard(h, who, lang)
    await fill_to_packages(h, who, lang, title)
    await package(h, who, "Basic", "50", "3", "1")
    await h.press(who, w["add_package"])
    await package(h, who, "Standard", "120", "5", "2")
    await h.press(who, w["add_package"])
    await package(h, who, "Premium", "300", "7 days", "3")
    assert w["add_package"] not in h.last(who).labels()  # three is the most
    await h.press(who, w["continue"])
    await h.press(who, w["add_extra"])
    await h.send(who, "Source files")
    await h.send(who, "20")
    await h.press(who, w["faster"])
    await h.press(who, w["continue"])
    await h.send(who, "https://dribbble.com/felix")
    await h.press(who, w["continue"])
    await h.send(who, "What is the name of your brand?")
    await h.press(who, w["continue"])
    await h.press(who, w["publish"])
    assert w["published"] in h.last(who).text
    async with h.db.uow() as uow:
        return (await uow.services.of_seller(who.id))[0].id


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_publish_a_service_with_three_packages_and_an_extra(h, lang):
    felix = await seller(h, lang=lang)
    service_id = await publish_full(h, felix, lang)
    card = h.last(felix).text
    for words in ("Basic", "Standard", "Premium", "$50.00", "$120.00", "$300.00", "Source files"):
        assert words in card
    assert ("1 day faster" if lang == "en" else "быстрее на 1 день") in card
    assert "https://dribbble.com/felix" in card
    assert WORDS[lang]["pause"] in h.last(felix).labels()
    async with h.db.uow() as uow:
        service = await uow.services.get(service_id)
        assert service.status is ServiceStatus.ACTIVE and service.published_at is not None
        assert service.questions == ["What is the name of your brand?"]
        packages = await uow.services.packages(service_id)
        assert [(p.tier, p.price, p.delivery_days, p.revisions) for p in packages] == [
            ("basic", 5000, 3, 1),
            ("standard", 12000, 5, 2),
            ("premium", 30000, 7, 3),
        ]
        extras = await uow.services.extras(service_id)
        assert [(x.title, x.price, x.days_delta) for x in extras] == [("Source files", 2000, -1)]
    # A buyer sees the packages as buttons to order.
    clara = h.person("Clara", lang=lang)
    await h.send(clara, "/start")
    await h.press_data(clara, f"svc:manage:{service_id}")  # not theirs to manage
    assert ("not yours" if lang == "en" else "не ваша") in h.last_answer(clara).text
    async with h.db.uow() as uow:
        assert (await uow.services.get(service_id)).status is ServiceStatus.ACTIVE


async def test_the_card_shows_buy_buttons_to_buyers_and_escapes_text(h, db):
    felix = await seller(h, name=HOSTILE)
    await start_wizard(h, felix, "en")
    await fill_to_packages(h, felix, "en", "Logo <b>design</b> & more " + "x" * 5)
    await package(h, felix, "<i>Basic</i>", "50", "3", "0")
    await h.press(felix, "Continue ›")
    await h.press(felix, "Skip ›")
    await h.press(felix, "Skip ›")
    await h.press(felix, "Skip ›")
    assert "&lt;b&gt;design&lt;/b&gt; &amp; more" in h.last(felix).html
    await h.press(felix, "🚀 Publish")
    async with db.uow() as uow:
        (service,) = await uow.services.of_seller(felix.id)
        (buy,) = buy_buttons(translator("en"), service, await uow.services.packages(service.id))
        assert buy["data"] == f"ord:purchase:{service.id}:basic"
    assert HOSTILE not in h.last(felix).html  # the seller's name escaped on the card
    assert "&lt;script&gt;" in h.last(felix).html


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_limits_are_refused_with_clear_answers(h, lang):
    felix = await seller(h, lang=lang)
    await start_wizard(h, felix, lang)
    await h.send(felix, "Logo")  # too short
    assert ("at least 10" if lang == "en" else "10") in h.last(felix).text
    await fill_to_packages(h, felix, lang, "A minimalist logo for your brand")
    await h.send(felix, "Basic")
    await h.send(felix, "Two concepts")
    await h.send(felix, "0")
    assert ("more than zero" if lang == "en" else "больше нуля") in h.last(felix).text
    await h.send(felix, "-5")
    await h.send(felix, "50")
    await h.send(felix, "0")  # delivery days ≥ 1
    assert ("between 1 and 365" if lang == "en" else "от 1 до 365") in h.last(felix).text
    await h.send(felix, "3")
    await h.send(felix, "-1")  # revisions ≥ 0
    assert ("between 0 and 50" if lang == "en" else "от 0 до 50") in h.last(felix).text
    await h.send(felix, "2")
    await h.press(felix, WORDS[lang]["continue"])
    await h.press(felix, WORDS[lang]["skip"])  # no extras
    for i in range(5):
        await h.send(felix, f"https://example.com/work/{i}")
    await h.send(felix, "https://example.com/work/6")
    assert ("at most 5 samples" if lang == "en" else "не больше 5 примеров") in h.last(felix).text
    await h.send(felix, "not a link at all")
    await h.press(felix, WORDS[lang]["continue"])
    for i in range(5):
        await h.send(felix, f"Question number {i}?")
    await h.send(felix, "One question too many?")
    assert ("at most 5 questions" if lang == "en" else "не больше 5 вопросов") in h.last(felix).text
    async with h.db.uow() as uow:
        assert await uow.services.of_seller(felix.id) == []


async def test_a_document_is_not_a_sample_but_a_photo_is(h):
    felix = await seller(h)
    await start_wizard(h, felix, "en")
    await fill_to_packages(h, felix, "en", "A minimalist logo for your brand")
    await package(h, felix, "Basic", "50", "3", "1")
    await h.press(felix, "Continue ›")
    await h.press(felix, "Skip ›")
    await h.upload(felix, IncomingFile(file_id="DOC1", kind="document"))
    assert "as a photo, not a file" in h.last(felix).text
    await h.upload(felix, IncomingFile(file_id="PHOTO1", kind="photo"))
    assert "🖼 photo" in h.last(felix).text
    await h.press(felix, "Continue ›")
    await h.press(felix, "Skip ›")
    await h.press(felix, "🚀 Publish")
    assert "1 photo" in h.last(felix).text
    await h.press(felix, "🖼 See 1 photo")
    photo = h.last(felix)
    assert photo.file_id == "PHOTO1" and photo.media == "photo"


async def test_twenty_services_at_most(h, db, clock):
    felix = await seller(h)
    async with db.uow() as uow:
        for i in range(MAX_LIVE_SERVICES):
            await uow.services.add(
                Service(
                    seller_id=felix.id, title=f"Service number {i}", status=ServiceStatus.ACTIVE
                )
            )
        await uow.commit()
    await h.send(felix, "/services")
    assert "(20 of 20)" in h.last(felix).text
    assert "➕ New service" not in h.last(felix).labels()
    await h.press_data(felix, "svc:create")
    assert "at most 20 services" in h.last_answer(felix).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_pause_resume_edit_delete(h, lang):
    w = WORDS[lang]
    felix = await seller(h, lang=lang)
    service_id = await publish_full(h, felix, lang)
    await h.press(felix, w["pause"])
    async with h.db.uow() as uow:
        assert (await uow.services.get(service_id)).status is ServiceStatus.PAUSED
    await h.press(felix, w["resume"])
    async with h.db.uow() as uow:
        assert (await uow.services.get(service_id)).status is ServiceStatus.ACTIVE
    # Edit the title.
    await h.press(felix, w["edit"])
    await h.press(felix, w["title_section"])
    assert "A minimalist logo for your brand" in h.last(felix).text  # the current title
    await h.send(felix, "A bold logo for your coffee shop")
    assert "A bold logo for your coffee shop" in h.last(felix).text
    # Remove the premium package (saved at once), then done.
    await h.press(felix, w["edit"])
    await h.press(felix, w["packages_section"])
    await h.press(felix, f"🗑 🥇 {'Premium' if lang == 'en' else 'Премиум'}")
    await h.press(felix, w["done"])
    async with h.db.uow() as uow:
        service = await uow.services.get(service_id)
        assert service.title == "A bold logo for your coffee shop"
        assert [p.tier for p in await uow.services.packages(service_id)] == ["basic", "standard"]
    # Delete, after a confirmation.
    await h.press(felix, w["delete"])
    await h.press(felix, w["delete_yes"])
    async with h.db.uow() as uow:
        assert (await uow.services.get(service_id)).status is ServiceStatus.DELETED
        assert await uow.services.live_count(felix.id) == 0


async def test_a_stranger_cannot_manage_someone_elses_service(h, db):
    felix = await seller(h)
    service_id = await publish_full(h, felix)
    mallory = await seller(h, name="Mallory")
    for data in (
        f"svc:pause:{service_id}",
        f"svc:delete_sure:{service_id}",
        f"svc:edit:{service_id}",
        f"svc:edit_section:{service_id}:title",
        f"svc:manage:{service_id}",
    ):
        before = len(h.chat(mallory))
        await h.press_data(mallory, data)
        answer = h.last_answer(mallory)
        assert answer is not None and "not yours" in answer.text, data
        assert len(h.chat(mallory)) == before
    async with db.uow() as uow:
        service = await uow.services.get(service_id)
        assert service.status is ServiceStatus.ACTIVE
        assert service.title == "A minimalist logo for your brand"


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_draft_is_continued_after_leaving_the_wizard(h, lang):
    w = WORDS[lang]
    felix = await seller(h, lang=lang)
    await start_wizard(h, felix, lang)
    await fill_to_packages(h, felix, lang, "A minimalist logo for your brand")
    await h.send(felix, "Basic")
    await h.send(felix, "/profile")  # leaves the wizard: kept as a draft
    await start_wizard(h, felix, lang)
    await h.press(felix, w["continue_draft"])
    await h.send(felix, "Two concepts and vector files")  # the step it was at: included
    await h.send(felix, "50")
    await h.send(felix, "3")
    await h.press(felix, "1")
    await h.press(felix, w["continue"])
    await h.press(felix, w["skip"])
    await h.press(felix, w["skip"])
    await h.press(felix, w["skip"])
    await h.press(felix, w["publish"])
    async with h.db.uow() as uow:
        (service,) = await uow.services.of_seller(felix.id)
        (basic,) = await uow.services.packages(service.id)
        assert basic.name == "Basic" and basic.included == "Two concepts and vector files"
        assert service.status is ServiceStatus.ACTIVE


async def test_cancel_discards_the_new_service(h, db):
    felix = await seller(h)
    await start_wizard(h, felix, "en")
    await h.send(felix, "A minimalist logo for your brand")
    await h.send(felix, "/cancel")
    await start_wizard(h, felix, "en")
    assert "Send the <b>title</b>" in h.last(felix).html  # no draft offered after /cancel
    async with db.uow() as uow:
        assert await uow.services.of_seller(felix.id) == []


async def test_clients_have_no_services(h):
    cleo = h.person("Cleo")
    await h.send(cleo, "/start")
    await h.press(cleo, "💼 I hire (client)")
    await h.send(cleo, "/services")
    assert "Only freelancers" in h.last(cleo).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_freelancers_have_the_menu_button(h, lang):
    felix = await seller(h, lang=lang)
    await h.send(felix, "/menu")
    label = "🧩 My services" if lang == "en" else "🧩 Мои услуги"
    assert label in h.last(felix).labels()
    await h.press(felix, label)
    assert ("You have no services yet" if lang == "en" else "У вас пока нет услуг") in h.last(
        felix
    ).text
    assert WORDS[lang]["new"] in h.last(felix).labels()


async def test_typed_numbers_are_read_as_people_type_them(h, db):
    felix = await seller(h)
    await start_wizard(h, felix, "en")
    await fill_to_packages(h, felix, "en", "A minimalist logo for your brand")
    await h.send(felix, "Basic")
    await h.send(felix, "Two concepts and vector files")
    await h.send(felix, "$1,250.50")
    await h.send(felix, "three days")
    assert "whole number" in h.last(felix).text
    await h.send(felix, "4 days")
    await h.send(felix, "2")
    await h.press(felix, "Continue ›")
    await h.press(felix, "➕ Add an extra")
    await h.send(felix, "Express delivery")
    await h.send(felix, "15")
    await h.send(felix, "−2")  # the typographic minus of the question's example
    assert "2 days faster" in h.last(felix).text
    await h.press(felix, "Continue ›")
    await h.press(felix, "Skip ›")
    await h.press(felix, "Skip ›")
    await h.press(felix, "🚀 Publish")
    async with db.uow() as uow:
        (service,) = await uow.services.of_seller(felix.id)
        (basic,) = await uow.services.packages(service.id)
        (extra,) = await uow.services.extras(service.id)
        assert (basic.price, basic.delivery_days, basic.revisions) == (125050, 4, 2)
        assert (extra.title, extra.price, extra.days_delta) == ("Express delivery", 1500, -2)


async def test_the_largest_service_card_is_delivered_whole(h, db, clock, config):
    """Every field at its longest (with HTML-like text): the card is split into
    valid messages under Telegram's limit, the seller's buttons under the last."""
    from domain.usecases import services as uc

    felix = await seller(h, name="F" * 200)
    long_package = uc.PackageFields(
        name="N" * 60, included="<i>" + "i" * 995, price=10**9, delivery_days=365, revisions=50
    )
    fields = uc.ServiceFields(
        title="T<b>" * 30,
        description=("D & <x> " * 600)[:4000],
        category="design",
        skills=tuple(f"skill-{i}-" + "s" * 22 for i in range(10)),
        packages=(long_package,) * 3,
        extras=tuple(uc.ExtraFields(title="E" * 80, price=10**9, days_delta=-60) for _ in range(5)),
        samples=tuple(
            {"kind": "link", "value": f"https://example.com/{i}/" + "p" * 270} for i in range(5)
        ),
        questions=tuple("Q" * 300 for _ in range(5)),
    )
    async with db.uow() as uow:
        service = await uc.create_service(uow, clock, config, felix.id, fields)
        await uc.publish_service(uow, clock, felix.id, service.id)
        await uow.commit()
        service_id = service.id
    await h.send(felix, "/services")
    await h.press_data(felix, f"svc:manage:{service_id}")
    assert "⏸ Pause" in h.last(felix).labels()
    shown = "".join(m.text for m in h.chat(felix)[-2:])
    assert (
        f"Service #{service_id}" in shown
        and "T&lt;b&gt;" in h.chat(felix)[-2].html + h.last(felix).html
    )


BACK = {"en": "‹ Back", "ru": "‹ Назад"}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_back_goes_one_screen_back_and_keeps_what_was_typed(h, lang):
    """The wizard's ‹ Back: the previous section in a new service (never from the
    first), the previous question inside a package or an extra (an answer taken
    back, the others kept), the list before a package's first question, the
    preview from its sections; what was typed is asked again, not lost."""
    w, back = WORDS[lang], BACK[lang]
    t = translator(lang)
    felix = await seller(h, lang=lang)
    await start_wizard(h, felix, lang)
    assert back not in h.last(felix).labels()  # the title: nothing before it
    await h.send(felix, "A minimalist logo for your brand")
    assert back in h.last(felix).labels()  # the description
    await h.press(felix, back)
    assert h.last(felix).html == t("svc.ask_title", min=TITLE_MIN, max=TITLE_MAX)
    await h.send(felix, "A bolder logo for your brand")  # the title again, changed
    await h.send(felix, "I draw clean, memorable logos for small brands, with vector files.")
    await h.press(felix, back)  # the category → the description
    assert h.last(felix).html.startswith(
        t("svc.ask_description", min=DESCRIPTION_MIN, max=DESCRIPTION_MAX)
    )
    await h.send(felix, "I draw bold logos for small brands, with vector files and a PNG.")
    await h.press(felix, category_label(h, felix))
    await h.send(felix, "logo design, branding")
    await h.press(felix, w["done"])  # the first package's name is asked
    await h.press(felix, back)  # no package yet: back to the skills
    assert w["done"] in h.last(felix).labels()
    await h.press(felix, w["done"])
    await h.send(felix, "Basic")
    await h.send(felix, "Basic: two concepts, vector files and a PNG")
    await h.send(felix, "50")  # the price; the delivery days are asked
    await h.press(felix, back)  # the price again (the name and contents kept)
    assert h.last(felix).html.endswith(t("svc.ask_pkg_price", currency="USD"))
    await h.send(felix, "60")
    await h.send(felix, "3")
    await h.press(felix, "1")  # revisions: the package is in the list
    assert "$60.00" in h.last(felix).text
    await h.press(felix, w["add_package"])
    await h.press(felix, back)  # before the second package's first question: the list
    assert w["add_package"] in h.last(felix).labels() and "$60.00" in h.last(felix).text
    await h.press(felix, w["continue"])  # the extras
    await h.press(felix, w["add_extra"])
    await h.send(felix, "Source files")
    await h.press(felix, back)  # the extra's title again
    await h.send(felix, "Source files (AI, SVG)")
    await h.send(felix, "20")
    await h.press(felix, w["faster"])
    await h.press(felix, back)  # the extras' list → the packages
    assert "$60.00" in h.last(felix).text and w["add_package"] in h.last(felix).labels()
    await h.press(felix, w["continue"])
    assert "Source files (AI, SVG)" in h.last(felix).text  # the extra was kept
    for _ in range(3):  # extras → samples → questions → the preview
        await h.press(felix, w["continue"] if "Source" in h.last(felix).text else w["skip"])
    await h.press(felix, back)  # the preview → the questions
    await h.press(felix, w["skip"])
    await h.press(felix, w["edit"])  # the sections to change
    await h.press(felix, back)  # → the preview, unchanged
    assert w["publish"] in h.last(felix).labels()
    await h.press(felix, w["edit"])
    await h.press(felix, w["title_section"])
    await h.press(felix, back)  # changing one section: back to the preview
    await h.press(felix, w["publish"])
    card = h.last(felix).text
    assert w["published"] in card and "A bolder logo for your brand" in card
    assert "$60.00" in card and "Source files (AI, SVG)" in card


async def test_back_from_an_old_screen_is_stale(h):
    felix = await seller(h)
    await start_wizard(h, felix, "en")
    await h.send(felix, "A minimalist logo for your brand")
    old = h.last(felix)
    await h.send(felix, "I draw clean, memorable logos for small brands, with vector files.")
    # The description's screen, replaced by the category's (its buttons taken away):
    await h.press_data(felix, "svc:back", old.message_id)
    answer = h.last_answer(felix)
    assert answer is not None and answer.text == translator("en").plain("error.stale_button")
