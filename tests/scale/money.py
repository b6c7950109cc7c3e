"""Money in the scale-out storm (docs/scale-out.md): pairs of a client and a freelancer
with a contract set up before the storm through the use cases (milestone 1 funded
through the sandbox gateway, milestone 2 not yet), who during the storm fund, submit,
release, ask for changes and now and then open a dispute — by pressing the bot's
buttons through the emulator and paying on the sandbox page through the balancer,
with double taps (the same button pressed twice at once, the same payment form
posted twice), which may land on two processes.

At the end `check_money` reads the ledger with the property tests' own invariants
(tests/usecases/ledger_checks.py) and the sandbox gateway's books, and returns counts.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin

import aiohttp
import sqlalchemy as sa

from bot.app import SystemClock
from bot.config import Settings
from bot.payments.sandbox import DatabaseBooks, SandboxGateway
from domain import ledger
from domain.entities import User
from domain.fees import funding_quote, settlement
from domain.states import MilestoneStatus
from domain.usecases import payments
from storage.database import Database
from storage.tables import outbox, sandbox_movements
from storage.tables import payments as payments_table
from tests.e2e.story_steps import Stage, button
from tests.funding import open_checkout
from tests.usecases.ledger_checks import (
    assert_gateway_agrees,
    assert_ledger_invariants,
    ledger_rows,
)
from tests.usecases.story import hired, open_job

AMOUNTS = (10_000, 6_000)  # milestone 1 funded before the storm, milestone 2 during it
WAIT_S = 120.0  # an answer during the storm, a SIGKILLed holder's people taken over
REASON = "The delivery does not match what we agreed: the export is missing entirely."
OUTCOMES = ("release", "release", "release", "changes", "dispute")


@dataclass
class Deal:
    client: int
    freelancer: int
    title: str
    contract_id: int = 0
    milestones: list[int] = field(default_factory=list)
    expected: dict[int, MilestoneStatus] = field(default_factory=dict)


@dataclass
class Tally:
    double_taps: int = 0
    double_posts: int = 0
    released: int = 0
    changes: int = 0
    disputed: int = 0
    withdrawn: int = 0


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


async def seed(database_url: str, deals: list[Deal]) -> None:
    """Users, an open job and an accepted contract per pair through the use cases;
    milestone 1 funded as the sandbox page would (the gateway's charge, then the
    confirmation), milestone 2 left for the storm."""
    clock = SystemClock()
    config = Settings(_env_file=None, database_url=database_url).market_config()
    db = Database(database_url)
    gateway = SandboxGateway("http://127.0.0.1", b"scale-seed", DatabaseBooks(db))
    try:
        async with db.uow() as uow:
            for d in deals:
                await uow.users.add(User(id=d.client, name=f"C{d.client}", is_client=True))
                await uow.users.add(
                    User(id=d.freelancer, name=f"F{d.freelancer}", is_freelancer=True)
                )
            await uow.commit()
        for d in deals:
            job = await open_job(db, clock, d.client, d.title)
            d.contract_id, d.milestones = await hired(
                db, clock, config, AMOUNTS, d.client, d.freelancer, job
            )
            payment = await open_checkout(db, clock, config, gateway, d.client, d.milestones[0])
            charge = await gateway.charge(payment.id, payment.amount, payment.currency)  # type: ignore[arg-type]
            async with db.uow() as uow:
                assert await payments.confirm_payment(
                    uow, clock, config, gateway.name, payment.external_id or "", charge
                )
                await uow.commit()
        # What the set-up would tell (the client's payment-verified badge) is for
        # people who have not opened the chat yet: the storm starts with an empty outbox.
        async with db.engine.begin() as conn:
            await conn.execute(sa.delete(outbox))
    finally:
        await db.dispose()


async def tap(s: Stage, user: int, label: str, *, double: bool = False) -> None:
    """Press the button `label` on a fresh message: once, or twice at once (a double
    tap: two callback queries, which the balancer may give to two processes)."""

    def find() -> dict | None:
        for message in reversed(s.fresh(user)):
            found = button(message, label)
            if found is not None and "callback_data" in found:
                return message
        return None

    try:
        message = await s.emu.wait_for(find, WAIT_S)
    except TimeoutError:
        raise AssertionError(f"user {user}: no button {label!r}") from None
    s._mark(user)
    presses = [
        s.emu.press_button(user, message["message_id"], text=label)
        for _ in range(2 if double else 1)
    ]
    for press in presses:
        await s.emu.wait_for_callback_answer(press.id, WAIT_S)


NO_SERVER = "No server is available"  # the balancer's own 503: nothing was forwarded


async def pay(url: str, *, double: bool) -> None:
    """The sandbox page: GET it, POST its form (twice at once: a double click). A
    person who meets the balancer's "no server" page (every process busy restarting)
    reloads it a moment later."""
    async with aiohttp.ClientSession() as session:

        async def load(method: str, target: str, **kw: object) -> str:
            for _ in range(20):
                async with session.request(method, target, **kw) as response:  # type: ignore[arg-type]
                    text = await response.text()
                    if response.status == 503 and NO_SERVER in text:
                        await asyncio.sleep(0.5)  # a person reloads; not synchronisation
                        continue
                    assert response.status == 200, text
                    return text
            raise AssertionError(f"{target}: no server for ten seconds")

        form = await load("GET", url)
        found = re.search(r'<form method="post" action="([^"]+)"', form)
        assert found, form
        target = urljoin(url, html.unescape(found.group(1)))
        posts = [load("POST", target, data={"action": "pay"}) for _ in range(2 if double else 1)]
        await asyncio.gather(*posts)


async def submit(s: Stage, d: Deal, n: int, rng: random.Random, tally: Tally) -> None:
    """The freelancer: the contract card's Submit #n, a note, Submit work."""
    f = d.freelancer
    await s.send(f, "/contracts")
    await tap(s, f, f"#{d.contract_id} {d.title} · active")
    await tap(s, f, f"📤 Submit #{n}")
    await s.sees(f, "Submit work", timeout=WAIT_S)
    await s.send(f, f"Part {n} is delivered.")
    await send_work(s, d, n, rng, tally)


