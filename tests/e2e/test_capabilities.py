"""Every capability of docs/features.md (1–23) reached through a real framework
(aiogram and python-telegram-bot, long polling) against the Bot API emulator, with the
real Runtime — the whole module runs once per framework.

One runtime serves the whole module; each test brings new people (fresh Telegram ids)
so the tests do not see each other. A test prepares what its capability needs (a job,
a hired contract, a funded milestone …) through the use cases on the runtime's
database, then acts through the chat only and asserts on the visible reply.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from bot.app import Runtime, SystemClock
from bot.sandbox import Emulator
from domain.entities import Pitch
from domain.usecases import contracts, disputes, milestones, payments
from domain.usecases.contracts import MilestoneSpec
from storage.database import Database
from tests.e2e.harness import ADA, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, labels, pay_on_page, post_fixed_job, running
from tests.e2e.test_runtime import settings_for
from tests.funding import open_checkout
from tests.usecases.story import open_job

pytestmark = pytest.mark.asyncio(loop_scope="module")

UNKNOWN = "don't know the command"
NO_ADMIN_FLOW = "admin flow missing: /{} is an unknown command (handlers/flows/admin.py)"

_ids = itertools.count(5001)


@dataclass
class World:
    emu: Emulator
    rt: Runtime
    db: Database
    stage: Stage

    def person(self, name: str, lang: str = "en") -> int:
        user_id = next(_ids)
        self.emu.add_user(name, user_id=user_id, language_code=lang)
        return user_id

    async def join(self, name: str, role: str, lang: str = "en") -> int:
        """A new person who has pressed /start and chosen a role."""
        who = self.person(name, lang)
        await self.stage.send(who, "/start")
        button = {
            "client": "💼 I hire (client)",
            "freelancer": "🧑‍💻 I work (freelancer)",
            "both": "🔁 Both",
        }[role]
        await self.stage.press(who, button)
        await self.stage.sees(who, "You're set up as")
        return who

    @property
    def clock(self) -> SystemClock:
        return self.rt.clock  # type: ignore[return-value]

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return self.rt.settings.market_config()

    @property
    def gateway(self):  # type: ignore[no-untyped-def]
        return self.rt.payments.gateway

    # --- preparing state through the use cases (no notifications are rendered) ----------

    async def job(self, client: int, title: str) -> int:
        return await open_job(self.db, self.clock, client, title)

    async def pitch(self, job_id: int, freelancer: int, price: int = 40_000) -> int:
        async with self.db.uow() as uow:
            pitch = await uow.pitches.add(
                Pitch(
                    job_id=job_id,
                    freelancer_id=freelancer,
                    cover_letter="I have done this many times; see my profile.",
                    price=price,
                    duration_days=10,
                    created_at=self.clock.now(),
                )
            )
            await uow.commit()
            return pitch.id  # type: ignore[return-value]

    async def hired(
        self, client: int, freelancer: int, title: str, amounts: tuple[int, ...] = (10_000,)
    ) -> tuple[int, list[int]]:
        job_id = await self.job(client, title)
        await self.pitch(job_id, freelancer)
        async with self.db.uow() as uow:
            contract = await contracts.send_offer(
                uow,
                self.clock,
                self.config,
                client,
                job_id,
                freelancer,
                [MilestoneSpec(f"Part {i}", a) for i, a in enumerate(amounts, 1)],
            )
            await contracts.accept_offer(uow, self.clock, freelancer, contract.id)
            await uow.commit()
            found = await uow.milestones.find(contract_id=contract.id, order_by="position")
            return contract.id, [m.id for m in found]  # type: ignore[misc]

    async def funded(self, client: int, milestone_id: int) -> None:
        payment = await open_checkout(
            self.db, self.clock, self.config, self.gateway, client, milestone_id
        )
        async with self.db.uow() as uow:
            assert await payments.confirm_payment(
                uow, self.clock, self.config, self.gateway.name, payment.external_id, "ch_test"
            )
            await uow.commit()

    async def submitted(self, freelancer: int, milestone_id: int) -> None:
        async with self.db.uow() as uow:
            await milestones.submit_work(
                uow, self.clock, self.config, freelancer, milestone_id, "Done, see the file."
            )
            await uow.commit()

    async def released(self, client: int, milestone_id: int) -> None:
        async with self.db.uow() as uow:
            await milestones.release(uow, self.clock, self.config, client, milestone_id)
            await uow.commit()

    async def ended(self, client: int, contract_id: int) -> None:
        async with self.db.uow() as uow:
            await contracts.end_contract(uow, self.clock, self.config, client, contract_id)
            await uow.commit()

    async def dispute(self, client: int, milestone_id: int, reason: str) -> int:
        async with self.db.uow() as uow:
            opened = await disputes.open_dispute(uow, self.clock, client, milestone_id, reason)
            await uow.commit()
            return opened.id  # type: ignore[return-value]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["aiogram", "ptb"])
async def world(request, tmp_path_factory) -> AsyncIterator[World]:
    emu = make_emulator()
    path = tmp_path_factory.mktemp("capabilities") / "caps.db"
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, path)
        async with running(settings) as rt:
            db = Database(settings.database_url)
            stage = Stage(emu)
            # The admin has opened the chat (else the bot may not write to her).
            await stage.send(ADA, "/start")
            await stage.sees(ADA, "Welcome to Gigbot")
            try:
                yield World(emu, rt, db, stage)
            finally:
                await db.dispose()


async def open_contract(w: World, who: int, title: str) -> None:
    """/contracts, then the contract's card by its button."""
    await w.stage.send(who, "/contracts")
    listing = await w.stage.sees(who, "My contracts")
    [label] = [b for b in labels(listing) if title in b]
    await w.stage.press(who, label)
    await w.stage.sees(who, title, "Milestones")


