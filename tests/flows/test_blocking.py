"""Blocking (issue 12, part 5): after one of two people blocks the other there is
no contact between them in either direction — messages, pitches, offers,
invitations, alerts, digests, browse and job cards — while a running contract
goes on with its messages refused towards the admins. The blocked person is
never told. Played through the real engine on SQLite; each path in both
directions (the `blocker` parameter says who blocks)."""

from __future__ import annotations

import pytest

from domain.entities import AlertSubscription, FreelancerProfile, Invitation, Job, Pitch
from domain.errors import NotAllowed, NotFound
from domain.events import JobAlert
from domain.ports import JobQuery
from domain.states import ContractStatus, JobStatus, MilestoneStatus
from domain.usecases import alerts, blocking, contracts, jobs, pitches, queries
from domain.usecases.contracts import MilestoneSpec
from handlers.flows.offers import _decision_keyboard
from handlers.flows.pitch import client_buttons
from handlers.i18n import translator
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person
from tests.flows.test_messaging import admin, deal, fund, person
from tests.usecases.story import RecordingGateway

BLOCKED_TEXT = "This person cannot receive messages now."
YOU_BLOCKED = "You blocked this person. Use /unblock to contact them again."
JOB_GONE = "This job no longer exists."


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def h(db, clock, config, gateway) -> Harness:
    return Harness(db, clock, config, gateway=gateway)


async def pair(h: Harness) -> tuple[Person, Person]:
    return await person(h, "Cleo", "client"), await person(h, "Fran", "freelancer")


async def open_job(h: Harness, client: Person, title: str = "Build a Telegram bot") -> int:
    async with h.db.uow() as uow:
        fields = jobs.JobFields(
            title=title,
            description="A bot that takes orders for a bakery, with payments.",
            category="development",
            skills=("python",),
            budget=50_000,
        )
        draft = await jobs.post_job(uow, h.clock, h.config, client.id, fields)
        assert draft.id is not None
        await jobs.publish_job(uow, h.clock, client.id, draft.id)
        await uow.commit()
    await h.deliver()
    h.clock.advance(minutes=1)
    return draft.id


async def pitched(h: Harness, client: Person, freelancer: Person) -> tuple[int, int]:
    """An open job of the client's and the freelancer's pitch on it (no contract)."""
    job_id = await open_job(h, client)
    async with h.db.uow() as uow:
        pitch = await uow.pitches.add(
            Pitch(job_id=job_id, freelancer_id=freelancer.id, cover_letter="I can.", price=40_000)
        )
        await uow.commit()
    assert pitch.id is not None
    return job_id, pitch.id


async def block(h: Harness, blocker: Person, blocked: Person) -> None:
    """Through the buttons, as people do: the profile card's 🚫 Block, confirmed."""
    await h.press_data(blocker, f"blk:block:{blocked.id}")
    await h.press(blocker, "🚫 Yes, block")
    assert "is blocked" in h.last(blocker).text


def who_blocks(blocker: str, cleo: Person, fran: Person) -> tuple[Person, Person]:
    return (cleo, fran) if blocker == "client" else (fran, cleo)


def refusal_for(person: Person, blocker: Person) -> str:
    """The blocker is reminded; the blocked person gets the unreachable words."""
    return YOU_BLOCKED if person == blocker else BLOCKED_TEXT


async def blocks(h: Harness) -> list[tuple[int, int]]:
    async with h.db.uow() as uow:
        return [(b.blocker_id, b.blocked_id) for b in await uow.blocks.find(order_by="created_at")]


# --- blocking itself --------------------------------------------------------------------


async def test_block_from_a_profile_card_asks_first_and_the_blocked_is_not_told(h) -> None:
    cleo, fran = await pair(h)
    await pitched(h, cleo, fran)
    await h.press_data(cleo, f"prof:card:{fran.id}")
    assert "🚫 Block" in h.last(cleo).labels()
    await h.press(cleo, "🚫 Block")
    assert "Block Fran?" in h.last(cleo).text and "They will not be told" in h.last(cleo).text
    await h.press(cleo, "✖️ Don't block")
    assert h.last(cleo).text == "Nobody was blocked." and await blocks(h) == []

    told = len(h.chat(fran))
    await h.press(cleo, "🚫 Block")
    await h.press(cleo, "🚫 Yes, block")
    assert "Fran is blocked. They were not told." in h.last(cleo).text
    assert await blocks(h) == [(cleo.id, fran.id)]
    assert len(h.chat(fran)) == told  # not a word to Fran