async def send_work(s: Stage, d: Deal, n: int, rng: random.Random, tally: Tally) -> None:
    f = d.freelancer
    await s.sees(f, "Got it", timeout=WAIT_S)
    double = rng.random() < 0.3
    tally.double_taps += double
    await tap(s, f, "📤 Submit work", double=double)
    await s.sees(f, f"Work for “Part {n}” submitted", timeout=WAIT_S)


async def review(s: Stage, d: Deal, n: int, rng: random.Random, tally: Tally) -> None:
    """The client on the 'submitted' notice: release, ask for changes (then release
    the resubmitted work) or open a dispute."""
    c, f, m = d.client, d.freelancer, d.milestones[n - 1]
    await s.sees(c, f"submitted work for “Part {n}”", timeout=WAIT_S)
    outcome = rng.choice(OUTCOMES)
    if outcome == "changes":
        tally.changes += 1
        await tap(s, c, "✏️ Request changes")
        await s.sees(c, "What should change", timeout=WAIT_S)
        await s.send(c, "Please add the export as well.")
        await s.sees(c, "was sent", timeout=WAIT_S)
        await s.sees(f, f"asks for changes to “Part {n}”", timeout=WAIT_S)
        await tap(s, f, "📤 Resubmit")
        await s.sees(f, "Submit work", timeout=WAIT_S)
        await s.send(f, "The export is there now.")
        await send_work(s, d, n, rng, tally)
        await s.sees(c, f"submitted work for “Part {n}”", timeout=WAIT_S)
        outcome = "release"
    double = rng.random() < 0.5
    tally.double_taps += double
    if outcome == "release":
        await tap(s, c, "✅ Approve & release")
        await tap(s, c, "✅ Yes, release", double=double)
        await s.sees(c, f"Released “Part {n}”", timeout=WAIT_S)
        await s.sees(f, f"approved “Part {n}”", timeout=WAIT_S)
        tally.released += 1
        d.expected[m] = MilestoneStatus.RELEASED
    else:
        await tap(s, c, "⚖️ Open a dispute")
        await s.sees(c, f"Dispute on “Part {n}”", timeout=WAIT_S)
        await s.send(c, REASON)
        await s.sees(c, "Add evidence", timeout=WAIT_S)
        await tap(s, c, "⚖️ Open the dispute", double=double)
        await s.sees(c, "is open", timeout=WAIT_S)
        tally.disputed += 1
        d.expected[m] = MilestoneStatus.DISPUTED


async def fund(s: Stage, d: Deal, n: int, rng: random.Random, tally: Tally) -> None:
    """The client: the contract card's Fund #n, Pay, the sandbox page."""
    c = d.client
    total = funding_quote(AMOUNTS[n - 1], 500).total  # the 5% client fee (Settings default)
    await s.send(c, "/contracts")
    await tap(s, c, f"#{d.contract_id} {d.title} · active")
    await tap(s, c, f"💳 Fund #{n}")
    double = rng.random() < 0.5
    tally.double_taps += double
    await tap(s, c, f"💳 Pay {dollars(total)}", double=double)
    url = await s.url_of(c, "💳 Open payment page", timeout=WAIT_S)
    double = rng.random() < 0.5
    tally.double_posts += double
    await pay(url, double=double)
    await s.sees(c, f"Milestone “Part {n}” is funded", timeout=WAIT_S)


