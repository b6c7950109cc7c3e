"""What an update costs the database (issue 16, part 3), and that the savings keep
the engine's guarantees: the user's row is written only when something shown
changed (the last-active time once a minute), a read-only step that reads nothing
more runs on the writer alone, text goes to the reader only when the user's step
may be read-only. Test steps on a router of their own."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from domain.ports import JobQuery
from domain.usecases import accounts
from handlers.context import Context
from handlers.engine import QUICK_READS
from handlers.render import esc
from handlers.routing import Router, Steps
from tests.flows.harness import Harness

router = Router()


class NoteStep(Steps, flow="note"):
    TEXT = "text"
    PEEK = "peek"


@router.command("hello", read_only=True)
async def hello(ctx: Context) -> None:
    await ctx.reply(f"Hello, {esc(ctx.user.name)}")


@router.command("look", read_only=True)
async def look(ctx: Context) -> None:
    jobs = await ctx.uow.jobs.find(limit=1)
    await ctx.reply(f"{len(jobs)} job(s)")


@router.command("find", read_only=True)
async def find(ctx: Context) -> None:
    _, total = await ctx.uow.search.search(JobQuery(text="logo"))
    await ctx.reply(f"{total} found")


@router.command("note")
async def note(ctx: Context) -> None:
    await ctx.set_state(NoteStep.TEXT, {})
    await ctx.reply("Send the note")


@router.command("peek")
async def peek(ctx: Context) -> None:
    await ctx.set_state(NoteStep.PEEK, {})
    await ctx.reply("Send a word")


@router.step(NoteStep.TEXT)
async def note_text(ctx: Context) -> None:
    await ctx.set_state(NoteStep.TEXT, {"note": ctx.text})
    await ctx.reply(f"Noted: {esc(ctx.text)}")


@router.step(NoteStep.PEEK, read_only=True)
async def peek_text(ctx: Context) -> None:
    await ctx.reply(f"Peeked: {esc(ctx.text)}")


class Statements:
    """SQL statements on the writer and on the readers, counted while `counting`.
    SQLite's BEGIN counts as one, though it runs in the same thread call as the
    transaction's first statement (storage/sqlite_driver.py)."""

    def __init__(self, db: Any) -> None:
        self.writer = self.reader = 0
        self._on = False
        sqlite = db.dialect == "sqlite"
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._writer)
        if sqlite:
            event.listen(db.engine.sync_engine, "begin", self._writer)
        if db.reader_engine is not None:
            event.listen(db.reader_engine.sync_engine, "before_cursor_execute", self._reader)
            event.listen(db.reader_engine.sync_engine, "begin", self._reader)

    def _writer(self, *args: Any) -> None:
        self.writer += self._on and not _begin_statement(args)

    def _reader(self, *args: Any) -> None:
        self.reader += self._on and not _begin_statement(args)

    @contextmanager
    def counting(self) -> Iterator[Statements]:
        self.writer = self.reader = 0
        self._on = True
        try:
            yield self
        finally:
            self._on = False


def _begin_statement(args: tuple[Any, ...]) -> bool:
    """A cursor's BEGIN (counted by the "begin" event instead)."""
    return len(args) > 2 and str(args[2]).startswith("BEGIN")


async def _send(h: Harness, seen: Statements, who: Any, text: str) -> Statements:
    """Send as Harness.send does, counting the engine's statements (not the delivery's)."""
    original = h.engine.handle

    async def counted(event: Any) -> Any:
        with seen.counting():
            return await original(event)

    h.engine.handle = counted  # type: ignore[method-assign]
    try:
        await h.send(who, text)
    finally:
        del h.engine.handle
    return seen


async def _registered_bob(h: Harness, db: Any) -> tuple[Statements, Any]:
    """Bob, registered (the writer's), and a statement counter on the database."""
    seen = Statements(db)
    bob = h.person("Bob")
    await h.send(bob, "/hello")
    return seen, bob


async def _user(db: Any, user_id: int) -> Any:
    async with db.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        await uow.commit()  # (a rollback would expire what was read)
        return user