async def test_block_buttons_under_messages_pitches_and_offers(h) -> None:
    cleo, fran = await pair(h)
    _, pitch_id = await pitched(h, cleo, fran)
    await h.press_data(cleo, f"msg:write_pitch:{pitch_id}")
    await h.send(cleo, "Hello, a question about your pitch")
    assert h.last(fran).labels() == ["↩️ Reply", "🚫 Block"]
    await h.press(fran, "🚫 Block")  # the button blocks the sender
    assert "Block Cleo?" in h.last(fran).text
    async with h.db.uow() as uow:
        pitch = await uow.pitches.get(pitch_id)
        kb = client_buttons(translator("en"), pitch)
    labels = [b["text"] for row in kb or [] for b in row]
    assert "🚫 Block" in labels  # under a pitch the client receives
    await h.press_data(cleo, f"mj:view_pitch:{pitch_id}")
    assert "🚫 Block" in h.last(cleo).labels()  # and on the pitch's screen in /myjobs
    d = await deal(h, cleo, fran, accept=False, title="Another job")
    async with h.db.uow() as uow:
        contract = await uow.contracts.get(d.contract_id)
        kb = _decision_keyboard(translator("en"), d.contract_id, contract.client_id)
    assert "🚫 Block" in [b["text"] for row in kb or [] for b in row]  # under an offer


async def test_block_command_lists_recent_contacts_and_unblock_lists_the_blocked(h) -> None:
    cleo, fran = await pair(h)
    stranger = await person(h, "Sam", "freelancer")
    _, pitch_id = await pitched(h, cleo, fran)
    await h.send(cleo, "/block")
    assert "Whom do you want to block?" in h.last(cleo).text
    assert h.last(cleo).labels() == ["🚫 Fran"]  # Sam never dealt with Cleo
    await h.press(cleo, "🚫 Fran")
    await h.press(cleo, "🚫 Yes, block")
    await h.send(cleo, "/block")
    assert "nobody to block" in h.last(cleo).text  # Fran is blocked already

    await h.send(cleo, f"/block {stranger.id}")  # an id one never dealt with
    assert h.last(cleo).text == "There is no such user."
    await h.send(cleo, f"/block {cleo.id}")
    assert h.last(cleo).text == "You cannot block yourself."
    ada = await admin(h)
    await h.send(ada, f"/block {stranger.id}")  # an admin may name anyone
    assert "Block Sam?" in h.last(ada).text

    await h.send(cleo, "/unblock")
    assert "You have blocked 1 person" in h.last(cleo).text
    await h.press(cleo, "↩️ Fran")
    assert "Fran is unblocked" in h.last(cleo).text and await blocks(h) == []
    await h.send(cleo, "/unblock")
    assert h.last(cleo).text == "You have not blocked anyone."
    await h.press_data(cleo, f"msg:write_pitch:{pitch_id}")  # contact works again
    assert "Write to Fran" in h.last(cleo).text


# --- every kind of contact, both directions ---------------------------------------------


@pytest.mark.parametrize("blocker", ["client", "freelancer"])
async def test_no_messages_either_way_before_a_contract(h, blocker) -> None:
    cleo, fran = await pair(h)
    _, pitch_id = await pitched(h, cleo, fran)
    await h.press_data(cleo, f"msg:write_pitch:{pitch_id}")
    await h.send(cleo, "Hello there, Fran")
    await h.press(fran, "↩️ Reply")  # Fran's compose is open before the block
    b, other = who_blocks(blocker, cleo, fran)
    await block(h, b, other)
    async with h.db.uow() as uow:
        before = await uow.messages.count()

    await h.send(fran, "My answer")  # the open compose is refused too
    assert h.last(fran).text == refusal_for(fran, b)
    await h.press(fran, "↩️ Reply")
    assert h.last_answer(fran).text == refusal_for(fran, b)
    await h.press_data(cleo, f"msg:write_pitch:{pitch_id}")
    assert h.last_answer(cleo).text == refusal_for(cleo, b)
    async with h.db.uow() as uow:
        assert await uow.messages.count() == before