# --- Everyone ---------------------------------------------------------------------------


async def test_01_start_language_roles_and_deep_link(world: World) -> None:
    s = world.stage
    olga = world.person("Olga", lang="ru")
    await s.send(olga, "/start")
    welcome = await s.sees(olga, "Добро пожаловать в Gigbot, Olga")
    assert len(labels(welcome)) == 3
    ben = world.person("Ben")
    await s.send(ben, "/start")
    welcome = await s.sees(ben, "Welcome to Gigbot, Ben")
    assert labels(welcome) == ["💼 I hire (client)", "🧑‍💻 I work (freelancer)", "🔁 Both"]
    await s.press(ben, "🔁 Both")
    await s.sees(ben, "You're set up as a client and freelancer")
    job_id = await world.job(ben, "Deep-linked landing page")
    fay = world.person("Fay")
    await s.send(fay, f"/start job_{job_id}")
    card = await s.sees(fay, "Deep-linked landing page")
    assert "✋ Pitch" in labels(card)


async def test_02_menu_help_settings_and_command_list(world: World) -> None:
    s = world.stage
    carl = await world.join("Carl", "client")
    await s.send(carl, "/menu")
    menu = await s.sees(carl, "Main menu")
    assert "📝 Post a job" in labels(menu)
    await s.send(carl, "/help")
    await s.sees(carl, "freelance marketplace", "/post — Post a job")
    await s.send(carl, "/settings")
    settings = await s.sees(carl, "Settings", "Language: English")
    assert "Русский" in labels(settings)
    languages = {lang for _, lang in world.emu.commands}
    assert {"en", "ru"} <= languages, languages
    assert any(c["command"] == "post" for c in world.emu.commands_for(carl))


async def test_03_notifications_arrive_with_buttons(world: World) -> None:
    s = world.stage
    cleo = await world.join("Cleo", "client")
    finn = await world.join("Finn", "freelancer")
    job_id = await world.job(cleo, "Notification test job")
    await s.send(finn, f"/start job_{job_id}")
    await s.press(finn, "✋ Pitch")
    await s.sees(finn, "cover letter")
    await s.send(finn, "I can build this quickly and well, with tests.")
    await s.sees(finn, "Your price")
    await s.send(finn, "300")
    await s.sees(finn, "How many days")
    await s.send(finn, "5")
    await s.press(finn, "No milestones")
    await s.press(finn, "📤 Send pitch")
    note = await s.sees(cleo, "New pitch", "Notification test job", "$300.00")
    assert "📨 View pitch" in labels(note)
    await s.press(cleo, "📨 View pitch")
    await s.sees(cleo, "I can build this quickly")


async def test_04_report_a_job_to_the_admins(world: World) -> None:
    s = world.stage
    owner = await world.join("Owen", "client")
    rita = await world.join("Rita", "freelancer")
    job_id = await world.job(owner, "Suspicious crypto job")
    await s.send(rita, f"/report job {job_id}")
    await s.sees(rita, "What is wrong with the job “Suspicious crypto job”?")
    await s.send(rita, "Asks for payment outside the platform.")
    await s.sees(rita, "the admins have your report")
    await s.sees(ADA, "Asks for payment outside the platform.")