async def test_the_users_row_is_written_only_when_something_shown_changed(any_db, clock, config):
    h = Harness(any_db, clock, config, router=router)
    alice = h.person("Alice", username="alice")
    await h.send(alice, "/hello")
    first = clock.now()
    assert (await _user(any_db, alice.id)).last_active_at == first

    clock.advance(seconds=40)  # the same minute (shown to the minute): not rewritten
    await h.send(alice, "/note")
    assert (await _user(any_db, alice.id)).last_active_at == first

    clock.advance(seconds=30)  # the next minute
    await h.send(alice, "some words")
    assert (await _user(any_db, alice.id)).last_active_at == clock.now()
    assert h.last(alice).text == "Noted: some words"

    renamed = alice.__class__(alice.id, "Alicia", "en", "alicia")  # within the minute
    clock.advance(seconds=1)
    await h.send(renamed, "/hello")
    user = await _user(any_db, alice.id)
    assert (user.name, user.username, user.last_active_at) == ("Alicia", "alicia", clock.now())
    assert h.last(alice).text == "Hello, Alicia"

    async with any_db.uow() as uow:  # she blocked the bot, then writes again
        await accounts.set_unreachable(uow, alice.id, True)
        await uow.commit()
    await h.send(renamed, "/hello")
    assert not (await _user(any_db, alice.id)).unreachable


async def test_a_read_only_step_that_reads_nothing_more_runs_on_the_writer(db, clock, config):
    h = Harness(db, clock, config, router=router)
    h.engine.strict_reads = False  # as the bot runs
    seen, bob = await _registered_bob(h, db)

    # read first: the step read nothing more than Bob and his state
    await _send(h, seen, bob, "/hello")
    assert (seen.reader, seen.writer) == (2, 4)  # BEGIN, Bob; BEGIN, claim, Bob, reply
    await _send(h, seen, bob, "/hello")  # then on the writer alone: as few as the floor's
    assert (seen.reader, seen.writer) == (0, 4)
    assert h.texts(bob)[-3:] == ["Hello, Bob"] * 3

    for _ in range(2):  # a step that reads more stays on the reader
        await _send(h, seen, bob, "/look")
        assert seen.reader == 3 and seen.writer == 4
    assert h.last(bob).text == "0 job(s)"


def _quick_engine(h: Harness, step: float) -> list[bool]:
    """As the bot runs (not strict, the writer's state known), with a timer that
    says each step on the reader took `step` seconds; the list says if the writer is
    free."""
    idle = [True]
    h.engine.strict_reads = False
    h.engine.writer_idle = lambda: idle[0]
    ticks = itertools.count(0.0, step)
    h.engine.timer = lambda: next(ticks)
    return idle


async def test_a_quick_read_only_step_runs_on_a_free_writer_never_behind_a_write(db, clock, config):
    h = Harness(db, clock, config, router=router)
    idle = _quick_engine(h, QUICK_READS / 4)
    seen, bob = await _registered_bob(h, db)

    await _send(h, seen, bob, "/look")  # read first: its reads were quick
    assert (seen.reader, seen.writer) == (3, 4)  # BEGIN, Bob, jobs; BEGIN, claim, Bob, reply
    await _send(h, seen, bob, "/look")  # then on the free writer alone
    assert (seen.reader, seen.writer) == (0, 5)  # BEGIN, claim, Bob, jobs, reply
    idle[0] = False  # a write is running: the reads go beside it, not behind it
    await _send(h, seen, bob, "/look")
    assert seen.reader == 3
    idle[0] = True
    await _send(h, seen, bob, "/look")
    assert seen.reader == 0
    assert h.texts(bob)[-4:] == ["0 job(s)"] * 4


async def test_a_slow_or_scanning_read_only_step_stays_on_the_reader(db, clock, config):
    h = Harness(db, clock, config, router=router)
    _quick_engine(h, QUICK_READS * 2)  # slow
    seen, bob = await _registered_bob(h, db)
    for _ in range(2):
        await _send(h, seen, bob, "/look")
        assert seen.reader == 3

    h = Harness(db, clock, config, router=router, first_update_id=1_000)
    _quick_engine(h, QUICK_READS / 4)  # quick, but a search scans
    for _ in range(2):
        await _send(h, seen, bob, "/find")
        assert seen.reader > 0
    assert h.last(bob).text == "0 found"


async def test_strict_mode_always_reads_first(db, clock, config):
    h = Harness(db, clock, config, router=router)
    assert h.engine.strict_reads
    seen, bob = await _registered_bob(h, db)
    for _ in range(3):
        await _send(h, seen, bob, "/hello")
        assert seen.reader == 2