@pytest.mark.parametrize("blocker", ["client", "freelancer"])
async def test_no_pitches_offers_or_invitations_either_way(h, blocker) -> None:
    cleo, fran = await pair(h)
    invited_job = await open_job(h, cleo, "Invited job")
    pitched_job, _ = await pitched(h, cleo, fran)
    other_job = await open_job(h, cleo, "A third job")
    async with h.db.uow() as uow:
        await uow.invitations.add(
            Invitation(job_id=invited_job, client_id=cleo.id, freelancer_id=fran.id)
        )
        await uow.commit()
    async with h.db.uow() as uow:  # Fran would be a candidate to invite
        await uow.profiles.add(FreelancerProfile(user_id=fran.id, skills=["python"]))
        await uow.commit()
        _, candidates = await queries.invite_candidates(uow, cleo.id, other_job)
        assert fran.id in {u.id for u, _ in candidates}
    pending = await deal(h, cleo, fran, accept=False, title="Offered before the block")
    b, other = who_blocks(blocker, cleo, fran)
    await block(h, b, other)

    # Pitches: an invitation from before the block does not open the door.
    await h.press_data(fran, f"pitch:start:{invited_job}")
    assert h.last_answer(fran).text == refusal_for(fran, b)
    # An open job of the other one is off the market for Fran: as if it did not exist.
    await h.press_data(fran, f"pitch:start:{other_job}")
    assert h.last_answer(fran).text == JOB_GONE
    async with h.db.uow() as uow:
        # Offers: a new one, and acting on one sent before the block.
        with pytest.raises(NotAllowed) as refused:
            await contracts.send_offer(
                uow, h.clock, h.config, cleo.id, pitched_job, fran.id, [MilestoneSpec("A", 1000)]
            )
        assert refused.value.code == ("you_blocked" if b == cleo else "recipient_unavailable")
        with pytest.raises(NotAllowed):
            await contracts.accept_offer(uow, h.clock, fran.id, pending.contract_id)
        with pytest.raises(NotAllowed):
            await contracts.counter_offer(
                uow, h.clock, fran.id, pending.contract_id, [MilestoneSpec("B", 900)]
            )
        # Invitations.
        with pytest.raises(NotAllowed):
            await pitches.invite_freelancer(uow, h.clock, cleo.id, other_job, fran.id)
        _, candidates = await queries.invite_candidates(uow, cleo.id, other_job)
        assert fran.id not in {u.id for u, _ in candidates}
    async with h.db.uow() as uow:  # declining the old offer is still possible
        declined = await contracts.decline_offer(uow, h.clock, fran.id, pending.contract_id)
        assert declined.status is ContractStatus.DECLINED
        await uow.commit()


@pytest.mark.parametrize("blocker", ["client", "freelancer"])
async def test_browse_search_and_job_cards_hide_the_other_ones_jobs(h, blocker) -> None:
    cleo, fran = await pair(h)
    carl = await person(h, "Carl", "client")
    await pitched(h, cleo, fran)  # they dealt with each other once
    hidden = await open_job(h, cleo, "Cleo's telegram bot")
    shown = await open_job(h, carl, "Carl's telegram bot")
    b, other = who_blocks(blocker, cleo, fran)
    await block(h, b, other)

    await h.send(fran, "/jobs")
    page = h.last(fran)
    assert "Carl's telegram bot" in page.text and "Cleo's" not in page.text
    await h.send(fran, "/jobs telegram")
    assert "Carl's" in h.last(fran).text and "Cleo's" not in h.last(fran).text
    await h.press_data(fran, f"open:show_job:{hidden}")
    got_hidden = (h.last_answer(fran).text, h.last(fran).text)
    await h.press_data(fran, "open:show_job:987654")  # an id no job has
    assert got_hidden == (h.last_answer(fran).text, h.last(fran).text)
    assert "Cleo's" not in got_hidden[1]
    await h.press_data(fran, f"open:show_job:{shown}")
    assert "Carl's telegram bot" in h.last(fran).text
    async with h.db.uow() as uow:
        found, total = await queries.browse_jobs(uow, fran.id, JobQuery(limit=10))
        assert [j.id for j in found] == [shown] and total == 1
        # Everyone else still sees Cleo's job.
        found, _ = await queries.browse_jobs(uow, carl.id, JobQuery(limit=10))
        assert hidden in {j.id for j in found}