# --- Freelancer ---------------------------------------------------------------------------


async def test_05_profile_card_with_completeness(world: World) -> None:
    s = world.stage
    pia = await world.join("Pia", "freelancer")
    await s.send(pia, "/profile")
    card = await s.sees(pia, "Profile 0% complete", "Next: add a headline")
    assert "➕ Add a headline" in labels(card)
    await s.press(pia, "➕ Add a headline")
    await s.send(pia, "Illustrator for children's books")
    await s.sees(pia, "Illustrator for children's books", "Profile 15% complete", "Record")


async def test_06_job_alerts_subscribe_alert_and_not_interested(world: World) -> None:
    s = world.stage
    ali = await world.join("Ali", "freelancer")
    await s.send(ali, "/alerts")
    await s.press(ali, "➕ New alert")
    await s.press(ali, "Design")
    await s.press(ali, "Next ›")
    await s.press(ali, "Skip ›")
    await s.sees(ali, "keywords")
    await s.send(ali, "mascot")
    await s.sees(ali, "Minimum budget")
    await s.send(ali, "50")
    await s.press(ali, "🔔 Instantly")
    await s.sees(ali, "Alert created", "Keywords: mascot")
    cora = await world.join("Cora", "client")
    await post_job(world, cora, "Mascot for a bakery", "Design", "Logo design")
    alert = await s.sees(ali, "New job for you", "Mascot for a bakery")
    assert labels(alert) == ["✋ Pitch", "🙈 Not interested"]
    await s.press(ali, "🙈 Not interested")
    await s.sees(ali, "Hidden")


async def test_07_browse_and_search_open_jobs(world: World) -> None:
    s = world.stage
    bo = await world.join("Bo", "client")
    await world.job(bo, "Quokka themed sticker pack")
    bea = await world.join("Bea", "freelancer")
    await s.send(bea, "/jobs")
    await s.sees(bea, "Open jobs", "Quokka themed sticker pack")
    await s.send(bea, "quokka")
    found = await s.sees(bea, "Quokka themed sticker pack")
    [label] = [b for b in labels(found) if "Quokka" in b]
    await s.press(bea, label)
    card = await s.sees(bea, "Quokka themed sticker pack", "Budget")
    assert "✋ Pitch" in labels(card)


async def test_08_pitch_then_withdraw_while_pending(world: World) -> None:
    s = world.stage
    cy = await world.join("Cy", "client")
    job_id = await world.job(cy, "Pitch and withdraw job")
    pete = await world.join("Pete", "freelancer")
    await s.send(pete, f"/start job_{job_id}")
    await s.press(pete, "✋ Pitch")
    await s.sees(pete, "20 of 20 pitches left")
    await s.sees(pete, "cover letter")
    await s.send(pete, "Experienced with exactly this kind of job.")
    await s.sees(pete, "Your price")
    await s.send(pete, "120.50")
    await s.sees(pete, "How many days")
    await s.send(pete, "3")
    await s.press(pete, "No milestones")
    await s.sees(pete, "Preview of your pitch", "$120.50")
    await s.press(pete, "📤 Send pitch")
    await s.sees(pete, "was sent", "19 of 20")
    await s.press(pete, "📨 View pitch")
    shown = await s.sees(pete, "$120.50")
    [withdraw] = [b for b in labels(shown) if "Withdraw" in b]
    await s.press(pete, withdraw)
    await s.sees(pete, "Withdraw this pitch?")
    await s.press(pete, "Yes, withdraw")
    await s.sees(pete, "withdrawn")


async def send_offer_via_chat(w: World, client: int, job_title: str, freelancer_name: str) -> None:
    s = w.stage
    await s.send(client, "/myjobs")
    jobs = await s.sees(client, "My jobs")
    [job] = [b for b in labels(jobs) if job_title[:15] in b]
    await s.press(client, job)
    await s.press(client, "✋ Pitches (1)")
    await s.press(client, f"1. {freelancer_name}")
    await s.press(client, "🤝 Hire")
    await s.sees(client, "Milestone 1")
    await s.send(client, "Design")
    await s.sees(client, "Amount for “Design”")
    await s.send(client, "200")
    await s.press(client, "No due date")
    await s.sees(client, "You pay $210.00")
    await s.press(client, "📨 Send offer")
    await s.sees(client, f"Offer sent to {freelancer_name}")


