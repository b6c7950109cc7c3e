"""Money shown the same everywhere (issue 11, items 8–11): one escrow figure, a
client's own /balance, withdrawals that say where the money goes and when it
arrived, and amounts worded for the reader."""

from __future__ import annotations

import pytest

from domain.config import MarketConfig
from handlers.callbacks import encode
from handlers.gateway_calls import IDLE_SECONDS
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_balance import earn
from tests.flows.test_disputes import open_by
from tests.flows.test_funding import RefusingSandbox
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    deal,
    enter_milestone,
    fund,
    join_as,
    label,
    money_harness,
    open_job,
    people,
)
from tests.flows.test_work import submit

ESCROW = {
    "en": "🔒 In escrow: $100.00 + $5.00 client fee",
    "ru": "🔒 В эскроу: $100.00 + комиссия заказчика $5.00",
}


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


# --- item 8: one escrow figure ------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_one_escrow_figure_in_the_funded_message_the_card_and_the_admin_view(h, lang):
    carla, fred, cid, [mid] = await deal(h, client_lang=lang, freelancer_lang=lang)
    await fund(h, carla, mid)
    funded = h.last(carla).text
    assert ESCROW[lang] in funded
    # Not the old figures: the total paid as "in escrow", or the fee folded into it.
    assert "$105.00" not in funded

    await h.press_data(carla, encode("ct", "view", cid))
    card = h.last(carla).text
    assert ESCROW[lang] in card and "$105.00" not in card
    await h.press_data(fred, encode("ct", "view", cid))
    assert ESCROW[lang] in h.last(fred).text

    did = await open_by(h, carla, mid, reason="Nothing was delivered at all, not one file.")
    ada = h.person("Ada Admin", lang=lang, id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, f"/dispute {did}")
    assert ESCROW[lang] in h.last(ada).text


# --- item 10: where a withdrawal goes, and "Paid out" when the gateway confirms ------------

