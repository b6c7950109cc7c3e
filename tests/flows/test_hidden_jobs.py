"""Hidden jobs stay hidden (domain/usecases/visibility.py): every command and
button that takes a job id, walked as a stranger with the id of a draft, a
closed and a paused job, answers exactly as for an unknown id, shows no title
and changes nothing.

The routes are derived from the routing table, not listed from memory:
`test_every_route_that_looks_up_a_job_id_is_walked` sends every command and
presses every button action the routing table declares (and, for a prefix still
handled by one dispatcher, every action its flow module names), carrying
an id that only a job could have, and watches which of them look a job up.
Each one that does must be in JOB_ID_ROUTES, which the walk then covers.
(Limits: an action that checks an argument before looking the job up, like
"pj:edit_field:<job>:<field>", is found only through its listed form; conversation
steps take no ids from the user.)
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from typing import Any

import pytest
import sqlalchemy as sa

from domain.entities import Block, Invitation, Job, Pitch
from domain.states import JobStatus
from handlers.routing import ROUTER
from storage.tables import metadata
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Person

# Every route that takes a job id, with the ways to give it one: "{id}" is the
# job's id, "{fred}" a freelancer's user id (invite / hire an invited freelancer).
JOB_ID_ROUTES: dict[str, tuple[str, ...]] = {
    "/start": ("/start job_{id}",),
    "/report": ("/report job {id}",),
    "open:show_job": ("open:show_job:{id}",),
    "br:show_job": ("br:show_job:{id}",),
    "report:job_post": ("report:job_post:{id}",),
    "pitch:start": ("pitch:start:{id}",),
    "al:not_interested": ("al:not_interested:{id}",),
    "mj:manage_job": ("mj:manage_job:{id}",),
    "mj:pitches": ("mj:pitches:{id}:1",),
    "mj:pause": ("mj:pause:{id}",),
    "mj:resume": ("mj:resume:{id}",),
    "mj:close": ("mj:close:{id}",),
    "mj:confirm_close": ("mj:confirm_close:{id}",),
    "mj:candidates": ("mj:candidates:{id}",),
    "mj:invite": ("mj:invite:{id}:{fred}",),
    "mj:invite_anyway": ("mj:invite_anyway:{id}:{fred}",),
    "pj:edit": ("pj:edit:{id}",),
    "pj:edit_field": ("pj:edit_field:{id}:title",),
    "of:hire_invited": ("of:hire_invited:{id}:{fred}",),
    "of:close_job": ("of:close_job:{id}",),
    "of:keep_open": ("of:keep_open:{id}",),
    "sv:save_job": ("sv:save_job:{id}",),
    "jx:keep": ("jx:keep:{id}",),
    "jx:close": ("jx:close:{id}",),
}
FORMS = [form for forms in JOB_ID_ROUTES.values() for form in forms]

# Ids no other object has in these tests, so a look-up of them is a job's.
DRAFT, CLOSED, PAUSED, OPEN, UNKNOWN = 4101, 4102, 4103, 4104, 4199
TITLES = {
    DRAFT: "Nightingale rebrand",
    CLOSED: "Kestrel migration",
    PAUSED: "Osprey security audit",
    OPEN: "Public logo contest",
}
HIDDEN = (DRAFT, CLOSED, PAUSED)
PROBE = 4242
# Rows the engine writes for any event (the update id, the replies, last seen).
UNWATCHED = {"outbox", "processed_updates", "stored_updates"}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")


# --- the world ---------------------------------------------------------------------------


async def both_roles(h: Harness, who: Person) -> Person:
    await h.send(who, "/start")
    await h.press(who, "🔁 Both")
    return who


async def world(h: Harness) -> tuple[Person, Person, Person]:
    """Carla's jobs in every state; Fred pitched on the closed and the paused one
    (and was invited to the paused one); Sam, a client and freelancer, has
    nothing to do with any of them."""
    carla = await both_roles(h, h.person("Carla"))
    fred = await both_roles(h, h.person("Fred"))
    sam = await both_roles(h, h.person("Sam"))
    now = h.clock.now()
    status = {
        DRAFT: JobStatus.DRAFT,
        CLOSED: JobStatus.CLOSED,
        PAUSED: JobStatus.PAUSED,
        OPEN: JobStatus.OPEN,
    }
    async with h.db.uow() as uow:
        for job_id, title in TITLES.items():
            await uow.jobs.add(
                Job(
                    id=job_id,
                    client_id=carla.id,
                    title=title,
                    description="What the client wants, in a few plain words.",
                    category="development",
                    skills=["python"],
                    budget=50_000,
                    status=status[job_id],
                    created_at=now,
                )
            )
        for job_id in (CLOSED, PAUSED):
            await uow.pitches.add(
                Pitch(
                    job_id=job_id,
                    freelancer_id=fred.id,
                    cover_letter="I have done this kind of work many times.",
                    price=40_000,
                    created_at=now,
                )
            )
        await uow.invitations.add(
            Invitation(job_id=PAUSED, client_id=carla.id, freelancer_id=fred.id, created_at=now)
        )
        await uow.commit()
    return carla, fred, sam


async def snapshot(h: Harness) -> dict[str, list[str]]:
    """Every row the marketplace keeps, but for what any event writes."""
    tables: dict[str, list[str]] = {}
    async with h.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in UNWATCHED:
                continue
            columns = [
                c for c in table.columns if (table.name, c.name) != ("users", "last_active_at")
            ]
            rows = (await conn.execute(sa.select(*columns))).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


async def act(h: Harness, who: Person, form: str) -> tuple[Any, ...]:
    """Send or press `form`; what came back: the button's answer and the messages
    sent or edited, with their buttons."""
    chat = h.chat(who)
    before = {m.message_id: m.edits for m in chat}
    answer = None
    if form.startswith("/"):
        await h.send(who, form)
    else:
        await h.press_data(who, form)
        got = h.last_answer(who)
        answer = (got.text, got.show_alert) if got else None
    shown = [(m.html, m.buttons) for m in chat if before.get(m.message_id) != m.edits]
    return answer, shown


def fill(form: str, job_id: int, fred: Person) -> str:
    return form.format(id=job_id, fred=fred.id)


def as_unknown(result: tuple[Any, ...], job_id: int) -> str:
    return repr(result).replace(str(job_id), str(UNKNOWN))


# --- the walk ----------------------------------------------------------------------------


async def test_a_stranger_gets_what_an_unknown_id_gets_on_every_job_id_route(h: Harness):
    carla, fred, sam = await world(h)
    wrong: list[str] = []
    for form in FORMS:
        unknown = repr(await act(h, sam, fill(form, UNKNOWN, fred)))
        for job_id in HIDDEN:
            before = await snapshot(h)
            data = fill(form, job_id, fred)
            got = await act(h, sam, data)
            if any(TITLES[hidden].split()[0] in repr(got) for hidden in HIDDEN):
                wrong.append(f"{data}: a title shows: {got}")
            if as_unknown(got, job_id) != unknown:
                wrong.append(f"{data}: {got} is not what an unknown id gets: {unknown}")
            if await snapshot(h) != before:
                wrong.append(f"{data}: something changed")
    assert not wrong, "\n".join(wrong)
    # Nothing of them anywhere in Sam's chat.
    everything = repr([(m.html, m.buttons) for m in h.chat(sam)] + h.chat_of(sam).answers)
    assert not [TITLES[j] for j in HIDDEN if TITLES[j].split()[0] in everything]

    # The same forms reach the job for those who may see it: the walk above was
    # not refused for some other reason (its client; Fred on the job he pitched on).
    for form in FORMS:
        for who, job_id in ((carla, DRAFT), (fred, CLOSED)):
            unknown = repr(await act(h, who, fill(form, UNKNOWN, fred)))
            got = await act(h, who, fill(form, job_id, fred))
            assert as_unknown(got, job_id) != unknown, (who.name, form, got)


async def test_those_it_concerns_see_a_closed_job(h: Harness):
    carla, fred, sam = await world(h)
    for who, visible in ((carla, True), (fred, True), (sam, False)):
        await h.press_data(who, f"open:job:{CLOSED}")
        assert (TITLES[CLOSED] in h.last(who).text) is visible, who.name
    admin = await both_roles(h, h.person("Ada", id=ADMIN_ID))
    await h.send(admin, f"/start job_{DRAFT}")
    assert TITLES[DRAFT] in h.last(admin).text
    # Fred may see it, but it is not his to manage.
    await h.press_data(fred, f"mj:job:{CLOSED}")
    assert h.last_answer(fred).text == "This job is not yours."


# --- every job-id route is in the walk ----------------------------------------------------


class LookupSpy:
    """The database, noting every job id a unit of work looks up."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.ids: set[Any] = set()

    def uow(self) -> _SpiedUnitOfWork:
        return _SpiedUnitOfWork(self.db.uow(), self.ids)


