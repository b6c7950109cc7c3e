"""Submit work (FLOWS 10) and review it (FLOWS 16): message and files, changes
requested and resubmitted, approve & release with a confirmation first."""

from __future__ import annotations

import pytest

from domain import ledger
from domain.states import MilestoneStatus
from handlers.callbacks import encode
from handlers.events import IncomingFile
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    HOSTILE,
    all_of,
    deal,
    fund,
    join_as,
    label,
    milestones,
    money_harness,
)


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def funded_deal(h: Harness, **kw: object) -> tuple[Person, Person, int, int]:
    carla, fred, cid, [mid] = await deal(h, **kw)  # type: ignore[arg-type]
    await fund(h, carla, mid)
    return carla, fred, cid, mid


async def submit(h: Harness, fred: Person, mid: int, message: str, files: int = 0) -> None:
    await h.press_data(fred, encode("wk", "submit", mid))
    await h.send(fred, message)
    for k in range(files):
        await h.upload(fred, f"file-{k}")
    await h.press(fred, label("work.btn.send", fred.language_code or "en"))


def before_settled(h: Harness, who: Person) -> str:
    """The news of the money: the message just before the offer to end the contract
    that follows once its only milestone is settled."""
    *_, news, offer = h.chat(who)
    assert offer.button(label("contracts.btn.end_and_rate", who.language_code or "en"))
    return news.text


async def wallet(h: Harness, user: Person) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.freelancer_account(user.id))


async def status(h: Harness, cid: int) -> MilestoneStatus:
    return (await milestones(h, cid))[0].status


async def test_submit_review_changes_resubmit_approve_release(h):
    carla, fred, cid, _ = await funded_deal(h)
    await h.press(fred, label("funding.btn.submit"))
    assert "Submit work" in h.last(fred).text
    await h.send(fred, HOSTILE)
    await h.upload(fred, IncomingFile("doc-1", "document", "spec.pdf"))
    await h.upload(fred, IncomingFile("photo-1", "photo"), caption="Screenshot <b>v1</b>")
    assert "files: 2" in h.last(fred).text
    await h.press(fred, label("work.btn.send"))
    assert await status(h, cid) is MilestoneStatus.SUBMITTED
    assert "released automatically on 2026-01-19" in h.last(fred).text

    # Each file goes back the way Telegram accepts it: a photo by sendPhoto.
    files = [(m.file_id, m.media) for m in h.chat(carla) if m.file_id]
    assert files == [("doc-1", "document"), ("photo-1", "photo")]
    review = h.last(carla)
    assert "submitted work for “Part 1”" in review.text
    assert "Screenshot <b>v1</b>" in review.text  # the caption joined the message, escaped
    assert HOSTILE in review.text  # and did not replace the text typed before it
    assert "&lt;b&gt;v1" in review.html
    assert review.labels()[:2] == [label("work.btn.approve"), label("work.btn.changes")]
    [sub] = await all_of(h, "submissions")
    assert sub.files == ["doc-1", "photo:photo-1"]  # the kind is kept with the id

    await h.press(carla, label("work.btn.changes"))
    await h.send(carla, "Please fix the <header> & footer 🙏")
    assert await status(h, cid) is MilestoneStatus.CHANGES_REQUESTED
    note = h.last(fred)
    assert "asks for changes" in note.text and "fix the <header> & footer 🙏" in note.text
    await h.press(fred, label("work.btn.resubmit"))
    await h.send(fred, "Fixed.")
    await h.press(fred, label("work.btn.send"))
    assert await status(h, cid) is MilestoneStatus.SUBMITTED

    await h.press(carla, label("work.btn.approve"))
    ask = h.last(carla).text
    assert "Release $100.00" in ask and "receives $90.00 (after the 10% fee)" in ask
    assert await wallet(h, fred) == 0  # nothing moves before the confirmation
    await h.press(carla, label("work.btn.release_confirm"))
    assert await status(h, cid) is MilestoneStatus.RELEASED
    assert await wallet(h, fred) == 9_000
    assert "approved “Part 1”: $90.00 is added to your balance" in before_settled(h, fred)
    assert "Released “Part 1”" in before_settled(h, carla)