async def test_text_goes_to_the_reader_only_when_the_step_may_be_read_only(db, clock, config):
    h = Harness(db, clock, config, router=router)
    h.engine.strict_reads = False
    seen = Statements(db)
    carol = h.person("Carol")
    await h.send(carol, "/note")
    await _send(h, seen, carol, "first")  # left at a writing step: no reader pass
    assert seen.reader == 0
    assert h.last(carol).text == "Noted: first"

    await h.send(carol, "/peek")
    await _send(h, seen, carol, "word")  # a read-only step: read first
    assert seen.reader > 0
    assert h.last(carol).text == "Peeked: word"


async def test_a_stale_step_hint_is_only_slower(db, clock, config):
    """Another process moved the user to a read-only step: this engine's hint says
    otherwise, so the text runs on the writer — the step found there answers."""
    h = Harness(db, clock, config, router=router)
    h.engine.strict_reads = False
    dave = h.person("Dave")
    await h.send(dave, "/note")
    async with db.uow() as uow:
        state = await uow.conversations.get(dave.id)
        state.step = NoteStep.PEEK.value
        await uow.commit()
    await h.send(dave, "hi")
    assert h.last(dave).text == "Peeked: hi"


@pytest.fixture(autouse=True)
def _router_steps() -> None:
    assert ("note", "peek") in router.read_only_steps


async def test_the_main_menu_is_built_once_for_people_alike(db, clock, config):
    """handlers/flows/menu.py keeps built menus: each person still gets the one for
    their roles and language, and a caller's copy is theirs to change."""
    from handlers.flows.menu import menu_keyboard

    h = Harness(db, clock, config)  # the application's router
    erin, fay = h.person("Erin"), h.person("Fay", lang="ru")
    for who in (erin, fay):
        await h.send(who, "/start")
        await h.press(who, h.last(who).labels()[0])  # the first role offered
    await h.send(erin, "/menu")
    await h.send(fay, "/menu")
    assert h.last(erin).labels() != h.last(fay).labels()  # English and Russian
    async with db.uow() as uow:
        user = await uow.users.get(erin.id)
        ctx = Context(h._event(erin, "command", None, command="menu"), user, uow, clock, config)
        mine = menu_keyboard(ctx)
        assert mine is not None
        mine[0][0]["text"] = "changed"
        assert menu_keyboard(ctx)[0][0]["text"] != "changed"
        user.is_client = user.is_freelancer = True  # both roles: more buttons
        assert sum(map(len, menu_keyboard(ctx))) > sum(map(len, mine))


async def test_the_help_is_built_once_for_people_alike(db, clock, config):
    """handlers/flows/menu.py keeps built help texts by language and admin."""
    from tests.flows.conftest import ADMIN_ID

    h = Harness(db, clock, config)
    gus, hana = h.person("Gus"), h.person("Hana", lang="ru")
    admin = h.person("Ada", id=ADMIN_ID)
    for who in (gus, hana, admin, gus):
        await h.send(who, "/help")
    assert h.texts(gus)[0] == h.texts(gus)[1]
    assert "Admin commands" not in h.last(gus).text
    assert "Admin commands" in h.last(admin).text
    assert h.last(hana).text != h.last(gus).text  # Russian


async def test_the_bookkeeping_of_every_update_runs_straight_on_sqlites_driver(db, clock, config):
    """storage/direct.py: the claim, the writer's check of the person and the reply
    reach SQLite without SQLAlchemy's execution machinery (no execution context),
    read first and on the writer alone, and say what they would have said."""
    h = Harness(db, clock, config, router=router)
    h.engine.strict_reads = False
    _, bob = await _registered_bob(h, db)
    seen: list[tuple[str, bool]] = []
    on = [False]

    def record(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        if on[0] and not statement.startswith("BEGIN"):
            seen.append((" ".join(statement.split()[:3]), context is None))

    async def handled(event_: Any, original: Any = h.engine.handle) -> Any:
        on[0] = True  # the engine's statements, not the delivery's
        try:
            return await original(event_)
        finally:
            on[0] = False

    h.engine.handle = handled  # type: ignore[method-assign]
    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await h.send(bob, "/hello")  # read first (the second /hello: see above)
        read_first, seen[:] = list(seen), []
        await h.send(bob, "/hello")  # on the writer alone
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        del h.engine.handle
    claim, reply = ("INSERT INTO processed_updates", True), ("INSERT INTO outbox", True)
    assert read_first == [claim, ("SELECT users.name, users.username,", True), reply]
    assert seen == [claim, ("SELECT users.id, users.name,", False), reply]  # the ORM's actor
    assert h.texts(bob)[-3:] == ["Hello, Bob"] * 3
