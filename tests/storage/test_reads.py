"""Reads beside writes (issue 16, part 2): read-only units of work run on SQLite's
reader connections (a WAL snapshot, no writer lock) and refuse any write, on
SQLite and PostgreSQL; the engine runs every route declared read-only there and
writes its replies and conversation state afterwards."""

from __future__ import annotations

import asyncio
import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.entities import ConversationState, OutboxMessage, User
from domain.events import UserRegistered
from domain.ports import JobQuery, ReadOnlyViolation
from handlers.routing import ROUTER, Router, Steps
from storage.reads import json_copy
from tests.flows.harness import Harness
from tests.flows.test_browse import market

DEADLOCK_GUARD_S = 30  # only turns a hang (a read queued behind the writer) into a failure


async def test_a_read_does_not_wait_for_the_writer_and_sees_the_last_commit(db):
    async with db.uow() as uow:
        await uow.users.add(User(id=1, name="Before"))
        await uow.commit()
    assert db.splits_reads
    async with db.uow() as writer:  # holds SQLite's write lock and the writers' queue
        user = await writer.users.get(1)
        user.name = "Uncommitted"
        await writer.users.add(User(id=2, name="New"))

        async def read() -> tuple[str, int]:
            async with db.read_uow() as reader:
                found = await reader.users.get(1)
                _, total = await reader.search.search(JobQuery(text="python"))
                return found.name, await reader.users.count() + total

        # Before the split this read queued on `db.writers`, held right here: a deadlock.
        assert await asyncio.wait_for(read(), DEADLOCK_GUARD_S) == ("Before", 1)
        await writer.commit()
    async with db.read_uow() as reader:
        assert (await reader.users.get(1)).name == "Uncommitted"


async def test_a_read_only_unit_of_work_refuses_every_write(any_db):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="Ada"))
        await uow.commit()

    async with any_db.read_uow() as reader:
        with pytest.raises(ReadOnlyViolation):
            await reader.users.add(User(id=2, name="Bob"))
    async with any_db.read_uow() as reader:
        (await reader.users.get(1)).name = "Changed"
        with pytest.raises(ReadOnlyViolation):
            await reader.users.find(name="Changed")  # the autoflush before the query
    async with any_db.read_uow() as reader:
        (await reader.users.get(1)).name = "Changed"
        with pytest.raises(ReadOnlyViolation):
            await reader.commit()  # never flushed, still refused
    async with any_db.read_uow() as reader:
        with pytest.raises(ReadOnlyViolation):
            reader.emit(UserRegistered(user_id=1))
    async with any_db.read_uow() as reader:
        kept = await reader.outbox.add(OutboxMessage(chat_id=1, payload={"text": "hi"}))
        assert kept.id is not None and kept.id < 0  # kept aside for the engine
        assert await reader.outbox.get(kept.id) is kept
        await reader.commit()
    async with any_db.uow() as uow:
        assert await uow.outbox.count() == 0
        assert (await uow.users.get(1)).name == "Ada"
        assert await uow.users.count() == 1


def _read_only_probes(job_id: int) -> list[tuple[str, str]]:
    """(how, what) for every route declared read-only: commands, buttons, steps."""
    out = [("send", f"/{n}") for n, r in ROUTER.commands.items() if r.read_only]
    out += [("send", f"/{n} logo") for n, r in ROUTER.commands.items() if r.read_only]
    for prefix, action in sorted(ROUTER.read_only_actions):
        out += [("press", f"{prefix}:{action}:{job_id}"), ("press", f"{prefix}:{action}::1")]
    for prefix in sorted(ROUTER.read_only_buttons):
        out.append(("press", f"{prefix}:x:{job_id}"))
    for flow, step in sorted(ROUTER.read_only_steps):
        out.append((f"step {flow}/{step}", "coffee"))
    return out


