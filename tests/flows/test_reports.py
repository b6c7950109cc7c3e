"""Reporting a job or a user to the admins."""

from __future__ import annotations

from tests.flows.conftest import ADMIN_ID
from tests.flows.test_start_menu import make_job


async def open_reports(db) -> list[tuple[int, str, int, str, str]]:
    async with db.uow() as uow:
        return [
            (r.reporter_id, r.target_type, r.target_id, r.reason, r.status)
            for r in await uow.reports.find()
        ]


async def test_report_a_job_from_its_card(h, db, clock):
    job_id = await make_job(db, clock)
    admin = h.person("Admin", lang="ru", id=ADMIN_ID)
    await h.send(admin, "/start")
    fred = h.person("Fred <i>")
    await h.send(fred, f"/start job_{job_id}")
    await h.press(fred, "🚩 Report")
    assert "What is wrong with the job “Logo <design> & more”" in h.last(fred).text
    await h.send(fred, "Scam: asks to pay <outside> & 🙄")
    assert h.last(fred).text == "✅ Thank you — the admins have your report."
    assert await open_reports(db) == [
        (fred.id, "job", job_id, "Scam: asks to pay <outside> & 🙄", "open")
    ]

    note = h.last(admin)  # in the admin's language, user text escaped
    assert "Жалоба №1" in note.text and "Fred <i>" in note.text and "<outside> & 🙄" in note.text
    assert note.labels() == ["💼 Открыть заказ", "🔎 Подробнее", "✅ Закрыть жалобу"]
    await h.press(admin, "💼 Открыть заказ")
    assert "Logo <design> & more" in h.last(admin).text
    await h.press(admin, "✅ Закрыть жалобу")  # the admin flow's close: audited
    assert h.last_answer(admin).text == "Жалоба закрыта"
    assert (await open_reports(db))[0][4] == "closed"
    assert await audit_rows(db) == [(ADMIN_ID, "close_report", "report:1")]
    assert note.edits == 1  # the notice became the report's admin view
    await h.press_data(admin, "adm:close_report:1")  # closing twice is refused, not re-audited
    assert h.last_answer(admin).text == "Эта жалоба уже закрыта."
    assert len(await audit_rows(db)) == 1


async def test_report_a_user_by_command_and_every_admin_hears(h, db, config):
    admins = sorted(config.admin_ids)
    eve = h.person("Eve")
    await h.send(eve, "/start")
    bob = h.person("Bob")
    await h.send(bob, f"/report user {eve.id}")
    assert "What is wrong with Eve?" in h.last(bob).text
    await h.send(bob, "x")  # too short: refused, state kept
    assert "at least 5 characters" in h.last(bob).text
    await h.send(bob, "y" * 10_000)  # too long: refused
    assert "at most 1000 characters" in h.last(bob).text
    await h.send(bob, "Spams me with links")
    assert await open_reports(db) == [(bob.id, "user", eve.id, "Spams me with links", "open")]
    for admin_id in admins:
        assert "Report #1" in h.last(admin_id).text and "Spams me" in h.last(admin_id).text
        assert h.last(admin_id).labels() == ["🔎 Details", "✅ Close report"]
        assert h.last(admin_id).button("✅ Close report")["data"] == "adm:close_report:1"  # type: ignore[index]


async def test_a_second_open_report_on_the_same_target_is_refused(h, db):
    eve = h.person("Eve")
    await h.send(eve, "/start")
    bob = h.person("Bob")
    for _ in range(2):
        await h.send(bob, f"/report user {eve.id}")
        await h.send(bob, "Spams me with links")
    assert "already reported" in h.last(bob).text
    assert len(await open_reports(db)) == 1


async def test_cannot_report_oneself_or_a_missing_target(h, db, clock):
    bob = h.person("Bob")
    own = await make_job(db, clock, client_id=bob.id)
    await h.send(bob, f"/report user {bob.id}")
    assert "can't report yourself" in h.last(bob).text
    await h.press_data(bob, f"report:job:{own}")
    assert "can't report yourself" in h.last_answer(bob).text
    await h.press_data(bob, "report:job:424242")
    assert h.last_answer(bob).text == "This job no longer exists."
    await h.send(bob, "/report nonsense")
    assert "/report job" in h.last(bob).text
    assert await open_reports(db) == []


async def test_cancel_and_files(h, db):
    eve = h.person("Eve")
    await h.send(eve, "/start")
    bob = h.person("Bob")
    await h.send(bob, f"/report user {eve.id}")
    question = h.last(bob)
    await h.upload(bob, "photo-1")
    assert "describe the problem in text" in h.last(bob).text
    await h.press(bob, "✖️ Cancel")
    assert question.text == "Report cancelled." and question.buttons is None
    await h.send(bob, "Spams me with links")
    assert "didn't get that" in h.last(bob).text
    assert await open_reports(db) == []


async def test_only_admins_close_reports(h, db):
    eve, bob = h.person("Eve"), h.person("Bob")
    await h.send(eve, "/start")
    await h.send(bob, f"/report user {eve.id}")
    await h.send(bob, "Spams me with links")
    for data in ("report:close:1", "adm:close_report:1"):
        await h.press_data(eve, data)
        assert h.last_answer(eve).text == "Only an admin can do this."
    assert (await open_reports(db))[0][4] == "open"


async def test_an_old_close_button_uses_the_audited_use_case(h, db):
    eve, bob = h.person("Eve"), h.person("Bob")
    admin = h.person("Admin", id=ADMIN_ID)
    await h.send(eve, "/start")
    await h.send(bob, f"/report user {eve.id}")
    await h.send(bob, "Spams me with links")
    await h.press_data(admin, "report:close:1")  # a notice sent before the change
    assert h.last_answer(admin).text == "Report closed."
    assert (await open_reports(db))[0][4] == "closed"
    assert await audit_rows(db) == [(ADMIN_ID, "close_report", "report:1")]
    await h.press_data(admin, "report:close:1")
    assert h.last_answer(admin).text == "This report is already closed."


async def audit_rows(db) -> list[tuple[int, str, str]]:
    async with db.uow() as uow:
        return [(a.admin_id, a.action, a.target) for a in await uow.audit.find(order_by="id")]