@pytest.mark.parametrize("blocker", ["client", "freelancer"])
async def test_alerts_and_digests_skip_the_jobs_between_them(h, blocker) -> None:
    cleo, fran = await pair(h)
    sven = await person(h, "Sven", "freelancer")
    await pitched(h, cleo, fran)
    async with h.db.uow() as uow:
        for who in (fran, sven):
            for mode in ("instant", "daily"):
                await uow.subscriptions.add(
                    AlertSubscription(
                        user_id=who.id, skills=["python"], mode=mode, created_at=h.clock.now()
                    )
                )
        await uow.commit()
    b, other = who_blocks(blocker, cleo, fran)
    await block(h, b, other)
    h.clock.advance(minutes=1)  # published after the subscriptions were made
    async with h.db.uow() as uow:
        fields = jobs.JobFields(
            title="A python job",
            description="Scripts in Python for a small shop.",
            skills=("python",),
        )
        job = await jobs.post_job(uow, h.clock, h.config, cleo.id, fields)
        await jobs.publish_job(uow, h.clock, cleo.id, job.id)
        alerted = [u for e in uow.events if isinstance(e, JobAlert) for u in e.user_ids]
        assert alerted == [sven.id]  # the instant alert: none for Fran
        assert await jobs.interested_users(uow, job, "instant") == [sven.id]
        job_id = job.id
        await uow.commit()
    h.clock.advance(days=1, minutes=1)
    async with h.db.uow() as uow:
        digest = await alerts.daily_digest(uow, h.clock, h.config)
    assert digest == {sven.id: [job_id]}


@pytest.mark.parametrize("blocker", ["client", "freelancer"])
async def test_a_running_contract_goes_on_with_messages_through_the_admins(h, blocker) -> None:
    cleo, fran = await pair(h)
    d = await deal(h, cleo, fran)
    b, other = who_blocks(blocker, cleo, fran)
    await block(h, b, other)
    refused = "Messages on this contract go through the admins now"
    for who in (cleo, fran):
        await h.press_data(who, f"msg:write:{d.contract_id}")
        assert refused in h.last_answer(who).text
    await fund(h, cleo, d.milestones[0])  # the contract itself goes on
    async with h.db.uow() as uow:
        assert (await uow.milestones.get(d.milestones[0])).status is MilestoneStatus.FUNDED
        assert (await uow.contracts.get(d.contract_id)).status is ContractStatus.ACTIVE
        assert await uow.messages.count(contract_id=d.contract_id) == 0
    await h.send(b, f"/report user {other.id}")  # the way to the admins
    assert "What is wrong with" in h.last(b).text


async def test_the_rule_is_one_function_for_every_path(h) -> None:
    """The domain's require_contact is what the paths above ran into."""
    cleo, fran = await pair(h)
    await pitched(h, cleo, fran)
    await block(h, cleo, fran)
    async with h.db.uow() as uow:
        assert await blocking.is_blocked(uow, fran.id, cleo.id)
        with pytest.raises(NotAllowed) as mine:
            await blocking.require_contact(uow, cleo.id, fran.id)
        with pytest.raises(NotAllowed) as theirs:
            await blocking.require_contact(uow, fran.id, cleo.id)
        with pytest.raises(NotFound):
            await blocking.blockable(uow, h.config, fran.id, ADMIN_ID + 12345)
    assert (mine.value.code, theirs.value.code) == ("you_blocked", "recipient_unavailable")
    assert isinstance(Job, type) and JobStatus.OPEN
