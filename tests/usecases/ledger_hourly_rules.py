"""Rules of the stateful ledger test (test_ledger_stateful.py) for hourly
contracts (issue 13, part 1): each week's escrow funded through the checkout
(paid, failed or left pending), time logged, the week closed into its invoice
(capped at the weekly limit), and the invoice settled by approval, by paying
less, by the automatic deadline, or by approval and the deadline at once — the
unused escrow refunded through the gateway calls. A mixin, like
ledger_bonus_rules.py: the machine's model (earned, platform) is moved here by
domain.fees alone, and the weeks' escrows are checked by an invariant here.

A second contract has no limit: time logged with nothing pre-funded, each
closed week's uncapped invoice paid by checkout (or declined, or left pending)
and released whole; logging is refused only while an invoice is overdue."""

from __future__ import annotations

from datetime import timedelta

import hypothesis.strategies as st
from hypothesis import event
from hypothesis.stateful import invariant, rule

from domain import ledger
from domain.fees import funding_quote, settlement
from domain.states import HELD, MilestoneStatus
from domain.timesheet import INVOICE_KIND, NO_LIMIT, invoice_for, week_start_of
from domain.usecases import hourly, payments
from handlers.gateway_calls import GatewayCallRunner
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.hourly_story import LIMIT, RATE, hourly_hired

MINUTES = st.sampled_from([1, 45, 150, 360, 13 * 60])  # the last passes the limit in two
OUTCOMES = st.sampled_from(["paid", "paid", "failed", "pending"])
HOW = st.sampled_from(["approve", "less", "auto", "race"])
ESCROW = RATE * LIMIT