async def test_release_twice_and_duplicate_updates_pay_once(h):
    carla, fred, _, mid = await funded_deal(h)
    await submit(h, fred, mid, "Done")
    await h.press_data(carla, encode("wk", "approve", mid))
    msg = h.last(carla)
    data = msg.button(label("work.btn.release_confirm"))["data"]  # type: ignore[index]
    await h.press_data(carla, data, msg.message_id, update_id=70_001)
    again = await h.press_data(carla, data, msg.message_id, update_id=70_001)
    assert again.duplicate
    await h.press_data(carla, data, msg.message_id)  # a second real tap
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]
    assert await wallet(h, fred) == 9_000
    assert sum("is added to your balance" in t for t in h.texts(fred)) == 1


async def test_wrong_people_and_states_are_refused(h):
    carla, fred, cid, mid = await funded_deal(h)
    mallory = h.person("Mallory")
    await join_as(h, mallory, "freelancer")
    await h.press_data(carla, encode("wk", "submit", mid))  # the client cannot submit
    assert "freelancer" in h.last_answer(carla).text.lower()  # type: ignore[union-attr]
    await h.press_data(mallory, encode("wk", "submit", mid))
    assert "not yours" in h.last_answer(mallory).text  # type: ignore[union-attr]
    await h.press_data(fred, encode("wk", "release", mid))  # the freelancer cannot release
    await h.press_data(mallory, encode("wk", "release", mid))
    await h.press_data(fred, encode("wk", "request_changes", mid))
    await h.press_data(carla, encode("wk", "request_changes", mid))  # nothing submitted yet
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]
    await h.press_data(carla, encode("wk", "send"))  # not in a submission: stale
    assert "no longer available" in h.last_answer(carla).text  # type: ignore[union-attr]
    await h.press_data(carla, encode("wk", "release", 999_999))
    assert h.last_answer(carla).show_alert  # type: ignore[union-attr]
    assert await status(h, cid) is MilestoneStatus.FUNDED
    assert await wallet(h, fred) == 0


async def test_no_submission_before_funding(h):
    _, fred, cid, [mid] = await deal(h)
    await h.press_data(fred, encode("wk", "submit", mid))
    assert "current state" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert await status(h, cid) is MilestoneStatus.PENDING


async def test_bad_submissions_and_notes_are_refused(h):
    carla, fred, cid, mid = await funded_deal(h)
    await h.press_data(fred, encode("wk", "submit", mid))
    await h.send(fred, "x" * 10_000)
    assert "at most 3000 characters" in h.last(fred).text
    await h.send(fred, " \t ")
    assert "can't be empty" in h.last(fred).text
    for k in range(10):
        await h.upload(fred, f"f{k}")
    await h.upload(fred, "one-too-many")
    assert "files: 10" in h.chat(fred)[-2].text
    assert await all_of(h, "submissions") == []
    await h.press(fred, label("btn.cancel"))
    assert "Cancelled." in h.texts(fred)  # the pressed message, edited
    await submit(h, fred, mid, "Here it is")
    await h.press(carla, label("work.btn.changes"))
    await h.upload(carla, "not-a-note")
    assert "text message" in h.last(carla).text
    await h.send(carla, "y" * 10_000)
    assert await status(h, cid) is MilestoneStatus.SUBMITTED
    await h.send(carla, "Shorter note")
    assert await status(h, cid) is MilestoneStatus.CHANGES_REQUESTED


async def test_the_client_can_see_the_submission_again_from_the_contract(h):
    carla, fred, cid, mid = await funded_deal(h)
    await submit(h, fred, mid, "The <work>", files=1)
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("contracts.btn.review", n=1))
    assert h.chat(carla)[-2].file_id == "file-0"
    assert "The <work>" in h.last(carla).text
    assert label("work.btn.approve") in h.last(carla).labels()


async def test_early_release_of_a_funded_milestone_in_russian(h):
    carla, fred, cid, _ = await funded_deal(h, client_lang="ru", freelancer_lang="ru")
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("contracts.btn.release", "ru", n=1))
    assert "получит $90.00 (после комиссии 10%)" in h.last(carla).text
    await h.press(carla, label("work.btn.release_confirm", "ru"))
    assert await wallet(h, fred) == 9_000
    assert "зачислено на ваш баланс" in before_settled(h, fred)


