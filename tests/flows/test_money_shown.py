"""Money shown the same everywhere (issue 11, items 8–11): one escrow figure, a
client's own /balance, withdrawals that say where the money goes and when it
arrived, and amounts worded for the reader."""

from __future__ import annotations

import pytest

from handlers.callbacks import encode
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_disputes import open_by
from tests.flows.test_offers import deal, fund, money_harness

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
