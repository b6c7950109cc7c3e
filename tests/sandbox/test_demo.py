"""Demo data (bot/demo.py) on a real SQLite database: what it promises is there,
made through the use cases, and seeding again adds nothing."""

from __future__ import annotations

import socket

from bot import demo
from bot.app import Runtime
from bot.config import Settings
from bot.sandbox import Emulator
from domain import taxonomy
from domain.catalog import ServiceQuery
from domain.config import MarketConfig
from domain.ports import JobQuery
from domain.states import JobStatus, PitchStatus
from storage.database import Database

CONFIG = MarketConfig()
FREELANCER_IDS = [f.id for f in demo.FREELANCERS]
CLIENT_IDS = [c.id for c in demo.CLIENTS]
JOB_COUNT = sum(len(c.jobs) for c in demo.CLIENTS)


async def counts(db: Database) -> dict[str, int]:
    async with db.uow() as uow:
        return {
            "users": await uow.users.count(),
            "profiles": await uow.profiles.count(),
            "jobs": await uow.jobs.count(),
            "pitches": await uow.pitches.count(),
            "services": await uow.services.count(),
            "subscriptions": await uow.subscriptions.count(),
            "outbox": await uow.outbox.count(),
        }


async def test_seed_gives_the_promised_data(db, clock):
    emu = Emulator()
    added = await demo.seed_data(db, clock, CONFIG, emulator=emu)
    assert added == {
        "users": 2 + len(FREELANCER_IDS) + len(CLIENT_IDS) - 1,  # Clara is a client too
        "profiles": len(FREELANCER_IDS),
        "alerts": len(demo.ALERTS),
        "jobs": JOB_COUNT,
        "pitches": len(demo.PITCHES),
        "services": len(demo.SERVICES),
    }

    async with db.uow() as uow:
        clara = await uow.users.get(demo.CLARA)
        felix = await uow.users.get(demo.FELIX)
        assert clara.is_client and not clara.is_freelancer
        assert felix.is_freelancer and not felix.is_client
        assert await uow.users.get(demo.ADA) is None  # an admin by setting, not by data

        for fid in FREELANCER_IDS:
            profile = await uow.profiles.get(fid)
            assert profile.headline and profile.bio and profile.portfolio
            assert profile.skills and all(taxonomy.is_known_skill(s) for s in profile.skills)
            assert profile.category and taxonomy.is_known_category(profile.category)
            assert isinstance(profile.hourly_rate, int) and profile.hourly_rate > 0
            assert (await uow.users.get(fid)).is_freelancer

        # Published: every demo job is open and found by browse/search.
        jobs = await uow.jobs.find()
        assert len(jobs) == JOB_COUNT
        assert all(j.status == JobStatus.OPEN and j.published_at for j in jobs)
        _, total = await uow.search.search(JobQuery(limit=20))
        assert total == JOB_COUNT
        found, _ = await uow.search.search(JobQuery(text="yoga"))
        assert {j.client_id for j in found} == {demo.CLARA}

        # Felix has a broad instant alert; Clara's job has a pitch waiting for her.
        (felix_alert,) = await uow.subscriptions.find(user_id=demo.FELIX)
        assert felix_alert.mode == "instant" and not felix_alert.paused
        assert "development" in felix_alert.categories
        clara_jobs = {j.id for j in jobs if j.client_id == demo.CLARA}
        pitches = await uow.pitches.find(job_id=list(clara_jobs))
        assert pitches and all(p.status == PitchStatus.PENDING for p in pitches)
        assert {p.freelancer_id for p in pitches} <= set(FREELANCER_IDS)

        # The pitch notification went to the outbox in Clara's chat, as for a real pitch.
        to_clara = await uow.outbox.find(chat_id=demo.CLARA)
        assert any("New pitch" in m.payload.get("text", "") for m in to_clara)

        # The demo services are in the catalogue, found by words.
        _, listed = await uow.service_search.search(ServiceQuery())
        assert listed == len(demo.SERVICES)
        (logo,), _ = await uow.service_search.search(ServiceQuery(text="logo"))
        assert logo.category == "design" and logo.min_price == 5_000

    # Everyone is an emulator user with an open chat (notifications reach them).
    for uid in [demo.CLARA, demo.FELIX, demo.ADA, *FREELANCER_IDS, *CLIENT_IDS]:
        assert uid in emu.users and emu.chats[uid].started


async def test_seeding_twice_adds_nothing(db, clock):
    await demo.seed_data(db, clock, CONFIG, emulator=Emulator())
    before = await counts(db)
    clock.advance(days=1)
    again = await demo.seed_data(db, clock, CONFIG, emulator=Emulator())
    assert set(again.values()) == {0}
    assert await counts(db) == before


async def test_a_persona_who_changed_role_keeps_it(db, clock):
    """Felix chose "both" in the chat; seeding again must not undo that."""
    from domain.usecases import accounts

    await demo.seed_data(db, clock, CONFIG)
    async with db.uow() as uow:
        await accounts.set_roles(uow, clock, demo.FELIX, client=True, freelancer=True)
        await uow.commit()
    await demo.seed_data(db, clock, CONFIG)
    async with db.uow() as uow:
        felix = await uow.users.get(demo.FELIX)
        assert felix.is_client and felix.is_freelancer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_sandbox_demo_runtime_delivers_the_seeded_pitch(tmp_path):
    """`gigbot sandbox --demo` end to end: the runtime seeds, the sender delivers the
    pitch notification to Clara's chat; a restart on the same database adds nothing."""
    port = free_port()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        send_rate=200,
        private_chat_rate=50,
    )
    said: list[str] = []
    rt = Runtime(settings, sandbox=True, demo=True, announce=said.append, polling_timeout_s=1)
    await rt.start()
    try:
        emu = rt.emulator
        assert set(FREELANCER_IDS) <= set(emu.users)
        note = await emu.wait_for_message(demo.CLARA, lambda m: "New pitch" in m["text"], 10)
        assert "yoga" in note["text"].lower()
        assert any("Demo data:" in line and "pitches" in line for line in said)
    finally:
        await rt.stop()

    db = Database(settings.database_url)
    try:
        before = await counts(db)
        rt = Runtime(settings, sandbox=True, demo=True, announce=said.append, polling_timeout_s=1)
        await rt.start()
        await rt.stop()
        after = await counts(db)
    finally:
        await db.dispose()
    assert after == before
    assert "Demo data: nothing new." in said