async def act_deal(s: Stage, d: Deal, rng: random.Random, tally: Tally) -> None:
    await asyncio.sleep(rng.uniform(0, 2))  # people start at different moments
    # The client opens the chat first (the bot may not write to someone who never has).
    await s.send(d.client, "/contracts")
    await s.sees(d.client, f"{d.title}", timeout=WAIT_S)
    for n in (1, 2):
        if n == 2:
            await fund(s, d, n, rng, tally)
        await submit(s, d, n, rng, tally)
        await review(s, d, n, rng, tally)
    await withdraw(s, d, rng, tally)


async def withdraw(s: Stage, d: Deal, rng: random.Random, tally: Tally) -> None:
    """The freelancer takes out what was released (a payout through the gateway)."""
    f = d.freelancer
    released = [
        AMOUNTS[i] for i, m in enumerate(d.milestones) if d.expected[m] is MilestoneStatus.RELEASED
    ]
    if not released:
        return
    net = sum(settlement(a, a, 500, 1000).to_freelancer for a in released)  # the default fees
    await s.send(f, "/balance")
    await tap(s, f, "💸 Withdraw")
    double = rng.random() < 0.5
    tally.double_taps += double
    await tap(s, f, f"💸 Withdraw all ({dollars(net)})", double=double)
    await s.sees(f, "is on its way", timeout=WAIT_S)
    await s.sees(f, "Paid out", timeout=WAIT_S)
    tally.withdrawn += 1


@dataclass
class MoneyCounts:
    milestones: int
    transactions: int
    funded: int
    settled: int
    held: int
    payments_succeeded: int
    charges: int
    gateway_calls: int
    payouts: int
    movements: int


async def check_money(db: Database, deals: list[Deal]) -> MoneyCounts:
    """Every milestone's money moved exactly once: the ledger's invariants (the property
    tests'), each milestone in the state its people left it in with one fund and at most
    one settlement, one succeeded payment per funded milestone, and the sandbox's books
    (its charges, refunds and payouts) agreeing with the ledger and the gateway calls."""
    ids = [m for d in deals for m in d.milestones]
    async with db.uow() as uow:
        rows = await ledger_rows(uow)
        status = {m.id: m.status for m in await uow.milestones.find(id__in=ids)}
        calls = {c.key: replace(c) for c in await uow.gateway_calls.find()}
        paid = (
            await uow.session.execute(
                sa.select(payments_table.c.milestone_id, payments_table.c.amount).where(
                    payments_table.c.status == "succeeded"
                )
            )
        ).all()
        books = (await uow.session.execute(sa.select(sandbox_movements))).all()
    for d in deals:
        for m, expected in d.expected.items():
            assert status[m] is expected, (
                f"milestone {m}: {status[m]}, its people left it {expected}"
            )
    balances = assert_ledger_invariants(rows, status)
    moves = [(b.amount, b.key) for b in books if b.kind != "charge"]
    assert_gateway_agrees(rows, calls, moves)
    keys = [key for key, *_ in {(key, kind) for key, kind, _, _ in rows}]
    assert len(keys) == len(set(keys)), "a transaction recorded twice"
    funds = {key for key, kind, _, _ in rows if kind == "fund"}
    settles = {key for key, kind, _, _ in rows if kind not in ("fund", "payout", "reversal")}
    per_milestone = [m for m, _ in paid]
    assert len(per_milestone) == len(set(per_milestone)), "a milestone paid twice"
    for m in ids:
        funded = ledger.fund_key(m) in funds
        assert funded == (m in per_milestone), f"milestone {m}: payment and ledger disagree"
        assert funded == (status[m] is not MilestoneStatus.PENDING)
        assert (ledger.settle_key(m) in settles) == (status[m] is MilestoneStatus.RELEASED)
    # The sandbox took each payment once, and what it took is what the ledger funded
    # plus what it gave back of late payments.
    charges = [b for b in books if b.kind == "charge"]
    funded_total = -sum(
        a for _, kind, acc, a in rows if kind == "fund" and acc == "gateway:sandbox"
    )
    late = sum(c.amount for c in calls.values() if c.kind == "late_refund")
    assert sum(b.amount for b in charges) == funded_total + late
    assert sum(amount for _, amount in paid) == funded_total
    held = sum(1 for m in ids if balances[ledger.escrow_account(m)] > 0)
    return MoneyCounts(
        milestones=len(ids),
        transactions=len({key for key, *_ in rows}),
        funded=len(funds),
        settled=len(settles),
        held=held,
        payments_succeeded=len(paid),
        charges=len(charges),
        gateway_calls=len(calls),
        payouts=sum(1 for b in books if b.kind == "payout"),
        movements=len(books),
    )
