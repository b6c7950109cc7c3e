"""A partial release taken back, in the sandbox's web chat, in headless Chromium, in
English and Russian: Clara offers part of Felix's submitted milestone from its
review, sees the offer's deadline with ↩️ Take the offer back, takes it back; Felix
sees the offer (with its deadline) and then that it was taken back. Pictures of both
columns go to tests/artifacts/ (kept by CI)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Runtime
from domain.entities import Contract, Job, Milestone, Submission
from domain.ports import UnitOfWork
from domain.states import ContractStatus, JobStatus, MilestoneStatus
from tests.browser.test_webchat import (
    ARTIFACTS,
    CLARA,
    FELIX,
    button,
    chat_page,
    column,
    running_sandbox,
    send,
    snap,
    with_people,
)

WORDS = {
    "en": {
        "review": "Review #1",
        "part": "Release part",
        "send_offer": "Send the offer",
        "take_back": "Take the offer back",
        "taken_back": "You took back",
        "told": "took back the partial release",
        "offered": "Only the logo was delivered",
    },
    "ru": {
        "review": "Проверить №1",
        "part": "Выплатить часть",
        "send_offer": "Отправить предложение",
        "take_back": "Отозвать предложение",
        "taken_back": "Вы отозвали",
        "told": "отозвал(а) предложение",
        "offered": "Only the logo was delivered",
    },
}


async def submitted_work(runtime: Runtime, lang: str) -> None:
    """Clara's active contract with Felix, its milestone submitted for review (the
    state the screens start from; no money moves in what follows)."""

    async def setup(uow: UnitOfWork) -> None:
        now = runtime.clock.now()
        job = await uow.jobs.add(Job(client_id=CLARA, title="Bakery logo", status=JobStatus.CLOSED))
        contract = await uow.contracts.add(
            Contract(
                job_id=job.id,
                client_id=CLARA,
                freelancer_id=FELIX,
                title="Bakery logo",
                client_fee_bp=500,
                freelancer_fee_bp=1000,
                status=ContractStatus.ACTIVE,
                accepted_at=now,
            )
        )
        milestone = await uow.milestones.add(
            Milestone(
                contract_id=contract.id,  # type: ignore[arg-type]
                title="Logo and landing page",
                amount=10_000,
                status=MilestoneStatus.SUBMITTED,
                funded_at=now,
                submitted_at=now,
                auto_release_at=now + timedelta(days=14),
            )
        )
        await uow.submissions.add(
            Submission(
                milestone_id=milestone.id,  # type: ignore[arg-type]
                freelancer_id=FELIX,
                message="Here are the logo and the page.",
                created_at=now,
            )
        )

    people = ((CLARA, "Clara", "client"), (FELIX, "Felix", "freelancer"))
    await with_people(runtime, lang, people, setup)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_clara_takes_a_partial_release_back(browser, tmp_path: Path, lang: str):
    from playwright.async_api import expect

    w = WORDS[lang]
    tail = "" if lang == "en" else "-ru"
    async with running_sandbox(tmp_path / "partial.db") as runtime:
        await submitted_work(runtime, lang)
        async with chat_page(browser, runtime.url, f"partial-failure{tail}") as page:
            clara, felix = column(page, "Clara"), column(page, "Felix")
            last = clara.locator(".msg.in").last
            await send(clara, "/contracts")
            await button(clara, re.compile("Bakery logo")).click()
            await button(clara, re.compile(w["review"])).click()
            await button(clara, re.compile(w["part"])).click()
            await expect(last).to_contain_text("$100.00")
            seen = await clara.locator(".msg.in").count()
            await send(clara, "60")  # the amount: the reason is asked next
            await expect(clara.locator(".msg.in")).to_have_count(seen + 1)
            await send(clara, w["offered"])
            await expect(button(clara, re.compile(w["send_offer"]))).to_be_visible()
            await button(clara, re.compile(w["send_offer"])).click()
            await expect(button(clara, re.compile(w["take_back"]))).to_be_visible()
            await snap(last, ARTIFACTS / f"partial-sent{tail}.png")
            offer = felix.locator(".msg.in", has_text=w["offered"]).last
            await expect(offer).to_contain_text("$54.00")  # $60 less 10 %
            await snap(offer, ARTIFACTS / f"partial-offer{tail}.png")

            await button(clara, re.compile(w["take_back"])).click()
            await expect(last).to_contain_text(w["taken_back"])
            await snap(last, ARTIFACTS / f"partial-taken-back{tail}.png")
            told = felix.locator(".msg.in").last
            await expect(told).to_contain_text(w["told"])
            await snap(told, ARTIFACTS / f"partial-taken-back-felix{tail}.png")