async def test_09_accept_or_propose_changes_to_an_offer(world: World) -> None:
    s = world.stage
    cat = await world.join("Cat", "client")
    fox = await world.join("Fox", "freelancer")
    await world.pitch(await world.job(cat, "Offer answer job"), fox)
    await send_offer_via_chat(world, cat, "Offer answer job", "Fox")
    offer = await s.sees(fox, "offers you a contract", "1. Design — $200.00")
    assert labels(offer) == ["✅ Accept", "❌ Decline", "✏️ Propose changes", "🚫 Block"]
    await s.press(fox, "✅ Accept")
    await s.sees(fox, "The contract is active")
    await s.sees(cat, "Fox accepted your offer")


async def test_10_submit_work_with_files(world: World) -> None:
    s = world.stage
    cid = await world.join("Cid", "client")
    sam = await world.join("Sam", "freelancer")
    _, [mid] = await world.hired(cid, sam, "Submit work contract")
    await world.funded(cid, mid)
    await open_contract(world, sam, "Submit work contract")
    await s.press(sam, "📤 Submit #1")
    await s.sees(sam, "attach files")
    await s.upload(sam, b"%PDF-1.4 final", "final.pdf", caption="Final files attached.")
    await s.sees(sam, "files: 1")
    await s.press(sam, "📤 Submit work")
    await s.sees(sam, "submitted")
    review = await s.sees(cid, "Sam submitted work", "Final files attached.")
    assert "✅ Approve & release" in labels(review)
    await s.sees_file(cid)


async def test_11_balance_history_and_withdraw(world: World) -> None:
    s = world.stage
    cal = await world.join("Cal", "client")
    wes = await world.join("Wes", "freelancer")
    _, [mid] = await world.hired(cal, wes, "Balance contract", (20_000,))
    await world.funded(cal, mid)
    await world.released(cal, mid)
    await s.send(wes, "/balance")
    await s.sees(wes, "Available to withdraw: $180.00")
    await s.press(wes, "📜 Earnings history")
    await s.sees(wes, "$180.00")
    await s.send(wes, "/balance")
    await s.press(wes, "💸 Withdraw")
    await s.press(wes, "✏️ Another amount")
    await s.sees(wes, "How much do you want to withdraw? Up to $180.00")
    await s.send(wes, "1000")
    await s.sees(wes, "That is more than your balance of $180.00.")
    await s.send(wes, "/balance")
    await s.press(wes, "💸 Withdraw")
    await s.press(wes, "💸 Withdraw all ($180.00)")
    await s.sees(wes, "of $180.00 to your sandbox account is on its way")
    await s.sees(wes, "✅ Paid out $180.00 to your sandbox account")


# --- Client -------------------------------------------------------------------------------


async def post_job(w: World, client: int, title: str, category: str, skill: str) -> None:
    description = f"{title}: the full description of what is needed, with details."
    await post_fixed_job(w.stage, client, title, description, category, skill, "250")


async def test_12_post_a_job_preview_and_publish(world: World) -> None:
    s = world.stage
    pam = await world.join("Pam", "client")
    await post_job(world, pam, "Newsletter copywriting", "Writing", "Copywriting")
    card = await s.sees(pam, "Published")
    assert {"✏️ Edit", "⏸ Pause", "⚫ Close job"} <= set(labels(card))
    await s.press(pam, "⏸ Pause")
    await s.sees(pam, "paused")


async def test_13_my_jobs_ranked_pitches_with_reputation(world: World) -> None:
    s = world.stage
    mo = await world.join("Mo", "client")
    job_id = await world.job(mo, "Ranked pitches job")
    for name in ("Rank One", "Rank Two"):
        await world.pitch(job_id, await world.join(name, "freelancer"))
    await s.send(mo, "/myjobs")
    await s.press(mo, "🟢 Ranked pitches job · 2 ✋")
    await s.press(mo, "✋ Pitches (2)")
    ranked = await s.sees(mo, "best first", "Rank One", "Rank Two", "score")
    assert len([b for b in labels(ranked) if b[0].isdigit()]) == 2


async def test_14_hire_with_milestones(world: World) -> None:
    s = world.stage
    hal = await world.join("Hal", "client")
    ivy = await world.join("Ivy", "freelancer")
    await world.pitch(await world.job(hal, "Hiring job"), ivy)
    await send_offer_via_chat(world, hal, "Hiring job", "Ivy")
    await s.sees(ivy, "offers you a contract", "Design — $200.00", "You receive $180.00")