async def test_reminders_48h_and_24h_then_automatic_release(h, clock):
    carla, fred, cid, mid = await funded_deal(h, client_lang="ru")
    await submit(h, fred, mid, "Done, please review")
    seen = len(h.chat(carla))
    clock.advance(days=11)
    await h.tick()
    assert len(h.chat(carla)) == seen  # three days left: nothing yet
    clock.advance(days=1, hours=1)  # 47 h left
    await h.tick()
    first = h.last(carla)
    assert "автоматическая выплата через 47 ч (2026-01-19)" in first.text
    assert label("work.btn.approve", "ru") in first.labels()
    await h.tick()  # the same reminder is not sent twice
    assert h.last(carla) is first
    clock.advance(days=1)  # 23 h left
    await h.tick()
    assert "через 23 ч" in h.last(carla).text
    assert await wallet(h, fred) == 0
    clock.advance(hours=23)
    await h.tick()
    assert await status(h, cid) is MilestoneStatus.RELEASED
    assert await wallet(h, fred) == 9_000
    assert "released to your balance automatically" in before_settled(h, fred)
    assert "автоматически выплачено" in before_settled(h, carla)
    # The reminder's Approve button now finds nothing to release.
    await h.press(carla, label("work.btn.approve", "ru"))
    assert h.last_answer(carla).show_alert  # type: ignore[union-attr]
    await h.press_data(carla, encode("wk", "release", mid))
    assert h.last_answer(carla).show_alert  # type: ignore[union-attr]
    assert await wallet(h, fred) == 9_000


async def test_changes_requested_stops_the_release_clock(h, clock):
    carla, fred, cid, mid = await funded_deal(h)
    await submit(h, fred, mid, "v1")
    await h.press(carla, label("work.btn.changes"))
    await h.send(carla, "More contrast")
    clock.advance(days=30)
    await h.tick()
    assert await status(h, cid) is MilestoneStatus.CHANGES_REQUESTED
    assert await wallet(h, fred) == 0


# --- refund, cancel, and the other ways out of a milestone --------------------------------


async def escrow(h: Harness, mid: int) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.escrow_account(mid))


async def set_due(h: Harness, mid: int, due: object) -> None:
    async with h.db.uow() as uow:
        milestone = await uow.milestones.get(mid)
        milestone.due_date = due  # type: ignore[union-attr]
        await uow.commit()


async def test_freelancer_refunds_from_the_card_after_seeing_the_amounts(h):
    carla, fred, cid, mid = await funded_deal(h)
    funded = h.last(fred)  # the "funded" notification offers the ways out too
    assert funded.labels() == [
        label("funding.btn.submit"),
        label("contracts.btn.refund"),
        label("contracts.btn.dispute"),
        label("msg.btn.write"),
        label("contracts.btn.open"),
    ]
    await h.press_data(fred, encode("ct", "view", cid))
    await h.press(fred, label("contracts.btn.refund_n", n=1))
    ask = h.last(fred).text
    assert "Refund “Part 1” to Carla <Client> & Co" in ask
    assert "$105.00" in ask and "$100.00" in ask and "$5.00 fee" in ask
    assert await status(h, cid) is MilestoneStatus.FUNDED  # nothing moved yet
    confirm = h.last(fred)
    await h.press(fred, label("work.btn.refund_confirm"))
    assert await status(h, cid) is MilestoneStatus.REFUNDED
    assert await escrow(h, mid) == 0 and await wallet(h, fred) == 0
    assert "$105.00 goes back to Carla" in before_settled(h, fred)
    assert "Fred 🦊 refunded “Part 1”: $105.00 is on its way back" in before_settled(h, carla)
    # A second tap of the same confirmation moves nothing.
    await h.press_data(fred, encode("wk", "confirm_refund", mid), confirm.message_id)
    assert "current state" in h.last_answer(fred).text  # type: ignore[union-attr]
    assert sum("on its way back" in t for t in h.texts(carla)) == 1


