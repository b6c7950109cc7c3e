"""A withdrawal and a per-release Transfer of the same balance never both pay
(PostgreSQL: SQLite's BEGIN IMMEDIATE already runs one writer at a time)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from bot.payments.confirm import PaymentNews
from bot.payments.stripe_gateway import session_of
from domain.usecases.milestones import release, submit_work
from domain.usecases.payouts import request_payout
from handlers.gateway_calls import GatewayCallRunner
from handlers.system import SystemRunner
from tests.payments.market import CONFIG, ledger_state, make_deal, outbox_renderer
from tests.payments.stripe_helpers import payment_row, start
from tests.payments.stripe_servers import open_stripe_env


async def test_a_transfer_waits_for_a_withdrawal_of_the_same_balance(
    any_db, clock, localstripe
) -> None:
    if any_db.dialect == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no interleaving to test")
    env = await open_stripe_env(
        localstripe, PaymentNews(SystemRunner(any_db.uow, clock, CONFIG, render=outbox_renderer))
    )
    try:
        deal = await make_deal(any_db, clock)
        started = await start(env, any_db, clock, deal)
        assert await env.standin.deliver(await env.standin.pay_session(started.session_id)) == 200
        assert (await payment_row(any_db, started.payment_id))[0] == "succeeded"
        async with any_db.uow() as uow:
            await submit_work(uow, clock, CONFIG, deal.freelancer_id, deal.milestone_id, "Done.")
            await release(uow, clock, CONFIG, deal.client_id, deal.milestone_id)
            await env.connect.onboarding_link(uow, clock, deal.freelancer_id)
            await uow.commit()
        (account_id,) = env.standin.accounts
        env.standin.complete_onboarding(account_id)
        async with any_db.uow() as uow:  # onboarded, without the webhook's own transfer
            await env.connect.store_status(uow, clock, account_id, True)
            await uow.commit()
        wallet = f"freelancer:{deal.freelancer_id}"
        assert (await ledger_state(any_db))[wallet] == 9_000

        # The freelancer withdraws everything; before that commits, the transfer
        # of the released milestone runs. It must wait for the withdrawal.
        async with any_db.uow() as withdrawal:
            await request_payout(withdrawal, clock, CONFIG, env.gateway, deal.freelancer_id)
            async with any_db.uow() as transfer:
                await session_of(transfer).execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
                with pytest.raises(DBAPIError, match="lock timeout"):
                    await env.connect.transfer_milestone(transfer, clock, deal.milestone_id)
            # It waited; and nothing goes to Stripe before a commit.
            assert len(env.standin.transfers) == 0
            await withdrawal.commit()
        async with any_db.uow() as transfer:
            assert await env.connect.transfer_milestone(transfer, clock, deal.milestone_id) is None
            await transfer.commit()
        calls = GatewayCallRunner(any_db.uow, clock, CONFIG, env.gateway)
        assert await calls.make_due(idle_seconds=0) == 1  # the withdrawal's transfer
        assert (await ledger_state(any_db))[wallet] == 0
        assert len(env.standin.transfers) == 1
    finally:
        await env.close()