async def test_15_fund_a_milestone_fees_first_on_the_payment_page(world: World) -> None:
    s = world.stage
    fia = await world.join("Fia", "client")
    gus = await world.join("Gus", "freelancer")
    await world.hired(fia, gus, "Funding contract", (10_000,))
    await open_contract(world, fia, "Funding contract")
    await s.press(fia, "💳 Fund #1")
    await s.sees(fia, "Milestone: $100.00", "Client fee (5%): $5.00", "Total to pay: $105.00")
    await s.press(fia, "💳 Pay $105.00")
    page, done = await pay_on_page(await s.url_of(fia, "💳 Open payment page"))
    assert "$105.00" in page and "Paid" in done
    await s.sees(fia, "is funded.", "In escrow: $100.00 + $5.00 client fee")
    await s.sees(gus, "funded “Part 1” ($100.00)")


async def test_16_review_work_approve_and_release(world: World) -> None:
    s = world.stage
    rae = await world.join("Rae", "client")
    tom = await world.join("Tom", "freelancer")
    _, [mid] = await world.hired(rae, tom, "Review contract", (10_000,))
    await world.funded(rae, mid)
    await world.submitted(tom, mid)
    await open_contract(world, rae, "Review contract")
    await s.press(rae, "📦 Review #1")
    await s.press(rae, "✅ Approve & release")
    await s.sees(rae, "Tom receives $90.00")
    await s.press(rae, "✅ Yes, release")
    await s.sees(rae, "Released “Part 1”: Tom receives $90.00")
    await s.sees(tom, "$90.00 is added to your balance")


async def test_17_end_the_contract(world: World) -> None:
    s = world.stage
    ed = await world.join("Ed", "client")
    una = await world.join("Una", "freelancer")
    _, [mid] = await world.hired(ed, una, "Ending contract", (10_000,))
    await world.funded(ed, mid)
    await world.released(ed, mid)
    await open_contract(world, ed, "Ending contract")
    await s.press(ed, "🏁 End contract")
    await s.press(ed, "🏁 Yes, end it")
    await s.sees(ed, "has ended")
    await s.sees(una, "Ed ended the contract")


# --- Both parties ---------------------------------------------------------------------------


async def test_18_message_the_other_party(world: World) -> None:
    s = world.stage
    mia = await world.join("Mia", "client")
    nat = await world.join("Nat", "freelancer")
    await world.hired(mia, nat, "Messaging contract")
    await s.send(mia, "/message")
    await s.sees(mia, "choose a contract")
    await s.press(mia, "✉️ Nat · Messaging contract")
    await s.sees(mia, "Write to Nat about “Messaging contract”")
    await s.send(mia, "Could you send the draft by Friday?")
    received = await s.sees(nat, "Could you send the draft by Friday?")
    assert any("Reply" in b for b in labels(received)), labels(received)


async def test_19_dispute_and_an_agreed_split(world: World) -> None:
    s = world.stage
    dee = await world.join("Dee", "client")
    vic = await world.join("Vic", "freelancer")
    _, [mid] = await world.hired(dee, vic, "Dispute split contract", (10_000,))
    await world.funded(dee, mid)
    await s.send(dee, "/mydisputes")
    await s.press(dee, "⚖️ Open a dispute")
    picks = await s.sees(dee, "Which milestone")
    await s.press(dee, labels(picks)[0])
    await s.send(dee, "The work was never delivered at all.")
    await s.press(dee, "⚖️ Open the dispute")
    await s.sees(dee, "open", "never delivered")
    await s.sees(vic, "opened dispute", "never delivered")
    await s.press(vic, "➗ Propose a split")
    await s.sees(vic, "What should the freelancer get of $100.00?")
    await s.send(vic, "50%")
    confirm = await s.sees(vic, "$45.00")  # Vic's half, after the 10 % fee
    await s.press(vic, labels(confirm)[0])
    offered = await s.sees(dee, "$45.00")
    accept = [b for b in labels(offered) if "Accept" in b]
    await s.press(dee, accept[0])
    await s.sees(dee, "Accept this split?", "the client gets back $52.50")
    await s.press(dee, "✅ Yes, settle it")
    await s.sees(vic, "Vic receives $45.00")