async def test_every_declared_read_only_route_reads_only(any_db, clock):
    h = Harness(any_db, clock)
    h.engine.reader_factory = any_db.read_uow  # on PostgreSQL too, to prove the routes
    assert h.engine.strict_reads
    _, fred, ids = await market(h)
    probes = _read_only_probes(ids["logo"])
    assert any(how == "press" for how, _ in probes) and any(w.startswith("/") for _, w in probes)
    read_first = []
    original = h.engine._read_first

    async def spied(event, *route):
        outcome = await original(event, *route)
        read_first.append(outcome is not None)
        return outcome

    h.engine._read_first = spied  # type: ignore[method-assign]
    for how, what in probes:
        if how.startswith("step "):
            flow, step = how.removeprefix("step ").split("/")
            steps = Steps.declared()[flow]
            async with any_db.uow() as uow:  # the person at that step
                ctx_state = await uow.conversations.get(fred.id)
                if ctx_state is None:
                    from domain.entities import ConversationState

                    await uow.conversations.add(
                        ConversationState(user_id=fred.id, flow=steps.flow, step=step)
                    )
                else:
                    ctx_state.flow, ctx_state.step, ctx_state.data = steps.flow, step, {}
                await uow.commit()
            await h.send(fred, what)  # ReadOnlyViolation would raise here (strict)
        elif how == "send":
            await h.send(fred, what)
        else:
            await h.press_data(fred, what)
    assert read_first and all(read_first), "every probe ran on the reader"


async def test_searching_on_the_reader_keeps_the_conversation_and_replies(db, clock):
    h = Harness(db, clock)
    _, fred, _ = await market(h)
    await h.send(fred, "/jobs")
    assert "3" in h.last(fred).text
    await h.send(fred, "logo")  # the search step: text while browsing
    assert "Logo for a coffee shop" in h.last(fred).text
    await h.press(fred, "1. Logo for a coffee shop")
    assert "Pitch" in str(h.last(fred).buttons)
    async with db.uow() as uow:
        state = await uow.conversations.get(fred.id)
        assert state is not None and state.data.get("q") == "logo"
        rows = await uow.outbox.find(chat_id=fred.id)
        assert rows and all(r.id is not None and r.id > 0 for r in rows)
    # The update id is claimed as before: the same update again is a duplicate.
    first = await h.send(fred, "/menu", update_id=9_999)
    again = await h.send(fred, "/menu", update_id=9_999)
    assert first.outbox_ids and all(i > 0 for i in first.outbox_ids)
    assert again.duplicate and not again.outbox_ids


async def test_a_read_only_route_that_writes_is_refused_loudly(db, clock):
    router = Router()

    @router.command("sneaky", read_only=True)
    async def sneaky(ctx) -> None:
        ctx.user.name = "Renamed"  # a write hiding in a read
        await ctx.reply("done")

    h = Harness(db, clock, router=router)
    ada = h.person("Ada")
    await h.send(ada, "/start")  # unknown to this router, but registers Ada
    with pytest.raises(ReadOnlyViolation):
        await h.send(ada, "/sneaky")
    h.engine.strict_reads = False  # as the bot runs: logged, then run on the writer
    await h.send(ada, "/sneaky")
    async with db.uow() as uow:
        assert (await uow.users.get(ada.id)).name == "Renamed"


async def test_the_writer_is_idle_only_while_no_unit_of_work_writes(db):
    """Database.writer_idle, which lets a quick read-only step take a free writer
    (handlers/engine.py, Engine._read_route), never one in use."""
    assert db.writer_idle()
    async with db.read_uow():
        assert db.writer_idle()  # a reader is not a writer
    async with db.uow():
        assert not db.writer_idle()
    assert db.writer_idle()


async def test_a_step_changing_the_data_in_place_is_seen_and_the_read_copy_kept(any_db):
    """The reader keeps the conversation as found (its fields, the row's own data)
    and hands the steps a copy: a change made deep inside the copy's data is a
    change, and leaves what was found as it was."""
    data = {"q": "logo", "filters": {"skills": ["design"]}, "seen": [1, 2]}
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="Ada"))
        await uow.conversations.add(
            ConversationState(user_id=1, flow="browse", step="results", data=data)
        )
        await uow.commit()
    async with any_db.read_uow() as reader:
        _, state = await reader.actor(1)
        conversations = reader.conversations
        assert conversations.changed() == {}
        state.data["filters"]["skills"].append("logo")
        state.data["seen"][0] = 9
        assert list(conversations.changed()) == [1]
        assert conversations.read[1][2] == data  # as found, untouched by the step
        assert conversations.changed()[1].data == {
            "q": "logo",
            "filters": {"skills": ["design", "logo"]},
            "seen": [9, 2],
        }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@given(json_values)
def test_json_copy_is_a_deep_copy(value):
    copied = json_copy(value)
    assert copied == copy.deepcopy(value)

    def containers(v):
        if isinstance(v, dict):
            yield v
            for item in v.values():
                yield from containers(item)
        elif isinstance(v, list):
            yield v
            for item in v:
                yield from containers(item)

    shared = {id(c) for c in containers(value)} & {id(c) for c in containers(copied)}
    assert not shared