class HourlyRules:
    """Mixed into LedgerMachine; uses its plumbing (attempt, run, concurrently …)."""

    def hourly(self) -> dict:
        """The hourly contract (set up on first use) and the model of its weeks."""
        if not hasattr(self, "_hourly"):
            contract_id, _ = self.run(hourly_hired(self.db, self.clock, self.config))
            # week id → {"m": milestone, "escrow": model balance, "logged": minutes}
            self._hourly = {"contract": contract_id, "weeks": {}}
        return self._hourly

    async def _current(self, uow):
        week, _, _ = await hourly.current_week(
            uow, self.clock, self.config, self.hourly()["contract"]
        )
        return week.id, week.milestone_id

    def week(self) -> tuple[int, int] | None:
        state = self.hourly()
        found = self.attempt(self._current)
        if found is None:
            return None
        state["weeks"].setdefault(found[0], {"m": found[1], "escrow": 0, "logged": 0})
        return found

    @rule(outcome=OUTCOMES, role=st.sampled_from(["client", "client", "freelancer"]))
    def hourly_fund_week(self, outcome, role):
        """The client pre-funds this week's limit (+ the client fee) by checkout."""
        found = self.week()
        if found is None:
            return
        week_id, m = found
        actor = CLIENT if role == "client" else FREELANCER
        payment = self.attempt(
            lambda uow: payments.start_funding(uow, self.clock, self.config, self.gateway, actor, m)
        )
        if payment is None:
            return
        assert actor == CLIENT, "a week funded by someone other than the client"
        self.run(
            GatewayCallRunner(self.db.uow, self.clock, self.config, self.gateway).open_checkout(
                payment.id
            )
        )
        if outcome == "pending":
            return
        external_id = self.run(self.external_id(payment.id))
        if outcome == "failed":
            self.attempt(
                lambda uow: payments.payment_failed(uow, self.clock, "sandbox", external_id, "no")
            )
            return
        took = self.attempt(
            lambda uow: payments.confirm_payment(
                uow, self.clock, self.config, "sandbox", external_id, f"ch_w{payment.id}"
            )
        )
        if took:
            self.hourly()["weeks"][week_id]["escrow"] = funding_quote(
                ESCROW, self.config.client_fee_bp
            ).total
            event("hourly week funded")

    @rule(minutes=MINUTES)
    def hourly_log(self, minutes):
        """Logged only while the week's escrow is funded and the week open."""
        found = self.week()
        if found is None:
            return
        week_id, _ = found
        logged = self.attempt(
            lambda uow: hourly.log_time(
                uow, self.clock, self.config, FREELANCER, self.hourly()["contract"], minutes, "x"
            )
        )
        if logged is not None:
            assert self.hourly()["weeks"][week_id]["escrow"] > 0, "logged on an unfunded week"
            self.hourly()["weeks"][week_id]["logged"] += minutes

    async def _tick(self, uow, fn):
        return await fn(uow, self.clock, self.config)

    @rule()
    def hourly_week_ends(self):
        """The clock reaches the next week start; the scheduler closes the week."""
        self.hourly()
        start = week_start_of(self.clock.now(), self.config.timesheet_week_start)
        self.clock.advance(seconds=(start + timedelta(days=7) - self.clock.now()).total_seconds())
        closed = self.attempt(lambda uow: self._tick(uow, hourly.close_weeks_due)) or []
        for week_id in closed:
            self.closed(week_id)
        self.attempt(lambda uow: self._tick(uow, hourly.open_weeks_due))

    def closed(self, week_id: int) -> None:
        model = self.hourly()["weeks"].get(week_id)
        week = self.run(self.week_row(week_id))
        if model is None:
            return
        expected = invoice_for(model["logged"], RATE, LIMIT)
        if model["escrow"] == 0:
            assert week.invoice == 0
            return
        assert (week.billed_minutes, week.invoice) == expected
        if week.invoice == 0:  # nothing logged: settled at once, all of it back
            self.paid(week_id, 0)
            event("hourly week closed empty")

    async def week_row(self, week_id: int):
        async with self.db.uow() as uow:
            week = await uow.weeks.get(week_id)
            uow.session.expunge(week)
            return week

    def paid(self, week_id: int, share: int) -> None:
        model = self.hourly()["weeks"][week_id]
        split = settlement(ESCROW, share, self.config.client_fee_bp, self.config.freelancer_fee_bp)
        assert split.total == model["escrow"]
        model["escrow"] = 0
        self.earned[FREELANCER] += split.to_freelancer
        self.platform += split.to_platform

    def invoiced(self) -> list[int]:
        return [
            w
            for w, model in self.hourly()["weeks"].items()
            if model["escrow"] and self.run(self.week_row(w)).review_until is not None
        ]

    @rule(how=HOW, tenths=st.sampled_from([0, 3, 9, 10]))
    def hourly_settle(self, how, tenths):
        """The newest invoice: approved, paid less, paid by the deadline, or both at once."""
        waiting = self.invoiced()
        if not waiting:
            return
        week_id = waiting[-1]
        invoice = self.run(self.week_row(week_id)).invoice
        if how == "approve":
            if self.attempt(lambda uow: hourly.approve_invoice(uow, self.clock, CLIENT, week_id)):
                self.paid(week_id, invoice)
                event("hourly invoice approved")
        elif how == "less":
            share = invoice * tenths // 10
            done = self.attempt(
                lambda uow: hourly.pay_less(uow, self.clock, CLIENT, week_id, share, "Too slow")
            )
            assert (done is not None) == (share < invoice)
            if done is not None:
                self.paid(week_id, share)
                event("hourly invoice paid less")
        else:
            self.clock.advance(days=self.config.timesheet_review_days)
            operations = [lambda uow: self._tick(uow, hourly.auto_pay_due)]
            if how == "race":
                operations.append(
                    lambda uow: hourly.approve_invoice(uow, self.clock, CLIENT, week_id)
                )
            auto, *approved = self.run(self.concurrently(*operations))
            auto = auto or []
            # The tick pays every invoice past its window, not only this one: an older
            # week whose window the clock passed unanswered is paid by it as well.
            by_client = bool(approved and approved[0])
            assert (week_id in auto) + by_client == 1, "an invoice settled twice, or not at all"
            self.auto_paid([w for w in auto if w != week_id])
            self.paid(week_id, invoice)
            event(f"hourly invoice {how}")

    def auto_paid(self, week_ids: list[int]) -> None:
        """Weeks the deadline tick paid (as if approved): each a funded, invoiced week."""
        for week_id in week_ids:
            model = getattr(self, "_hourly", {"weeks": {}})["weeks"].get(week_id)
            assert model is not None and model["escrow"], "the deadline paid an unfunded week"
            self.paid(week_id, self.run(self.week_row(week_id)).invoice)
            event("hourly invoice paid by an earlier deadline")

    @rule(minutes=MINUTES, how=HOW, tenths=st.sampled_from([0, 5]))
    def hourly_week_story(self, minutes, how, tenths):
        """The common path in one step, so it happens often."""
        self.hourly_fund_week("paid", "client")
        self.hourly_log(minutes)
        self.hourly_week_ends()
        self.hourly_settle(how, tenths)

    @rule(first=MINUTES, second=st.sampled_from([0, 30, 600]), tenths=st.sampled_from([0, 5]))
    def hourly_two_weeks(self, first, second, tenths):
        """Two weeks: the first paid less, the second (maybe empty) raced by the
        client's approval and the deadline."""
        self.hourly_week_story(first, "less", tenths)
        self.hourly_fund_week("paid", "client")
        if second:
            self.hourly_log(second)
        self.hourly_week_ends()
        self.hourly_settle("race", 10)

    # --- no limit -----------------------------------------------------------------

    def no_limit(self) -> dict:
        if not hasattr(self, "_no_limit"):
            contract_id, _ = self.run(
                hourly_hired(self.db, self.clock, self.config, limit=NO_LIMIT)
            )
            self._no_limit = {"contract": contract_id, "paid": set()}
        return self._no_limit

    async def no_limit_invoices(self, paid: bool | None = None) -> list:
        async with self.db.uow() as uow:
            found = await uow.milestones.find(
                contract_id=self.no_limit()["contract"], kind=INVOICE_KIND
            )
            return [
                (m.id, m.amount, m.status)
                for m in found
                if paid is None or (m.status is MilestoneStatus.RELEASED) == paid
            ]

    async def overdue(self, uow) -> int:
        return await uow.weeks.count(
            contract_id=self.no_limit()["contract"],
            closed_at__ne=None,
            settled_at=None,
            review_until__lte=self.clock.now(),
        )

    @rule(minutes=MINUTES, outcome=OUTCOMES, late=st.booleans())
    def hourly_no_limit_week(self, minutes, outcome, late):
        """No limit: log (refused only while an invoice is overdue), the week ends,
        and each unpaid invoice is paid by checkout — perhaps after its window."""
        state = self.no_limit()
        logged = self.attempt(
            lambda uow: hourly.log_time(
                uow, self.clock, self.config, FREELANCER, state["contract"], minutes, "x"
            )
        )
        if logged is None:
            assert self.attempt(self.overdue), "no-limit logging refused with nothing overdue"
            event("hourly no-limit logging paused")
        self.hourly_week_ends()
        if late:
            self.clock.advance(days=self.config.timesheet_review_days)
            self.auto_paid(self.attempt(lambda uow: self._tick(uow, hourly.auto_pay_due)) or [])
        for m, amount, _ in self.run(self.no_limit_invoices(paid=False)):
            payment = self.attempt(
                lambda uow, m=m: payments.start_funding(
                    uow, self.clock, self.config, self.gateway, CLIENT, m
                )
            )
            if payment is None:
                continue
            self.run(
                GatewayCallRunner(self.db.uow, self.clock, self.config, self.gateway).open_checkout(
                    payment.id
                )
            )
            if outcome == "pending":
                continue
            external_id = self.run(self.external_id(payment.id))
            if outcome == "failed":
                self.attempt(
                    lambda uow, x=external_id: payments.payment_failed(
                        uow, self.clock, "sandbox", x, "no"
                    )
                )
                continue
            took = self.attempt(
                lambda uow, x=external_id, pid=payment.id: payments.confirm_payment(
                    uow, self.clock, self.config, "sandbox", x, f"ch_n{pid}"
                )
            )
            if took:
                split = settlement(
                    amount, amount, self.config.client_fee_bp, self.config.freelancer_fee_bp
                )
                self.earned[FREELANCER] += split.to_freelancer
                self.platform += split.to_platform
                state["paid"].add(m)
                event("hourly no-limit invoice paid" + (" late" if late else ""))

    @invariant()
    def hourly_no_limit_invoices_match(self):
        if not hasattr(self, "_no_limit"):
            return
        self.run(self.check_no_limit())

    async def check_no_limit(self) -> None:
        async with self.db.uow() as uow:
            for week in await uow.weeks.find(contract_id=self._no_limit["contract"]):
                if week.milestone_id is None:  # open, or closed with nothing logged
                    assert week.closed_at is None or week.invoice == 0
                    continue
                m = await uow.milestones.get(week.milestone_id)
                assert (m.kind, m.amount) == (INVOICE_KIND, week.invoice)
                assert week.invoice == invoice_for(week.logged_minutes, RATE, NO_LIMIT)[1]
                # Nothing is ever held: paid means released whole at once.
                assert await uow.ledger.balance(ledger.escrow_account(m.id)) == 0
                paid = m.id in self._no_limit["paid"]
                assert (m.status is MilestoneStatus.RELEASED) == paid
                assert (week.settled_at is not None) == paid

    @invariant()
    def hourly_escrows_match(self):
        if not hasattr(self, "_hourly"):
            return
        self.run(self.check_hourly())

    async def check_hourly(self) -> None:
        async with self.db.uow() as uow:
            for week_id, model in self._hourly["weeks"].items():
                m = model["m"]
                milestone = await uow.milestones.get(m)
                balance = await uow.ledger.balance(ledger.escrow_account(m))
                assert balance == model["escrow"]
                assert (balance > 0) == (milestone.status in HELD)
                keys = {t.key for t in await uow.ledger.transactions() if t.key.endswith(f":{m}")}
                assert keys <= {ledger.fund_key(m), ledger.settle_key(m), ledger.transfer_key(m)}
                if milestone.status is MilestoneStatus.SUBMITTED:
                    week = await uow.weeks.get(week_id)
                    assert week.invoice <= ESCROW
