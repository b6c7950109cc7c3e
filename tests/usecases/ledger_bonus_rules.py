"""Rules of the stateful ledger test (test_ledger_stateful.py) for issue 13's
money: bonuses (paid like a funding, released at once by the confirmed payment)
and partial releases (offered by the client, accepted into a split settlement
whose rest is refunded, or declined into a dispute). A mixin, so the machine's
own rules and invariants stay where they are; the model is the machine's
(earned, platform, escrow) and is moved here by domain.fees alone."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import event
from hypothesis.stateful import invariant, rule

from domain import ledger
from domain.fees import fee
from domain.usecases import bonus, milestones, payments
from handlers.gateway_calls import GatewayCallRunner
from tests.usecases.conftest import CLIENT

BONUS_AMOUNTS = st.sampled_from([1, 99, 2_500, 33_333])
OUTCOMES = st.sampled_from(["paid", "paid", "failed", "pending"])


class BonusPartialRules:
    """Mixed into LedgerMachine; uses its plumbing (attempt, run, settled, who …)."""

    def bonus_ids(self) -> list[tuple[int, int, int]]:
        """(bonus milestone id, amount, freelancer) of every bonus started."""
        if not hasattr(self, "_bonuses"):
            self._bonuses: list[tuple[int, int, int]] = []
        return self._bonuses

    @rule(
        i=st.integers(0, 3),
        role=st.sampled_from(["client", "client", "freelancer", "stranger"]),
        amount=BONUS_AMOUNTS,
        outcome=OUTCOMES,
    )
    def give_bonus(self, i, role, amount, outcome):
        """A bonus on the contract of milestone i: the client fee on top, the
        freelancer's share less their fee straight to their balance once paid."""
        m, _, freelancer_id = self.ms[i]
        actor = self.who(i, role)

        async def start(uow):
            milestone = await uow.milestones.get(m)
            payment = await bonus.start_bonus(
                uow, self.clock, self.config, self.gateway, actor, milestone.contract_id, amount
            )
            return payment.id, payment.milestone_id

        started = self.attempt(start)
        if started is None:
            return
        assert actor == CLIENT, "a bonus from someone other than the client"
        payment_id, bonus_id = started
        self.bonus_ids().append((bonus_id, amount, freelancer_id))
        self.run(
            GatewayCallRunner(self.db.uow, self.clock, self.config, self.gateway).open_checkout(
                payment_id
            )
        )
        if outcome == "pending":
            return
        external_id = self.run(self.external_id(payment_id))
        if outcome == "failed":
            self.attempt(
                lambda uow: payments.payment_failed(uow, self.clock, "sandbox", external_id, "no")
            )
            return
        for attempt in range(2):  # the webhook, then its replay: paid once
            took = self.attempt(
                lambda uow: payments.confirm_payment(
                    uow, self.clock, self.config, "sandbox", external_id, f"ch_b{bonus_id}"
                )
            )
            if attempt == 0:
                assert took
                cbp, fbp = self.config.client_fee_bp, self.config.freelancer_fee_bp
                self.earned[freelancer_id] += amount - fee(amount, fbp)
                self.platform += fee(amount, fbp) + fee(amount, cbp)
                event("bonus paid")
            else:
                assert not took

    @rule(i=st.integers(0, 3), role=st.sampled_from(["client", "client", "freelancer"]),
          tenths=st.sampled_from([0, 1, 5, 9, 10]))  # fmt: skip
    def offer_partial(self, i, role, tenths):
        """The client offers part of submitted work (0 and all are refused)."""
        m, amount, _ = self.ms[i]
        actor = self.who(i, role)
        share = amount * tenths // 10
        if self.attempt(
            lambda uow: bonus.offer_partial(uow, self.clock, actor, m, share, "Only part")
        ):
            event("partial offered")

    @rule(i=st.integers(0, 3), tenths=st.sampled_from([1, 5, 9]),
          answer=st.sampled_from(["accept", "decline", "none"]))  # fmt: skip
    def partial_release_story(self, i, tenths, answer):
        """The common path in one step, so it happens often: the freelancer submits
        (refused unless funded), the client offers part, the freelancer answers."""
        m, _, freelancer_id = self.ms[i]
        self.attempt(
            lambda uow: milestones.submit_work(uow, self.clock, self.config, freelancer_id, m, "x")
        )
        self.offer_partial(i, "client", tenths)
        if answer == "accept":
            self.accept_partial(i, "freelancer")
        elif answer == "decline":
            self.decline_partial(i, "freelancer")

    @rule(i=st.integers(0, 3), role=st.sampled_from(["freelancer", "freelancer", "client"]))
    def accept_partial(self, i, role):
        m, _, _ = self.ms[i]
        actor = self.who(i, role)

        async def accept(uow):
            shown = (await uow.milestones.get(m)).partial_share or 0
            split = await bonus.accept_partial(uow, self.clock, self.gateway, actor, m, shown)
            return split, shown

        result = self.attempt(accept)
        if result is not None:
            event("partial accepted")
            self.settled(i, result[1], result[0])

    @rule(i=st.integers(0, 3), role=st.sampled_from(["freelancer", "client"]))
    def decline_partial(self, i, role):
        m, _, _ = self.ms[i]
        actor = self.who(i, role)

        async def decline(uow):
            shown = (await uow.milestones.get(m)).partial_share or 0
            return await bonus.decline_partial(
                uow, self.clock, self.config, actor, m, shown, "Everything was delivered"
            )

        if self.attempt(decline) is not None:
            event("partial declined into a dispute")

    @invariant()
    def bonuses_never_hold_money(self):
        """A bonus's escrow is empty: funded and released in one transaction, or neither."""

        async def check():
            async with self.db.uow() as uow:
                for bonus_id, amount, _ in self.bonus_ids():
                    funded = await uow.ledger.has(ledger.fund_key(bonus_id))
                    settled = await uow.ledger.has(ledger.settle_key(bonus_id))
                    assert funded == settled
                    assert await uow.ledger.balance(ledger.escrow_account(bonus_id)) == 0
                    if funded:  # what came in is the quote: the bonus and the client fee
                        [posting] = [
                            p
                            for p in await uow.ledger.postings_of(ledger.fund_key(bonus_id))
                            if p.amount > 0
                        ]
                        assert posting.amount == amount + fee(amount, self.config.client_fee_bp)
                    status = (await uow.milestones.get(bonus_id)).status
                    assert (str(status) == "released") == settled

        self.run(check())
