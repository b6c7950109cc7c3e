"""My jobs: the client's list, the ranked pitches with reputation, per-pitch
actions (shortlist, decline with a notification, message, hire), and inviting
matching freelancers (notified with a Pitch button)."""

from __future__ import annotations

from domain.entities import Contract, FreelancerProfile, Pitch, Review
from domain.states import ContractStatus, PitchStatus, ReviewStatus
from domain.usecases import pitches
from tests.flows.harness import Harness, Person
from tests.flows.test_post_job import client, freelancer, jobs_in, post_job, snapshot

STALE = "This button is no longer available."
LETTER = 'I have drawn forty logos for cafés; <b>see</b> my portfolio & 🎨 "quotes".'


async def pitch(h: Harness, who: Person, job_id: int, price: int, days: int = 5) -> int:
    """A pitch through the pitch use case (the pitch flow is someone else's)."""
    async with h.db.uow() as uow:
        fields = pitches.PitchFields(LETTER, price, days)
        made = await pitches.submit_pitch(uow, h.clock, h.config, who.id, job_id, fields)
        await uow.commit()
        assert made.id is not None
        return made.id


async def profile(h: Harness, who: Person, skills: list[str], headline: str = "") -> None:
    async with h.db.uow() as uow:
        await uow.profiles.add(
            FreelancerProfile(user_id=who.id, headline=headline, skills=skills, category="design")
        )
        await uow.commit()


async def pitches_in(db) -> list[Pitch]:
    async with db.uow() as uow:
        return [snapshot(p) for p in await uow.pitches.find()]


async def setup(h: Harness) -> tuple[Person, int, Person, Person]:
    carol = await client(h)
    await post_job(h, carol)
    [job] = await jobs_in(h.db)
    assert job.id is not None
    fred = await freelancer(h, "Fred <b>")
    gina = await freelancer(h, "Gina 🎨")
    return carol, job.id, fred, gina


async def test_my_jobs_lists_jobs_with_pitch_counts(h, db):
    carol, job_id, fred, gina = await setup(h)
    await post_job(h, carol, title="Second job, no pitches")
    await pitch(h, fred, job_id, 45000)
    await pitch(h, gina, job_id, 52000)
    await h.send(carol, "/myjobs")
    listing = h.last(carol)
    assert "My jobs (2)" in listing.text
    assert listing.labels() == [
        "🟢 Second job, no pitches · 0 ✋",
        "🟢 Logo for a coffee shop · 2 ✋",
        "➕ Post a job",
    ]
    await h.press(carol, "🟢 Logo for a coffee shop · 2 ✋")
    assert "Logo for a coffee shop" in h.last(carol).text
    assert h.last(carol).labels()[0] == "✋ Pitches (2)"


async def test_my_jobs_pages_and_empty_list_and_roles(h, db):
    carol = await client(h)
    await h.send(carol, "/myjobs")
    assert "not posted any jobs" in h.last(carol).text
    assert h.last(carol).labels() == ["➕ Post a job"]
    for n in range(8):
        await post_job(h, carol, title=f"Job number {n}")
    await h.send(carol, "/myjobs")
    first = h.last(carol)
    assert "Job number 7" in first.labels()[0] and "Next ›" in first.labels()
    await h.press(carol, "Next ›")
    assert first.edits == 1 and "Job number 1" in first.labels()[0]
    fred = await freelancer(h)
    await h.send(fred, "/myjobs")
    assert "Only clients can do this." in h.last(fred).text


