"""Fund a milestone into escrow (FLOWS 15): fees shown first, a URL button to the
gateway's page, confirmation in chat for both parties from the one confirm path."""

from __future__ import annotations

import pytest

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import SandboxGateway
from domain import ledger
from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.states import MilestoneStatus
from domain.usecases.payments import late_refund_id, late_refund_key
from handlers.callbacks import encode
from handlers.system import SystemRunner
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_offers import (
    all_of,
    confirm_paid,
    deal,
    join_as,
    label,
    milestones,
    money_harness,
    news,
    start_payment,
)


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def escrow(h: Harness, milestone_id: int) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.escrow_account(milestone_id))


async def test_quote_first_then_pay_link_then_both_parties_told(h):
    gateway = h.engine.gateway
    carla, fred, cid, [mid] = await deal(h, amounts=("100",))
    await h.press(carla, label("offers.btn.fund_first", n=1))
    quote = h.last(carla)
    assert "Milestone: $100.00" in quote.text
    assert "Client fee (5%): $5.00" in quote.text
    assert "Total to pay: $105.00" in quote.text
    assert await all_of(h, "payments") == []  # nothing started before Pay
    await h.press(carla, label("funding.btn.pay", total="$105.00"))
    [payment] = await all_of(h, "payments")
    assert payment.amount == 10_500 and payment.status == "pending"
    link = h.last(carla).button(label("funding.btn.open_checkout"))
    assert link is not None and link["url"] == gateway.page_url(payment.id)
    assert (await milestones(h, cid))[0].status is MilestoneStatus.FUNDING

    assert await confirm_paid(h, mid)
    assert (await milestones(h, cid))[0].status is MilestoneStatus.FUNDED
    assert await escrow(h, mid) == 10_500
    assert "is funded." in h.last(carla).text
    assert "🔒 In escrow: $100.00 + $5.00 client fee" in h.last(carla).text
    told = h.last(fred)
    assert "funded “Part 1” ($100.00)" in told.text
    assert label("funding.btn.submit") in told.labels()

    # A replayed confirmation changes nothing and tells nobody again.
    before = (len(h.chat(carla)), len(h.chat(fred)))
    assert not await news(h).succeeded("sandbox", payment.external_id)
    await h.deliver()
    assert (len(h.chat(carla)), len(h.chat(fred))) == before
    assert await escrow(h, mid) == 10_500


async def test_a_double_tap_on_pay_returns_the_same_payment_and_link(h):
    carla, _, _, [mid] = await deal(h)
    first = await start_payment(h, carla, mid)
    second = await start_payment(h, carla, mid)
    assert first == second
    assert len(await all_of(h, "payments")) == 1


async def test_only_the_client_of_the_contract_can_fund(h):
    carla, fred, _, [mid] = await deal(h)
    mallory = h.person("Mallory")
    await join_as(h, mallory, "client")
    await h.press_data(fred, encode("fd", "quote", mid))
    assert "client" in h.last_answer(fred).text.lower()  # type: ignore[union-attr]
    await h.press_data(fred, encode("fd", "checkout", mid))
    await h.press_data(mallory, encode("fd", "checkout", mid))
    assert "not yours" in h.last_answer(mallory).text  # type: ignore[union-attr]
    await h.press_data(carla, encode("fd", "checkout", 424_242))  # no such milestone
    assert h.last_answer(carla).show_alert  # type: ignore[union-attr]
    await h.press_data(carla, encode("fd", "zz", mid))
    assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]
    assert await all_of(h, "payments") == []


async def test_a_funded_milestone_cannot_be_paid_again(h):
    carla, _, _, [mid] = await deal(h)
    await start_payment(h, carla, mid)
    assert await confirm_paid(h, mid)
    await h.press_data(carla, encode("fd", "checkout", mid))
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]
    assert len(await all_of(h, "payments")) == 1
    assert await escrow(h, mid) == 10_500


async def test_a_failed_payment_can_be_retried(h):
    carla, _, cid, [mid] = await deal(h)
    await start_payment(h, carla, mid)
    [payment] = await all_of(h, "payments")
    assert await news(h).failed("sandbox", payment.external_id, "card_declined")
    await h.deliver()
    told = h.last(carla).text
    assert "did not go through (Your card was declined. Nothing was charged;" in told
    assert "card_declined" not in told  # the words, not the code
    assert (await milestones(h, cid))[0].status is MilestoneStatus.PENDING
    await h.press(carla, label("funding.btn.retry"))
    assert "Total to pay: $105.00" in h.last(carla).text
    await h.press(carla, label("funding.btn.pay", total="$105.00"))
    assert len(await all_of(h, "payments")) == 2
    assert await confirm_paid(h, mid)
    assert await escrow(h, mid) == 10_500


@pytest.mark.parametrize(
    ("code", "lang", "words"),
    [
        ("checkout_expired", "en", "(The checkout page expired before anything was paid."),
        ("payment_failed", "en", "(The payment did not go through. Nothing was charged)."),
        ("card_declined", "ru", "(Карта отклонена. Деньги не списаны;"),
        ("checkout_expired", "ru", "(Страница оплаты истекла до оплаты. Деньги не списаны)."),
        # A code the catalogs do not know, and none at all: the general words.
        ("gateway_said_no_42", "en", "(The payment did not go through. Nothing was charged)."),
        ("", "ru", "(Платёж не прошёл. Деньги не списаны)."),
    ],
)
async def test_a_failed_payment_is_told_in_words(h, code, lang, words):
    carla, _, _, [mid] = await deal(h, client_lang=lang)
    await start_payment(h, carla, mid)
    [payment] = await all_of(h, "payments")
    assert await news(h).failed("sandbox", payment.external_id, code)
    await h.deliver()
    told = h.last(carla).text
    assert words in told
    assert not code or code not in told
    assert "—" not in told