class _SpiedUnitOfWork:
    def __init__(self, inner: Any, ids: set[Any]) -> None:
        self.inner, self.ids = inner, ids

    async def __aenter__(self) -> Any:
        uow = await self.inner.__aenter__()
        uow.jobs = _SpiedJobs(uow.jobs, self.ids)
        return uow

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)


class _SpiedJobs:
    def __init__(self, repo: Any, ids: set[Any]) -> None:
        self.repo, self.ids = repo, ids

    async def get(self, key: Any) -> Any:
        self.ids.add(key)
        return await self.repo.get(key)

    async def get_for_update(self, key: Any) -> Any:
        self.ids.add(key)
        return await self.repo.get_for_update(key)

    async def find(self, order_by: str = "id", limit: int | None = None, **equals: Any) -> Any:
        for name in ("id", "id__in"):
            value = equals.get(name)
            if value is not None:
                self.ids.update(value if isinstance(value, list | tuple | set) else [value])
        return await self.repo.find(order_by, limit, **equals)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repo, name)


def _strings(node: ast.AST, names: dict[str, Any]) -> set[str]:
    """String literals (and module constants holding strings) in an expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name):
        value = names.get(node.id)
        if isinstance(value, str):
            return {value}
        if isinstance(value, tuple | set | frozenset | list | dict):
            return {v for v in value if isinstance(v, str)}
        return set()
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set().union(*(_strings(e, names) for e in node.elts)) if node.elts else set()
    return set()


def actions_of(handler: Any) -> set[str]:
    """The actions a button handler's module can tell apart: the strings it compares
    with (`action == "job"`, `cb.action not in TARGETS`) or keys a dict with."""
    module = importlib.import_module(handler.__module__)
    names = vars(module)
    found: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Compare):
            for part in (node.left, *node.comparators):
                found |= _strings(part, names)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    found |= _strings(key, names)
    return {a for a in found if _NAME.fullmatch(a)}


def probes() -> list[tuple[str, str]]:
    """(route, what to send) for every command and every button prefix × action."""
    out = []
    for name in sorted(ROUTER.commands):
        for args in (f"{PROBE}", f"job {PROBE}", f"job_{PROBE}", f"#{PROBE}"):
            out.append((f"/{name}", f"/{name} {args}"))
    actions = set(ROUTER.actions)  # routed by action (Buttons.on)
    for prefix, handler in ROUTER.buttons.items():
        actions |= {(prefix, action) for action in actions_of(handler)}
    for prefix, action in sorted(actions):
        for tail in (f"{PROBE}", f"{PROBE}:1"):
            out.append((f"{prefix}:{action}", f"{prefix}:{action}:{tail}"))
    return out


async def test_every_route_that_looks_up_a_job_id_is_walked(db, clock, config):
    spy = LookupSpy(db)
    h = Harness(spy, clock, config)  # type: ignore[arg-type]
    ada = await both_roles(h, h.person("Ada", id=ADMIN_ID))  # an admin: every command is hers
    fred = await both_roles(h, h.person("Fred"))

    looked_up = set()
    for route, sent in probes():
        spy.ids.clear()
        await act(h, ada, sent)
        if PROBE in spy.ids:
            looked_up.add(route)
    assert looked_up, "the probe saw no look-up at all"
    missing = sorted(looked_up - set(JOB_ID_ROUTES))
    assert not missing, f"routes that take a job id but are not walked: {missing}"

    # And every walked form really looks the job up.
    for route, forms in JOB_ID_ROUTES.items():
        for form in forms:
            spy.ids.clear()
            await act(h, ada, fill(form, PROBE, fred))
            assert PROBE in spy.ids, f"{form} ({route}) does not look the job up"


@pytest.mark.parametrize("blocker", ["client", "stranger"])
async def test_an_open_job_is_hidden_between_a_blocked_pair_on_every_route(h: Harness, blocker):
    """A block either way (domain/usecases/blocking.py) takes the client's open job
    off the market for the other one: every job-id route answers as for an unknown
    id, shows no title and changes nothing — and Fred, who is in no block, still
    reaches it."""
    carla, fred, sam = await world(h)
    pair = (carla.id, sam.id) if blocker == "client" else (sam.id, carla.id)
    async with h.db.uow() as uow:
        await uow.blocks.add(Block(blocker_id=pair[0], blocked_id=pair[1]))
        await uow.commit()
    wrong: list[str] = []
    for form in FORMS:
        unknown = repr(await act(h, sam, fill(form, UNKNOWN, fred)))
        before = await snapshot(h)
        data = fill(form, OPEN, fred)
        got = await act(h, sam, data)
        if TITLES[OPEN].split()[0] in repr(got):
            wrong.append(f"{data}: the title shows: {got}")
        if as_unknown(got, OPEN) != unknown:
            wrong.append(f"{data}: {got} is not what an unknown id gets: {unknown}")
        if await snapshot(h) != before:
            wrong.append(f"{data}: something changed")
    assert not wrong, "\n".join(wrong)
    await h.press_data(fred, f"open:show_job:{OPEN}")
    assert TITLES[OPEN] in h.last(fred).text
