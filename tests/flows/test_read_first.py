"""A read-first update whose person changed between the reader's snapshot and the
writer (handlers/engine.py: Engine._read_first): the writer finds it in plain
statements (storage/read_bookkeeping.py), rolls back and runs the update the
ordinary way, so the step sees what is true now. Also: what the writer writes
for a read-first update (last-active minute, replies, a conversation created).
SQLite, where updates read first; test steps on a router of their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from domain.entities import ConversationState
from handlers.context import Context
from handlers.render import esc
from handlers.routing import Router, Steps
from tests.flows.harness import Harness, Person

router = Router()


class PeekStep(Steps, flow="peek"):
    PEEK = "peek"
    NOTE = "note"


@router.command("peek")
async def peek(ctx: Context) -> None:
    await ctx.set_state(PeekStep.PEEK, {})
    await ctx.reply("Send a word")


@router.step(PeekStep.PEEK, read_only=True)
async def peek_text(ctx: Context) -> None:
    await ctx.reply(f"Peeked: {esc(ctx.text)}")
    await ctx.reply(f"Peeked again: {esc(ctx.text)}")


@router.step(PeekStep.NOTE)
async def note_text(ctx: Context) -> None:
    await ctx.reply(f"Noted: {esc(ctx.text)}")


@router.command("hello", read_only=True)
async def hello(ctx: Context) -> None:
    await ctx.set_state(PeekStep.PEEK, {"greeted": True})  # a state made on the reader
    await ctx.reply(f"Hello, {esc(ctx.user.name)}")


Change = Callable[[Any], Awaitable[None]]


def _between(h: Harness, change: Change) -> list[int]:
    """Run `change(uow)` on the writer, committed, right after each reader unit of
    work ends (before the update's writer half); the list counts the readers."""
    readers: list[int] = []
    factory = h.engine.reader_factory
    assert factory is not None, "SQLite reads first"

    @asynccontextmanager
    async def reader_then_change() -> Any:
        async with factory() as reader:
            yield reader
        readers.append(1)
        if len(readers) == 1:  # once: the ordinary run that follows sees it settled
            async with h.db.uow() as uow:
                await change(uow)
                await uow.commit()

    h.engine.reader_factory = reader_then_change  # type: ignore[assignment]
    return readers


async def _peeking(h: Harness) -> Person:
    ada = h.person("Ada")
    await h.send(ada, "/peek")
    assert h.last(ada).text == "Send a word"
    return ada


async def test_a_conversation_moved_since_the_snapshot_runs_the_step_it_is_at_now(db, clock):
    h = Harness(db, clock, router=router)
    ada = await _peeking(h)

    async def to_note(uow: Any) -> None:
        state = await uow.conversations.get(ada.id)
        state.step = PeekStep.NOTE.value

    readers = _between(h, to_note)
    await h.send(ada, "hi")
    assert readers, "the update read first"
    assert h.texts(ada)[-1] == "Noted: hi"  # not the reader's "Peeked"
    assert not any(t.startswith("Peeked") for t in h.texts(ada))


async def test_a_person_banned_since_the_snapshot_is_refused(db, clock):
    h = Harness(db, clock, router=router)
    ada = await _peeking(h)

    async def ban(uow: Any) -> None:
        (await uow.users.get(ada.id)).banned = True

    readers = _between(h, ban)
    await h.send(ada, "hi")
    assert readers
    assert not any(t.startswith("Peeked") for t in h.texts(ada))
    async with db.uow() as uow:
        rows = await uow.outbox.find(chat_id=ada.id)
        assert not any("Peeked" in str(r.payload.get("text")) for r in rows)


async def test_a_person_renamed_since_the_snapshot_is_registered_again(db, clock):
    h = Harness(db, clock, router=router)
    ada = await _peeking(h)

    async def rename(uow: Any) -> None:
        (await uow.users.get(ada.id)).name = "Someone else"

    _between(h, rename)
    await h.send(ada, "hi")
    assert h.texts(ada)[-2:] == ["Peeked: hi", "Peeked again: hi"]
    async with db.uow() as uow:
        assert (await uow.users.get(ada.id)).name == "Ada"  # as Telegram says now


async def test_the_writer_half_writes_the_replies_in_order_and_the_minute(db, clock):
    h = Harness(db, clock, router=router)
    ada = await _peeking(h)
    clock.advance(minutes=3)
    outcome = await h.send(ada, "hi")
    assert h.texts(ada)[-2:] == ["Peeked: hi", "Peeked again: hi"]
    assert len(outcome.outbox_ids) == 2 and outcome.outbox_ids == sorted(outcome.outbox_ids)
    assert all(i > 0 for i in outcome.outbox_ids)
    async with db.uow() as uow:
        assert (await uow.users.get(ada.id)).last_active_at == clock.now()
        state = await uow.conversations.get(ada.id)
        assert (state.flow, state.step) == ("peek", "peek")


async def test_a_conversation_a_read_first_step_starts_is_created(db, clock):
    h = Harness(db, clock, router=router)
    bob = h.person("Bob")
    await h.send(bob, "/hello")  # registers Bob: the ordinary way
    async with db.uow() as uow:
        state = await uow.conversations.get(bob.id)
        if state is not None:
            await uow.conversations.delete(state)
        await uow.commit()
    readers = _between(h, _nothing)
    await h.send(bob, "/hello")
    assert readers and h.last(bob).text == "Hello, Bob"
    async with db.uow() as uow:
        state = await uow.conversations.get(bob.id)
        assert isinstance(state, ConversationState)
        assert (state.flow, state.step, state.data) == ("peek", "peek", {"greeted": True})


async def _nothing(uow: Any) -> None:
    return None
