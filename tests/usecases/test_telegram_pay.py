"""Telegram's pre_checkout_query through the real Engine (issue 18, part 2): answered
ok only while the payment is pending and its milestone needs exactly the invoice's
amount; refused with the reason, in the payer's language, when the milestone's
amount changed in between, when the amount Telegram names is not the invoice's, or
for someone else's invoice. Nothing is written: the query is no update to claim."""

from __future__ import annotations

import stripe

from bot.payments.telegram_pay import TelegramPaymentsGateway
from handlers.engine import Engine
from handlers.events import Event, PaymentFacts
from handlers.flows.telegram_pay import invoice_payload
from tests.funding import open_checkout
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.story import hired


def gateway() -> TelegramPaymentsGateway:
    # start_checkout calls nothing: the invoice is the checkout.
    return TelegramPaymentsGateway(stripe.StripeClient("sk_test_unused"), success_url="x")


def pre_checkout(payment_id: int, amount: int, user_id: int = CLIENT, lang: str = "en") -> Event:
    return Event(
        kind="pre_checkout",
        user_id=user_id,
        chat_id=user_id,
        update_id=900 + amount % 97,
        language_code=lang,
        payment=PaymentFacts(
            payload=invoice_payload(payment_id),
            currency="USD",
            total_amount=amount,
            pre_checkout_query_id=f"q{amount}",
        ),
    )


async def test_pre_checkout_rechecks_the_milestone(users, clock, config) -> None:
    db = users
    tg = gateway()
    _, (mid,) = await hired(db, clock, config, (10_000,))
    payment = await open_checkout(db, clock, config, tg, CLIENT, mid)
    assert payment.external_id == f"tginv_{payment.id}" and payment.amount == 10_500
    engine = Engine(db.uow, clock, config, tg)

    ok = await engine.handle(pre_checkout(payment.id, 10_500))
    assert ok.pre_checkout_answer is not None and ok.pre_checkout_answer.ok

    wrong = await engine.handle(pre_checkout(payment.id, 10_000))
    assert wrong.pre_checkout_answer is not None and not wrong.pre_checkout_answer.ok
    stranger = await engine.handle(pre_checkout(payment.id, 10_500, user_id=FREELANCER))
    assert stranger.pre_checkout_answer is not None and not stranger.pre_checkout_answer.ok

    async with db.uow() as uow:  # the milestone's amount changes in between
        milestone = await uow.milestones.get(mid)
        assert milestone is not None
        milestone.amount = 12_000
        await uow.commit()
    changed = await engine.handle(pre_checkout(payment.id, 10_500))
    assert changed.pre_checkout_answer is not None
    assert not changed.pre_checkout_answer.ok
    assert changed.pre_checkout_answer.error_message == (
        "The milestone's amount changed since this invoice. Open the milestone and fund it again."
    )
    in_russian = await engine.handle(pre_checkout(payment.id, 10_500, lang="ru"))
    assert in_russian.pre_checkout_answer is not None
    assert in_russian.pre_checkout_answer.error_message == (
        "Сумма этапа изменилась после выставления счёта. Откройте этап и оплатите его заново."
    )
    async with db.uow() as uow:
        assert await uow.processed_updates.count() == 0  # answered, never claimed
