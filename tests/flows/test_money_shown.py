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
from tests.flows.test_offers import all_of, deal, fund, label, money_harness

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
    view = h.last(ada).text
    assert ESCROW[lang] in view and "$105.00" not in view


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