async def test_pitches_ranked_with_reputation_and_badges(h, db, clock):
    carol, job_id, fred, gina = await setup(h)
    await profile(h, gina, ["logo-design"], headline="Logo <designer> & illustrator")
    await pitch(h, fred, job_id, 90000)  # pricey, no skills on record
    await pitch(h, gina, job_id, 50000)
    async with db.uow() as uow:  # Gina has five-star reviews from past work
        for _ in range(3):
            past = await uow.contracts.add(
                Contract(
                    job_id=job_id,
                    client_id=carol.id,
                    freelancer_id=gina.id,
                    status=ContractStatus.ENDED,
                )
            )
            await uow.reviews.add(
                Review(
                    contract_id=past.id,
                    reviewer_id=carol.id,
                    reviewee_id=gina.id,
                    rating=5,
                    status=ReviewStatus.REVEALED,
                )
            )
        await uow.commit()
    await h.send(carol, "/myjobs")
    await h.press(carol, "🟢 Logo for a coffee shop · 2 ✋")
    await h.press(carol, "✋ Pitches (2)")
    ranked = h.last(carol)
    assert "Pitches on “Logo for a coffee shop”: 2" in ranked.text
    assert ranked.labels()[:2] == ["1. Gina 🎨", "2. Fred <b>"]
    # Issue 14's rule: her three synthetic contracts delivered nothing (no milestone
    # released), which the score now counts against her.
    assert "⭐ 5.0 (3)" in ranked.text and "score 71/100" in ranked.text
    # Fred has no completed contract: no number (issue 11, item 14).
    assert "New — no score yet" in ranked.text

    await h.press(carol, "1. Gina 🎨")
    view = h.last(carol)
    assert LETTER in view.text and "$500.00" in view.text and "5 days" in view.text
    assert "Logo <designer> & illustrator" in view.text and "Logo design" in view.text
    assert "<b>see</b>" not in view.html  # the cover letter is escaped
    assert view.labels() == [
        "⭐ Shortlist",
        "✖️ Decline",
        "💬 Message",
        "🤝 Hire",
        "👤 Full profile",
        "‹ Pitches",
        "🚫 Block",
    ]
    assert view.button("🤝 Hire")["data"].startswith("of:hire:")
    assert view.button("💬 Message")["data"].startswith("msg:write_pitch:")


async def test_shortlist_and_decline_notify_the_freelancer(h, db):
    carol, job_id, fred, gina = await setup(h)
    fred_pitch = await pitch(h, fred, job_id, 45000)
    await pitch(h, gina, job_id, 47000)
    await h.press_data(carol, f"mj:pitch:{fred_pitch}")
    await h.press(carol, "⭐ Shortlist")
    assert h.last_answer(carol).text == "Shortlisted"
    assert "shortlisted your pitch" in h.last(fred).text
    assert h.last(carol).labels()[0] == "✖️ Decline"  # no second Shortlist
    await h.press(carol, "✖️ Decline")
    assert h.last_answer(carol).text == "Declined; the freelancer is told"
    note = h.last(fred)
    assert "Your pitch on “Logo for a coffee shop” was declined" in note.text
    assert note.labels() == ["🔎 Browse jobs"]
    statuses = {p.freelancer_id: p.status for p in await pitches_in(db)}
    assert statuses == {fred.id: PitchStatus.DECLINED, gina.id: PitchStatus.PENDING}
    # The same buttons again: illegal now, nothing changes.
    await h.press_data(carol, f"mj:dec:{fred_pitch}")
    assert h.last_answer(carol).text == "That can't be done in the current state."
    await h.press_data(carol, f"mj:sl:{fred_pitch}")
    assert h.last_answer(carol).text == "That can't be done in the current state."


async def test_decline_in_the_freelancers_language(h, db):
    carol = await client(h)
    await post_job(h, carol)
    [job] = await jobs_in(db)
    ivan = await freelancer(h, "Иван", lang="ru")
    pid = await pitch(h, ivan, job.id, 45000)
    await h.press_data(carol, f"mj:dec:{pid}")
    assert "Ваш отклик на «Logo for a coffee shop» отклонён" in h.last(ivan).text
    assert h.last(ivan).labels() == ["🔎 Смотреть заказы"]


async def test_other_peoples_pitches_and_forged_buttons(h, db):
    carol, job_id, fred, _gina = await setup(h)
    pid = await pitch(h, fred, job_id, 45000)
    dave = await client(h, "Dave")
    for data in (f"mj:pitch:{pid}", f"mj:sl:{pid}", f"mj:dec:{pid}", f"mj:pitches:{job_id}:1"):
        await h.press_data(dave, data)
        assert h.last_answer(dave).text == "This job is not yours.", data
        await h.press_data(fred, data)  # the freelancer is not a client
        assert h.last_answer(fred).text.startswith(
            ("Only clients can do this.", "This job is not yours.")
        ), data
    for data in ("mj:pitch:999", "mj:sl:424242"):
        await h.press_data(carol, data)
        assert h.last_answer(carol).text == "This pitch no longer exists.", data
    for data in ("mj:nope:1", "mj:pitch", "mj:invy:1", f"mj:invy:{job_id}:x", "mj:"):
        await h.press_data(carol, data)
        assert h.last_answer(carol).text == STALE, data
    assert [p.status for p in await pitches_in(db)] == [PitchStatus.PENDING]