async def test_client_refunds_only_an_overdue_milestone(h):
    carla, fred, cid, mid = await funded_deal(h)
    await h.press_data(carla, encode("wk", "refund", mid))
    assert h.last_answer(carla).text == label("error.refund_needs_freelancer")  # type: ignore[union-attr]
    await h.press_data(carla, encode("wk", "confirm_refund", mid))  # forged past the confirmation
    assert h.last_answer(carla).text == label("error.refund_needs_freelancer")  # type: ignore[union-attr]
    assert await status(h, cid) is MilestoneStatus.FUNDED

    await set_due(h, mid, h.clock.now().date())
    h.clock.advance(days=1, seconds=1)
    await h.press_data(carla, encode("ct", "view", cid))
    assert label("contracts.btn.refund_n", n=1) in h.last(carla).labels()
    await h.press(carla, label("contracts.btn.refund_n", n=1))
    ask = h.last(carla).text
    assert "Take back “Part 1”" in ask and "no work was submitted" in ask and "$105.00" in ask
    await h.press(carla, label("work.btn.refund_confirm"))
    assert await status(h, cid) is MilestoneStatus.REFUNDED
    assert "Carla <Client> & Co took back “Part 1” ($100.00)" in before_settled(h, fred)


async def test_no_refund_once_work_is_submitted(h):
    carla, fred, cid, mid = await funded_deal(h)
    await submit(h, fred, mid, "Done")
    review = h.last(carla)
    assert review.labels() == [
        label("work.btn.approve"),
        label("work.btn.changes"),
        label("partial.btn.start"),  # issue 13: release part (flows/bonus.py)
        label("msg.btn.write"),
        label("contracts.btn.dispute"),
        label("contracts.btn.open"),
    ]
    await h.press_data(fred, encode("wk", "refund", mid))
    assert "current state" in h.last_answer(fred).text  # type: ignore[union-attr]
    await h.press_data(fred, encode("ct", "view", cid))
    assert h.last(fred).labels()[:2] == [
        label("contracts.btn.dispute_n", n=1),
        label("msg.btn.write"),
    ]


async def test_client_cancels_an_unfunded_milestone_after_a_confirmation(h):
    carla, fred, cid, [m1, m2] = await deal(h, amounts=("100", "50"))
    await h.press_data(fred, encode("wk", "cancel_milestone", m2))  # only the client cancels
    assert "client" in h.last_answer(fred).text.lower()  # type: ignore[union-attr]
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("contracts.btn.cancel_n", n=2))
    assert "Cancel the milestone “Part 2” ($50.00)? It is not funded" in h.last(carla).text
    await h.press(carla, label("work.btn.cancel_confirm"))
    assert [m.status for m in await milestones(h, cid)] == [
        MilestoneStatus.PENDING,
        MilestoneStatus.CANCELLED,
    ]
    assert "cancelled the unfunded milestone “Part 2” ($50.00)" in h.last(fred).text
    await h.press_data(carla, encode("wk", "confirm_cancel", m2))
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]
    # A funded milestone is not cancelled: that is a refund or a dispute.
    await fund(h, carla, m1)
    await h.press_data(carla, encode("wk", "cancel_milestone", m1))
    assert "current state" in h.last_answer(carla).text  # type: ignore[union-attr]


async def test_card_buttons_open_the_dispute_and_the_message_flows(h):
    carla, fred, cid, _ = await funded_deal(h)
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("msg.btn.write"))
    assert "Write to Fred 🦊" in h.last(carla).text
    await h.send(carla, "Any news?")
    assert "Any news?" in h.last(fred).text
    await h.press(carla, label("msg.btn.done"))
    await h.press_data(fred, encode("ct", "view", cid))
    await h.press(fred, label("contracts.btn.dispute_n", n=1))
    await h.send(fred, "The client disappeared after funding.")
    await h.press(fred, label("dsp.btn.submit"))
    assert await status(h, cid) is MilestoneStatus.DISPUTED
    await h.press_data(fred, encode("ct", "view", cid))
    card = h.last(fred)
    view = card.button(label("contracts.btn.dispute_view_n", n=1))
    assert view is not None and view["data"].startswith("dsp:view:")
    assert label("contracts.btn.refund_n", n=1) not in card.labels()


async def test_files_kept_before_photos_were_marked_still_go_out_as_documents(h):
    carla, fred, _, mid = await funded_deal(h)
    await submit(h, fred, mid, "Old row")
    async with h.db.uow() as uow:  # a submission stored before the kind was kept
        [sub] = await uow.submissions.find(milestone_id=mid)
        sub.files = ["legacy-file"]
        await uow.commit()
    await h.press_data(carla, encode("wk", "view", mid))
    [sent] = [m for m in h.chat(carla) if m.file_id == "legacy-file"]
    assert sent.media == "document"