async def test_20_rate_each_other_double_blind(world: World) -> None:
    s = world.stage
    rob = await world.join("Rob", "client")
    zoe = await world.join("Zoe", "freelancer")
    cid, [mid] = await world.hired(rob, zoe, "Rating contract", (10_000,))
    await world.funded(rob, mid)
    await world.released(rob, mid)
    await world.ended(rob, cid)
    await s.send(rob, "/rate")
    await s.press(rob, "⭐ Zoe · Rating contract")
    await s.press(rob, "⭐⭐⭐⭐⭐")
    await s.send(rob, "Excellent work, on time.")
    await s.sees(rob, "stays hidden")
    await s.send(zoe, "/rate")
    await s.press(zoe, "⭐ Rob · Rating contract")
    await s.press(zoe, "⭐⭐⭐⭐")
    await s.press(zoe, "Skip ›")
    await s.sees(zoe, "are now visible", "★★★★★", "Excellent work")
    await s.send(zoe, "/reputation")
    await s.sees(zoe, "Reputation of Zoe", "Rating: 5.0★", "Excellent work")


# --- Admin -----------------------------------------------------------------------------------


async def test_21_admin_lists_disputes_and_inspects_the_evidence(world: World) -> None:
    s = world.stage
    ann = await world.join("Ann", "client")
    kim = await world.join("Kim", "freelancer")
    _, [mid] = await world.hired(ann, kim, "Evidence contract", (10_000,))
    await world.funded(ann, mid)
    await world.submitted(kim, mid)
    dispute_id = await world.dispute(ann, mid, "The files do not open at all.")
    await s.send(ADA, "/disputes")
    if await s.sees_any(ADA, "Open disputes", UNKNOWN) == UNKNOWN:
        pytest.xfail(NO_ADMIN_FLOW.format("disputes"))
    listing = await s.sees(ADA, "Open disputes")
    assert any(f"#{dispute_id}" in b for b in labels(listing))
    await s.send(ADA, f"/dispute {dispute_id}")
    await s.sees(ADA, f"Dispute #{dispute_id}", "The files do not open", "Timeline", "Kim")
    kim_view = world.person("Nosy")
    await s.send(kim_view, "/disputes")  # not an admin: the command does not exist
    await s.sees(kim_view, "don't know the command")


async def test_22_admin_resolves_with_confirmation_and_both_are_told(world: World) -> None:
    s = world.stage
    bob = await world.join("Bob", "client")
    lea = await world.join("Lea", "freelancer")
    _, [mid] = await world.hired(bob, lea, "Resolution contract", (10_000,))
    await world.funded(bob, mid)
    dispute_id = await world.dispute(bob, mid, "Nothing was delivered on time.")
    await s.send(ADA, f"/resolve {dispute_id} none")
    if await s.sees_any(ADA, "Resolve dispute", UNKNOWN) == UNKNOWN:
        pytest.xfail(NO_ADMIN_FLOW.format("resolve"))
    confirm = await s.sees(ADA, f"Resolve dispute #{dispute_id}?", "Bob gets back $105.00")
    await s.press(ADA, labels(confirm)[0])
    for party in (bob, lea):
        await s.sees(party, f"Dispute #{dispute_id} was resolved", "Bob gets back $105.00")


async def test_23_admin_ban_unban_user_stats_and_audit(world: World) -> None:
    s = world.stage
    spam = await world.join("Spammer", "freelancer")
    await s.send(ADA, "/stats")
    if await s.sees_any(ADA, "Marketplace", UNKNOWN) == UNKNOWN:
        pytest.xfail(NO_ADMIN_FLOW.format("stats"))
    await s.sees(ADA, "Marketplace", "Users:", "In escrow:", "Fees earned:")
    await s.send(ADA, f"/user {spam}")
    await s.sees(ADA, "Spammer")
    await s.send(ADA, f"/ban {spam} spam")
    banned = await s.sees(ADA, f"Spammer (id {spam}) is banned. Reason: spam")
    assert labels(banned) == ["✅ Unban"]
    await s.send(spam, "/menu")
    await s.sees(spam, "Your account is suspended.")
    await s.send(ADA, f"/unban {spam}")
    await s.sees(ADA, f"Spammer (id {spam}) is unbanned.")
    await s.sees(spam, "Your Gigbot account is active again.")
    await s.send(ADA, "/audit")
    await s.sees(ADA, "ban", "unban")