async def test_invite_matching_freelancers(h, db):
    carol, job_id, fred, gina = await setup(h)
    await profile(h, fred, ["logo-design", "branding"], headline="Brand <identity> & logos")
    await profile(h, gina, ["python"])  # no shared skill, but the same category
    ivan = await freelancer(h, "Ivan")
    await profile(h, ivan, [])
    async with db.uow() as uow:  # Ivan's profile is in another category
        (await uow.profiles.get(ivan.id)).category = "writing"
        await uow.commit()
    await h.press_data(carol, f"mj:job:{job_id}")
    await h.press(carol, "📨 Invite")
    candidates = h.last(carol)
    assert "Brand <identity> & logos" in candidates.text
    assert candidates.labels() == ["📨 Invite Fred <b>", "📨 Invite Gina 🎨", "‹ Job"]
    await h.press(carol, "📨 Invite Fred <b>")
    assert h.last_answer(carol).text == "Invitation sent"
    assert h.last(carol).labels() == ["📨 Invite Gina 🎨", "‹ Job"]
    note = h.last(fred)
    assert "Carol invites you to pitch on “Logo for a coffee shop”" in note.text
    assert note.labels() == ["✋ Pitch", "💼 Open job"]
    assert note.button("✋ Pitch")["data"] == f"pitch:start:{job_id}"
    async with db.uow() as uow:
        assert await uow.invitations.count(job_id=job_id, freelancer_id=fred.id) == 1
    # Invited twice, a client, oneself: refused without a second row.
    await h.press_data(carol, f"mj:invy:{job_id}:{fred.id}")
    assert h.last_answer(carol).text == "This freelancer is already invited."
    await h.press_data(carol, f"mj:invy:{job_id}:{carol.id}")
    assert h.last_answer(carol).text == "You can't do that on your own job."
    dave = await client(h, "Dave")
    await h.press_data(carol, f"mj:invy:{job_id}:{dave.id}")
    assert "Only freelancers" in h.last_answer(carol).text
    await h.press_data(dave, f"mj:invy:{job_id}:{gina.id}")
    assert h.last_answer(dave).text == "This job is not yours."
    async with db.uow() as uow:
        assert [i.freelancer_id for i in await uow.invitations.find()] == [fred.id]
    # Invited but not pitched yet: the pitches page offers to hire Fred directly.
    await h.press_data(carol, f"mj:pitches:{job_id}:1")
    page = h.last(carol)
    assert "Invited, no pitch yet" in page.text and "Fred <b>" in page.text
    assert page.button("🤝 Hire Fred <b>")["data"] == f"of:hire_invited:{job_id}:{fred.id}"


async def test_an_invited_pitch_is_free_and_marked(h, db, config):
    carol, job_id, fred, gina = await setup(h)
    await profile(h, fred, ["logo-design"])
    await h.press_data(carol, f"mj:invy:{job_id}:{fred.id}")
    await pitch(h, fred, job_id, 45000)
    [made] = await pitches_in(db)
    assert made.invited
    await h.press_data(carol, f"mj:pitches:{job_id}:1")
    assert "📨 invited" in h.last(carol).text
    await pitch(h, gina, job_id, 45000)  # once pitched, no longer a candidate to invite
    await h.press_data(carol, f"mj:invy:{job_id}:{gina.id}")
    assert h.last_answer(carol).text == "This freelancer has already pitched on the job."


async def test_closing_tells_waiting_freelancers_and_hides_hire(h, db):
    carol, job_id, fred, gina = await setup(h)
    fred_pitch = await pitch(h, fred, job_id, 45000)
    gina_pitch = await pitch(h, gina, job_id, 45000)
    await h.press_data(carol, f"mj:dec:{gina_pitch}")
    await h.press_data(carol, f"mj:close:{job_id}")
    await h.press(carol, "Yes, close it")
    assert "closed the job" in h.last(fred).text
    assert "closed the job" not in h.last(gina).text  # declined already: told once
    await h.press_data(carol, f"mj:pitch:{fred_pitch}")
    assert "🤝 Hire" not in h.last(carol).labels()
    await h.press_data(carol, f"mj:inv:{job_id}")
    assert h.last_answer(carol).text == "This job is not open."


async def test_duplicate_decline_update_has_one_effect(h, db):
    carol, job_id, fred, _gina = await setup(h)
    pid = await pitch(h, fred, job_id, 45000)
    before = len(h.chat(fred))
    await h.press_data(carol, f"mj:dec:{pid}", update_id=5555)
    again = await h.press_data(carol, f"mj:dec:{pid}", update_id=5555)
    assert again.duplicate
    assert len(h.chat(fred)) == before + 1