async def test_quote_in_russian(h):
    carla, _, _, [mid] = await deal(h, amounts=("1,250.50",), client_lang="ru")
    await h.press_data(carla, encode("fd", "quote", mid))
    text = h.last(carla).text
    assert "Комиссия заказчика (5%): $62.53" in text
    assert "Итого к оплате: $1,313.03" in text


async def test_without_a_gateway_payments_are_unavailable(db, clock):
    bare = Harness(db, clock)
    carla, _, _, [mid] = await deal(bare)
    await bare.press_data(carla, encode("fd", "checkout", mid))
    assert "not available" in bare.last_answer(carla).text  # type: ignore[union-attr]
    assert await all_of(bare, "payments") == []


# --- a payment that arrives too late (FLOWS 15: never in escrow, refunded) -----------


class RefusingSandbox(SandboxGateway):
    """The sandbox gateway whose refunds fail until `refusing` is cleared."""

    refusing = True

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        if self.refusing:
            raise PaymentError("gateway_busy", "The payment service is busy.")
        return await super().execute(call, payment)


async def late_payment(h: Harness, client_lang: str = "en"):  # type: ignore[no-untyped-def]
    """Carla's first checkout "expires", the second funds the milestone; returns
    (carla, milestone id, the first payment), whose success is then reported."""
    carla, _, _, [mid] = await deal(h, client_lang=client_lang)
    await start_payment(h, carla, mid)
    [first] = await all_of(h, "payments")
    assert await news(h).failed("sandbox", first.external_id, "checkout_expired", status="expired")
    await start_payment(h, carla, mid)
    assert await confirm_paid(h, mid)
    return carla, mid, first


@pytest.mark.parametrize(
    ("lang", "payer_words", "admin_words"),
    [
        ("en", "$105.00 for “Part 1” arrived after", "was refunded in full (refund sbx_re_"),
        ("ru", "$105.00 за «Part 1» пришёл, когда", "возвращён полностью (возврат sbx_re_"),
    ],
)
async def test_a_late_payment_is_refunded_and_both_payer_and_admins_are_told(
    h, lang, payer_words, admin_words
):
    admin = h.person("Ada", lang=lang, id=ADMIN_ID)
    await h.send(admin, "/start")
    carla, mid, first = await late_payment(h, client_lang=lang)
    assert await escrow(h, mid) == 10_500

    assert await news(h).succeeded("sandbox", first.external_id, charge_ref="sbx_ch_late")
    await h.deliver()
    assert payer_words in h.last(carla).text
    told = h.last(admin).text
    assert admin_words in told and f"{first.id} " in told and "Carla <Client>" in told
    [late] = await all_of(h, "payments", id=first.id)
    assert late.status == "refunded"
    # The sandbox's own books hold one refund of it, under its key.
    [moved] = [m for m in await h.engine.gateway.books.movements() if m.kind == "late_refund"]
    assert (moved.key, moved.amount) == (late_refund_key(late.id), late.amount)
    assert late_refund_id(late) == moved.external_id
    assert await escrow(h, mid) == 10_500  # the late money never entered it
    # Told once: a replay of the confirmation changes nothing.
    before = (len(h.chat(carla)), len(h.chat(admin)))
    assert not await news(h).succeeded("sandbox", first.external_id)
    await h.deliver()
    assert (len(h.chat(carla)), len(h.chat(admin))) == before


@pytest.mark.parametrize(
    ("lang", "refused", "retried"),
    [
        ("en", "the gateway refused the refund (The payment service is busy", "refunded in full"),
        ("ru", "платёжная система отказала в возврате (Платёжный сервис", "возвращён полностью"),
    ],
)
async def test_a_refused_refund_stays_due_the_admins_are_told_and_a_retry_refunds(
    h, lang, refused, retried
):
    admin = h.person("Ada", lang=lang, id=ADMIN_ID)
    await h.send(admin, "/start")
    carla, mid, first = await late_payment(h)
    refusing = RefusingSandbox("http://127.0.0.1:8080", "test-secret")
    late_news = PaymentNews(SystemRunner(h.db.uow, h.clock, h.config, gateway=refusing))

    assert await late_news.succeeded("sandbox", first.external_id)
    await h.deliver()
    assert "It will be refunded" in h.last(carla).text
    told = h.last(admin).text
    assert refused in told and "gateway_busy" in told
    [due] = await all_of(h, "payments", id=first.id)
    assert (due.status, due.failure_reason) == ("succeeded", "not_needed_refund_due")

    h.clock.advance(minutes=1)  # the reconciliation's next pass
    assert await late_news.runner.calls.make_due() == 0  # still refused: nothing, nobody told
    await h.deliver()
    assert h.last(admin).text == told
    refusing.refusing = False
    h.clock.advance(minutes=1)
    assert await late_news.runner.calls.make_due() == 1
    assert await late_news.runner.calls.make_due() == 0  # once
    await h.deliver()
    assert "was refunded in full" in h.last(carla).text
    assert retried in h.last(admin).text
    [refunded] = await all_of(h, "payments", id=first.id)
    assert refunded.status == "refunded" and late_refund_id(refunded)
    assert await escrow(h, mid) == 10_500