PAID = {
    "en": ("to your sandbox account", "✅ Paid out $90.00 to your sandbox account"),
    "ru": ("на ваш счёт в песочнице", "✅ Выплачено $90.00 на ваш счёт в песочнице"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_sandbox_withdrawal_says_where_and_paid_out_only_once_the_gateway_confirms(
    db, clock, lang
):
    gateway = RefusingSandbox("http://127.0.0.1:8080", "test-secret")
    gateway.refusing = False
    h = Harness(db, clock, MarketConfig(admin_ids=frozenset({ADMIN_ID})), gateway)
    _, fred = await earn(h, freelancer_lang=lang)
    where, paid = PAID[lang]
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw", lang))
    assert where in h.last(fred).text  # before confirming: where the money goes

    gateway.refusing = True  # the gateway does not answer yet: nothing is confirmed
    await h.press(fred, label("balance.btn.withdraw_all", lang, amount="$90.00"))
    assert "1" in h.last(fred).text and where in h.last(fred).text
    assert not any(paid in text for text in h.texts(fred))
    [payout] = await all_of(h, "payouts")
    assert payout.status == "pending"

    gateway.refusing = False  # the next tick makes the call again; the gateway confirms
    clock.advance(seconds=IDLE_SECONDS + 1)
    await h.tick()
    assert paid in h.last(fred).text
    [payout] = await all_of(h, "payouts")
    assert payout.status == "paid"
    assert sum(paid in text for text in h.texts(fred)) == 1
    await h.tick()  # nothing due: not told twice
    assert sum(paid in text for text in h.texts(fred)) == 1


# --- item 9: a client's /balance is a client's ----------------------------------------------

CLIENT_CARD = {
    "en": (
        "Paid into escrow in total: $157.50",
        "Refunds received: $52.50",
        "Available to withdraw",
        "Earned in total",
    ),
    "ru": (
        "Оплачено в эскроу всего: $157.50",
        "Получено возвратов: $52.50",
        "Доступно к выводу",
        "Заработано всего",
    ),
}


async def refund_by_freelancer(h: Harness, fred, mid: int) -> None:  # type: ignore[no-untyped-def]
    await h.press_data(fred, encode("wk", "refund", mid))
    await h.press_data(fred, encode("wk", "confirm_refund", mid), h.last(fred).message_id)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_clients_balance_shows_paid_escrow_refunds_and_payments(h, lang):
    carla, fred, _cid, [m1, m2] = await deal(h, amounts=("100", "50"), client_lang=lang)
    paid, refunded, not_theirs, earned = CLIENT_CARD[lang]
    await fund(h, carla, m1)
    await fund(h, carla, m2)
    await h.send(carla, "/balance")
    card = h.last(carla).text
    assert paid in card and ESCROW[lang].replace("100.00", "150.00").replace("5.00", "7.50") in card
    assert not_theirs not in card and earned not in card
    assert label("balance.btn.withdraw", lang) not in h.last(carla).labels()

    await submit(h, fred, m1, "done")
    await h.press_data(carla, encode("wk", "rel", m1))
    await refund_by_freelancer(h, fred, m2)
    await h.send(carla, "/balance")
    card = h.last(carla).text
    assert paid in card and refunded in card
    assert ("🔒 In escrow: $0.00" if lang == "en" else "🔒 В эскроу: $0.00") in card

    await h.press(carla, label("balance.btn.payments", lang))
    history = h.last(carla).text.splitlines()
    assert (
        label("balance.payments.title", lang).replace("<b>", "").replace("</b>", "") in history[0]
    )
    entries = [line.split(" · ", 1)[1] for line in history[2:]]
    assert entries == [  # newest first
        "+$52.50 · " + label("balance.payments.refund", lang, title="Part 2"),
        "−$52.50 · " + label("balance.payments.paid", lang, title="Part 2"),
        "−$105.00 · " + label("balance.payments.paid", lang, title="Part 1"),
    ]


async def test_payments_history_pages_and_someone_both_sees_both_parts(h):
    amounts = tuple(str(10 * k) for k in range(1, 6))
    carla, fred, _cid, mids = await deal(h, amounts=amounts)
    for mid in mids:
        await fund(h, carla, mid)
        await refund_by_freelancer(h, fred, mid)
    await h.send(carla, "/balance")
    await h.press(carla, label("balance.btn.payments"))
    first = h.last(carla)
    assert first.text.count(" · ") == 2 * 8 and "1/2" in " ".join(first.labels())
    await h.press(carla, label("btn.next"))
    assert h.last(carla).text.count(" · ") == 2 * 2  # 10 entries: 8 + 2
    await h.press_data(carla, "bal:payments::x")
    assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]

    # Fred also hires: his /balance has a freelancer part and a client part.
    await h.press_data(fred, encode("role", "pick", arg="both"))
    await h.send(fred, "/balance")
    card = h.last(fred).text
    assert "As a freelancer" in card and "Available to withdraw: $0.00" in card
    assert "As a client" in card and "Paid into escrow in total: $0.00" in card
    # A freelancer only (Carla's other half) has no client part.
    dora = h.person("Dora")
    await h.send(dora, "/start")
    await h.press(dora, label("role.pick_freelancer"))
    await h.send(dora, "/balance")
    assert "Paid into escrow" not in h.last(dora).text
    assert "Available to withdraw: $0.00" in h.last(dora).text


# --- item 11: worded for the reader; examples fit the field; limits name the number --------

WORDING = {
    "en": {
        "you_pay": "You pay $105.00",
        "client_pays": "The client pays",
        "you_receive": "You receive $90.00",
        "rate": "e.g. 40.",
        "budget": "e.g. 1500.",
        "limit": "above the limit of $10,000,000.00",
        "balance": "more than your balance of $90.00",
        "files": "Files: ",
        "status": "Status:",
    },
    "ru": {
        "you_pay": "Вы платите $105.00",
        "client_pays": "Заказчик платит",
        "you_receive": "Вы получаете $90.00",
        "rate": "например 40.",
        "budget": "например 1500.",
        "limit": "предел $10,000,000.00",
        "balance": "больше вашего баланса: $90.00",
        "files": "Файлов: ",
        "status": "Статус:",
    },
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_fees_are_worded_for_the_reader(h, lang):
    words = WORDING[lang]
    carla, fred = await people(h, lang, lang)
    pitch_id = await add_pitch(h, await open_job(h, carla), fred)
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await enter_milestone(h, carla, "Design", "100")
    review = h.last(carla).text  # the client's own offer, before sending it
    assert words["you_pay"] in review and words["client_pays"] not in review
    await h.press(carla, label("offers.btn.send_new", lang))
    offer = next(t for t in h.texts(fred) if "$90.00" in t)  # the offer as Fred got it
    assert words["you_receive"] in offer and words["you_pay"] not in offer


async def job_wizard_to_budget(h: Harness, who, lang: str, hourly: bool) -> None:  # type: ignore[no-untyped-def]
    """The job wizard up to the budget step (hourly: the rate)."""
    await h.send(who, "/post")
    restart = h.last(who).button(label("drafts.btn.restart", lang))
    if restart is not None:  # the draft left by the previous walk (kept on leaving)
        await h.press(who, label("drafts.btn.restart", lang))
    await h.send(who, "Telegram bot for a bakery")
    await h.send(who, "A bot that takes orders for pastries, with reminders.")
    await h.press(who, "Development" if lang == "en" else "Разработка")
    await h.send(who, "Python")
    await h.press(who, label("post.btn.skills_done", lang))
    await h.press(who, label("post.btn.hourly" if hourly else "post.btn.fixed", lang))


async def a_client(h: Harness, lang: str):  # type: ignore[no-untyped-def]
    carla = h.person("Carla", lang=lang)
    await join_as(h, carla, "client")
    return carla


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_amount_examples_fit_the_field(h, lang):
    words = WORDING[lang]
    carla = await a_client(h, lang)
    # A rate asks with a rate's example, and says it again after a bad answer.
    await job_wizard_to_budget(h, carla, lang, hourly=True)
    assert words["rate"] in h.last(carla).text
    await h.send(carla, "lots")
    assert words["rate"] in h.last(carla).text and "1,250.50" not in h.last(carla).text
    # A budget gives a budget's example.
    await job_wizard_to_budget(h, carla, lang, hourly=False)
    assert words["budget"] in h.last(carla).text
    await h.send(carla, "lots")
    assert words["budget"] in h.last(carla).text and "1,250.50" not in h.last(carla).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_amount_limit_is_named(h, lang):
    carla = await a_client(h, lang)
    await job_wizard_to_budget(h, carla, lang, hourly=False)
    await h.send(carla, "99999999999")
    assert WORDING[lang]["limit"] in h.last(carla).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_unpublished_job_does_not_say_open(h, lang):
    carla = await a_client(h, lang)
    await job_wizard_to_budget(h, carla, lang, hourly=False)
    await h.send(carla, "1500")
    await h.press(carla, label("post.btn.no_deadline", lang))
    preview = h.last(carla).text
    assert "$1,500.00" in preview and WORDING[lang]["status"] not in preview
    assert "Telegram bot for a bakery" in preview and "pastries" in preview  # the whole card


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_more_than_the_balance_names_the_balance(h, lang):
    _, fred = await earn(h, freelancer_lang=lang)
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw", lang))
    await h.press(fred, label("balance.btn.other_amount", lang))
    await h.send(fred, "91")
    assert WORDING[lang]["balance"] in h.last(fred).text
    await h.press_data(fred, encode("bal", "ok", 10**9))
    assert WORDING[lang]["balance"] in h.last_answer(fred).text  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_no_files_line_without_files(h, lang):
    words = WORDING[lang]
    carla, fred, _cid, [mid] = await deal(h, client_lang=lang, freelancer_lang=lang)
    await fund(h, carla, mid)
    await submit(h, fred, mid, "done")
    submitted = next(t for t in reversed(h.texts(carla)) if "📦" in t)
    assert words["files"] not in submitted  # not "Files: 0."


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_minimum_budget_is_refused_with_its_own_example(h, lang):
    fred = h.person("Fred", lang=lang)
    await join_as(h, fred, "freelancer")
    await h.send(fred, "/jobs")
    await h.press_data(fred, "br:min_budget")
    asked = h.last(fred).text
    await h.send(fred, "lots")
    example = "e.g. 200." if lang == "en" else "например 200."
    assert example in asked and example in h.last(fred).text
    assert "1,250.50" not in h.last(fred).text
