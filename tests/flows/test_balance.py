"""Balance, earnings history and withdrawals (FLOWS 11), from the ledger."""

from __future__ import annotations

import pytest

from bot.payments.sandbox import SandboxGateway
from domain import ledger
from domain.config import MarketConfig
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import all_of, deal, fund, label, money_harness
from tests.flows.test_work import submit


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def earn(h: Harness, amounts=("100",), **kw) -> tuple[Person, Person]:  # type: ignore[no-untyped-def]
    """A released milestone per amount: the freelancer earns amount less 10 %."""
    carla, fred, _, mids = await deal(h, amounts=amounts, **kw)
    for mid in mids:
        await fund(h, carla, mid)
        await submit(h, fred, mid, "done")
        await h.press_data(carla, encode("wk", "rel", mid))
    return carla, fred


async def wallet(h: Harness, user: Person) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.freelancer_account(user.id))


async def test_balance_history_and_withdraw_everything(h):
    carla, fred = await earn(h, amounts=("100", "50"))
    await h.send(fred, "/balance")
    card = h.last(fred).text
    assert "Available to withdraw: $135.00" in card
    assert "Earned in total: $135.00" in card and "Withdrawn: $0.00" in card
    await h.press(fred, label("balance.btn.history"))
    history = h.last(fred).text
    assert "+$90.00 · released: Part 1" in history and "+$45.00 · released: Part 2" in history

    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    assert "withdraw up to $135.00" in h.last(fred).text
    await h.press(fred, label("balance.btn.withdraw_all", amount="$135.00"))
    # The step says where it goes; the gateway's confirmation follows as its own message.
    on_its_way, paid = h.texts(fred)[-2:]
    assert "Withdrawal #1 of $135.00 to your sandbox account is on its way" in on_its_way
    assert "Paid out $135.00 to your sandbox account (withdrawal #1)" in paid
    assert await wallet(h, fred) == 0
    [payout] = await all_of(h, "payouts")
    assert payout.status == "paid" and payout.amount == 13_500
    await h.send(fred, "/balance")
    assert "Withdrawn: $135.00" in h.last(fred).text
    assert label("balance.btn.withdraw") not in h.last(fred).labels()
    await h.press(fred, label("balance.btn.history"))
    assert "−$135.00 · withdrawal #1" in h.last(fred).text

    # The client sees what they paid and hold in escrow, and cannot withdraw anything.
    await h.send(carla, "/balance")
    assert "Paid into escrow in total: $157.50" in h.last(carla).text
    assert "🔒 In escrow: $0.00" in h.last(carla).text
    await h.press_data(carla, encode("bal", "ok", 100))
    assert "more than your balance" in h.last_answer(carla).text  # type: ignore[union-attr]


async def test_withdraw_another_amount_with_bad_input_refused(h):
    _, fred = await earn(h)
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    await h.press(fred, label("balance.btn.other_amount"))
    for bad, says in [
        ("lots", "not an amount"),
        ("-10", "positive"),
        ("0", "more than zero"),
        ("90.001", "decimal places"),
        ("91", "more than your balance"),
        ("<b>5</b>", "not an amount"),
    ]:
        await h.send(fred, bad)
        assert says in h.last(fred).text, (bad, h.last(fred).text)
    await h.send(fred, "25.50")
    assert "Withdraw $25.50 to your sandbox account?" in h.last(fred).text
    msg = h.last(fred)
    data = msg.button(label("balance.btn.confirm", amount="$25.50"))["data"]  # type: ignore[index]
    await h.press_data(fred, data, msg.message_id, update_id=90_001)
    assert (await h.press_data(fred, data, msg.message_id, update_id=90_001)).duplicate
    assert await wallet(h, fred) == 9_000 - 2_550
    await h.press_data(fred, data, msg.message_id)  # a second real tap is a second payout …
    await h.press_data(fred, encode("bal", "ok", 10**9))  # … but never more than the balance
    assert "more than your balance" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert await wallet(h, fred) == 9_000 - 2 * 2_550
    assert len(await all_of(h, "payouts")) == 2


async def test_nothing_to_withdraw_and_forged_buttons(h):
    fred = h.person("Fred")
    await h.send(fred, "/start")
    await h.send(fred, "/balance")
    assert "Available to withdraw: $0.00" in h.last(fred).text
    assert h.last(fred).buttons is None
    await h.press_data(fred, encode("bal", "wd"))
    assert "nothing to withdraw" in h.last_answer(fred).text.lower()  # type: ignore[union-attr]
    await h.press_data(fred, encode("bal", "ok", 0))
    for forged in ("bal:ok", "bal:hist", "bal:hist::x", "bal:zz"):
        await h.press_data(fred, forged)
        assert "no longer available" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert await all_of(h, "payouts") == []


class OnboardingGateway(SandboxGateway):
    """A gateway whose payouts need an account set up first (as Stripe Connect does)."""

    onboarded = False

    async def payout_setup_link(self, uow, clock, user_id: int) -> str | None:  # type: ignore[no-untyped-def]
        return None if self.onboarded else f"https://connect.example/onboard/{user_id}"


async def test_payout_setup_link_until_onboarded(db, clock):
    gateway = OnboardingGateway("http://127.0.0.1:8080", "secret")
    h = Harness(db, clock, MarketConfig(), gateway)
    _, fred = await earn(h)
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    setup = h.last(fred).button(label("balance.btn.setup"))
    assert setup == {
        "text": label("balance.btn.setup"),
        "url": f"https://connect.example/onboard/{fred.id}",
    }
    await h.press_data(fred, encode("bal", "ok", 9_000))  # a forged confirmation
    assert "Set up payouts first" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert await wallet(h, fred) == 9_000
    gateway.onboarded = True
    await h.press(fred, label("balance.btn.back"))
    await h.press(fred, label("balance.btn.withdraw"))
    await h.press(fred, label("balance.btn.withdraw_all", amount="$90.00"))
    assert await wallet(h, fred) == 0


async def test_balance_in_russian(h):
    _, fred = await earn(h, freelancer_lang="ru")
    await h.send(fred, "/balance")
    assert "Доступно к выводу: $90.00" in h.last(fred).text
    assert label("balance.btn.withdraw", "ru") in h.last(fred).labels()
