"""The engine: one incoming event → one unit of work → an Outcome.

For each event, in one transaction:
1. skip it if its update_id was handled within the window (Outcome.duplicate),
   else claim the id (domain/usecases/updates.py);
2. register or refresh the user from the Telegram data;
3. refuse a banned user briefly (except /appeal: routing.open_to_banned);
4. route it (routing.py) — a command, a button's prefix, or the user's
   conversation state for text and files — and run that step; a command first
   leaves the conversation in progress (a long wizard's kept as a draft), a
   wizard's button counts only on its current screen, and the wizard message a
   step showed becomes that screen (the previous one's buttons are removed);
5. render the domain events the use cases emitted into notifications (notify.py);
6. commit the id's claim, replies, notifications and changes together.

An update whose route is declared read-only (routing.py: `read_only=True`) runs
its step first on a reader unit of work when the engine has one (SQLite: a WAL
snapshot outside the writer queue, storage/reads.py), its replies and conversation
state kept aside; then one short writer transaction does 1., 2. and 6. with them.
If the reader found what a read-only step cannot handle alone (a new or renamed
user, a ban, a wizard keeping drafts), or the state moved between the two, the
update runs the ordinary way. A read-only route whose step reads nothing but the
user and their conversation runs on the writer alone (it reads those anyway), so
does one whose step read quickly and scanned nothing when the writer is free as it
comes (a job's card: one transaction instead of two), and text goes read-first only
when the user's step may be read-only (Engine._read_route).
See docs/architecture.md ("Reads beside writes", "What an update costs").

A DomainError rolls everything back; then, in a fresh unit of work, the update
id is recorded and the user gets a short translated reason (an alert for a
button press), so bad input changes nothing and is not retried. Any other
exception is logged and answered with a generic apology the same way; should that
fail too (the user's record cannot be written), the apology goes out without it.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from domain.config import MarketConfig
from domain.entities import ConversationState, User, in_progress
from domain.errors import DomainError
from domain.ports import ActorNow, Clock, PaymentGateway, ReadOnlyViolation, UnitOfWork
from domain.usecases import accounts, updates
from domain.usecases.deadlines import DEADLINES
from handlers.callbacks import StaleButton, decode
from handlers.context import Context, Scope
from handlers.events import CallbackAnswer, Event, Outcome, PreCheckoutAnswer
from handlers.gateway_calls import GatewayCallRunner
from handlers.i18n import LANGUAGES, translator
from handlers.notify import render_events
from handlers.routing import ROUTER, Router, Steps
from handlers.unit import Unit, UnitRunner

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]


class Engine:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        config: MarketConfig,
        gateway: PaymentGateway | None = None,
        public_url: str = "http://127.0.0.1:8080",
        router: Router = ROUTER,
        *,
        reader_factory: UowFactory | None = None,
        strict_reads: bool = False,
        writer_idle: Callable[[], bool] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.uow_factory = uow_factory
        # Read-only units of work (storage.database.Database.read_uow); None: every
        # update runs on the writer. strict_reads: a read-only route that writes
        # raises (tests) instead of being logged and run again on the writer.
        self.reader_factory = reader_factory
        self.strict_reads = strict_reads
        # Is the writer free right now (storage.database.Database.writer_idle)? None:
        # a step is never moved to the writer for being quick (see _read_route).
        self.writer_idle = writer_idle
        self.timer = timer
        self.clock = clock
        self.config = config
        self.gateway = gateway
        self.public_url = public_url
        self.router = router
        # What the read-first decision learns (see _read_route): each user's step
        # as this engine last left it, and read-only routes whose step read nothing
        # more on the reader (run on the writer alone for a while).
        self._steps: dict[int, tuple[str, str] | None] = {}
        self._light: dict[tuple[str, ...], int] = {}
        self._quick: set[tuple[str, ...]] = set()  # of those, light for being quick
        if router is ROUTER:
            from handlers.flows import load_flows

            load_flows()

    @property
    def calls(self) -> GatewayCallRunner:
        """Makes the refunds, payouts and transfers a unit of work committed, after
        the commit (with the gateway as it is now: tests and wiring may set it late)."""
        return GatewayCallRunner(
            self.uow_factory, self.clock, self.config, self.gateway, self.public_url
        )

    # --- events --------------------------------------------------------------

    def units(self) -> UnitRunner:
        """How each update and each deadline job runs (handlers/unit.py): one unit of
        work with its notifications, raced ones run again, gateway calls after it."""
        return UnitRunner(
            self.uow_factory,
            self.clock,
            self.config,
            self.gateway,
            self.public_url,
            render=render_events,
            after=self.calls.after_commit,
        )

    async def handle(self, event: Event) -> Outcome:
        if event.kind in self.router.answerers:
            try:
                return await self._answer_query(event)
            except Exception:  # unanswered: Telegram shows nothing (or refuses, dispatch.py)
                log.exception("query failed: kind=%s update_id=%s", event.kind, event.update_id)
                return Outcome()
        try:
            return await self._handle(event)
        except DomainError as err:
            return await self._answer_failure(event, err)
        except ReadOnlyViolation:
            if self.strict_reads:
                raise  # a route declared read-only writes: loudly, in the tests
            return await self._answer_failure(event, None)
        except Exception:
            outcome = await self._answer_failure(event, None)
            if outcome.duplicate:
                # Another process committed this update first (its row blocked ours).
                log.info("update %s was handled concurrently elsewhere", event.update_id)
            else:
                log.exception("event failed: kind=%s update_id=%s", event.kind, event.update_id)
            return outcome

    async def _handle(self, event: Event) -> Outcome:
        route = self._read_route(event) if self.reader_factory is not None else None
        if route is not None:
            done = await self._read_first(event, route)
            if done is not None:
                return done

        async def work(unit: Unit) -> Outcome | Context:
            uow = unit.uow
            if await self._seen(uow, event):
                return _duplicate(event)
            if event.kind in ("blocked", "unblocked"):
                await accounts.set_unreachable(uow, event.user_id, event.kind == "blocked")
                return Outcome()
            user, state = await self._actor(uow, event)
            ctx = Context(
                event, user, uow, self.clock, self.config, self.gateway, self.public_url, state
            )
            unit.scope = ctx  # the step's notifications are rendered with the actor's context
            await self._dispatch(ctx)
            return ctx

        done = await self.units().run(work, f"update {event.update_id}")
        if isinstance(done, Context):
            self._left_at(event.user_id, done.state)
            # Read after the commit: rendering may have added replies to the acting user.
            return done.outcome()
        return done

    # --- read-only updates: the step on a reader, the bookkeeping on the writer ---

    def _read_route(self, event: Event) -> tuple[str, ...] | None:
        """The route of an update to run read-first (a key naming it), or None: run it
        the ordinary way. Read-first are routes declared read-only, as far as the
        event tells — for text, the step this engine last left the user at (a hint:
        the reader checks the state it finds, and without a hint it tries) — but for
        one whose step last read nothing more on the reader than the user and their
        conversation (a menu, the help): it runs on the writer alone, which reads
        those anyway, for its next LIGHT_RUNS updates, then is checked again. So
        does one whose step last read quickly (under QUICK_READS, no scan: a job's
        card) when the writer is free as it comes: its reads then wait for nothing,
        and hold the writer no longer than a second transaction would have cost.
        In strict mode (the tests') read-only routes and text always run read-first."""
        route = self._declared_read_only(event)
        if route is None or self.strict_reads:
            return route
        left = self._light.get(route, 0)
        if left <= 0:
            return route
        if route in self._quick and not (self.writer_idle is not None and self.writer_idle()):
            return route  # a write is running: the reads go beside it, not behind it
        self._light[route] = left - 1
        return None

    def _declared_read_only(self, event: Event) -> tuple[str, ...] | None:
        if event.chat_type != "private" or event.user_id is None:
            return None
        if event.kind == "command":
            route = self.router.find_route(event.command, self.config.is_admin(event.user_id))
            return ("command", route.name) if route is not None and route.read_only else None
        if event.kind == "button":
            try:
                cb = decode(event.callback_data)
            except StaleButton:
                return None
            if self.router.is_wizard(cb.prefix, cb.action) or not self.router.button_reads_only(
                cb.prefix, cb.action
            ):
                return None
            return ("button", cb.prefix, cb.action)
        if event.kind != "text" or not self.router.read_only_steps:
            return None
        step = self._steps.get(event.user_id, _UNKNOWN)
        if step is _UNKNOWN or self.strict_reads:
            return ("text",)  # not known here: the reader finds out
        if step not in self.router.read_only_steps:
            return None
        assert isinstance(step, tuple)
        return ("step", *step)

    def _left_at(self, user_id: int | None, state: ConversationState | None) -> None:
        """Remember the step an update left the user at (see _read_route)."""
        if user_id is None:
            return
        steps = self._steps
        steps.pop(user_id, None)
        if len(steps) >= STEPS_REMEMBERED:
            del steps[next(iter(steps))]  # the least recently seen
        steps[user_id] = (state.flow, state.step) if state is not None and state.flow else None

    def _reads_only(self, event: Event, state: ConversationState | None) -> bool:
        """With the state the reader found: does the update stay read-only? (A command
        leaves the conversation, which must not be a wizard that keeps drafts.)"""
        current = state if state is not None and state.flow else None
        if event.kind == "text":
            return current is not None and (current.flow, current.step) in (
                self.router.read_only_steps
            )
        if current is None:
            return True
        steps = Steps.declared().get(current.flow)
        return steps is None or not steps.keeps_drafts

    async def _read_first(self, event: Event, route: tuple[str, ...]) -> Outcome | None:
        """Run a read-only update's step on a reader, then write what it said and the
        state it left in one writer transaction; None: run it the ordinary way."""
        assert self.reader_factory is not None
        try:
            async with self.reader_factory() as reader:
                user, state = await _load_actor(reader, event.user_id)
                if user is None or user.banned or not _as_registered(user, event):
                    return None  # registering, refusing or renaming writes: the writer's
                if not self._reads_only(event, state):
                    self._left_at(event.user_id, state)
                    return None
                ctx = Context(
                    event, user, reader, self.clock, self.config, self.gateway, self.public_url,
                    state,
                )  # fmt: skip
                read = _statements(reader)
                began = self.timer()
                await self._dispatch(ctx)
                if route[0] != "text" and read is not None:
                    self._learn(route, reader, read, self.timer() - began)
                await reader.commit()  # refuses what would still be written
        except ReadOnlyViolation:
            if self.strict_reads:
                raise
            log.exception("update %s: a read-only route wrote; run on the writer", event.update_id)
            return None
        # What the reader kept aside (storage/reads.py: BufferedOutbox, BufferedConversations)
        kept_rows: list[Any] = reader.outbox.rows  # type: ignore[attr-defined]
        conversations: Any = reader.conversations
        found = in_progress(conversations.read.get(event.user_id))

        async def work(unit: Unit) -> Outcome | Context:
            uow = unit.uow
            if await self._seen(uow, event):
                return _duplicate(event)
            books = uow.bookkeeping  # plain statements: nothing joins the session
            assert event.user_id is not None  # a read-only route has a user (_read_route)
            now_user = await books.actor(event.user_id)
            if (
                now_user is None
                or now_user.banned
                or not _as_registered(now_user, event)
                or now_user.state != found
            ):
                raise _Moved()  # since the snapshot: rolled back, run the ordinary way
            now = self.clock.now()
            if _minute(now_user.last_active_at) != _minute(now):
                await books.touch(event.user_id, now)
            ids: dict[int, int] = {}
            for kept in kept_rows:
                payload = kept.payload
                if isinstance(payload.get("outbox_id"), int) and payload["outbox_id"] < 0:
                    payload = payload | {"outbox_id": ids[payload["outbox_id"]]}
                assert kept.id is not None
                ids[kept.id] = await books.add_row(kept, payload)
            for changed in conversations.changed().values():
                screen = changed.screen_outbox_id
                screen = ids.get(screen, screen) if screen is not None else None
                await books.put_conversation(changed, screen)
            ctx.outbox_ids[:] = [ids.get(i, i) for i in ctx.outbox_ids]
            return ctx

        try:
            done = await self.units().run(work, f"update {event.update_id} (read first)")
        except _Moved:
            return None
        if isinstance(done, Context):
            self._left_at(event.user_id, done.state)
            return done.outcome()
        return done

    def _learn(self, route: tuple[str, ...], reader: UnitOfWork, read: int, took: float) -> None:
        """After a read-first run: is the route light (see _read_route)? It read
        nothing beyond the user and their conversation (`read` statements), or it
        read quickly and scanned nothing (a writer free when it comes can take it)."""
        bare = _statements(reader) == read
        quick = (
            self.writer_idle is not None
            and took < QUICK_READS
            and getattr(reader, "scans", None) == 0
        )
        self._light[route] = LIGHT_RUNS if bare or quick else 0
        if quick and not bare:
            self._quick.add(route)
        else:
            self._quick.discard(route)

    async def _answer_query(self, event: Event) -> Outcome:
        """An inline or pre-checkout query: answered from one unit of work, without
        claiming its update id or recording the asker: both change nothing (inline
        queries come by the keystroke, from anyone, bot users or not), so there is
        nothing to do only once; answering a redelivered one again is harmless
        (Telegram keeps the first answer and refuses the second)."""
        answerer = self.router.answerers[event.kind]
        t = translator(accounts.pick_language(event.language_code, LANGUAGES))
        async with self.uow_factory() as uow:
            scope = Scope(uow, self.clock, self.config, self.gateway, self.public_url)
            try:
                outcome = await answerer(scope, event, t)
            except DomainError as err:
                if event.kind != "pre_checkout":
                    raise
                return Outcome(pre_checkout_answer=PreCheckoutAnswer(False, t.error_plain(err)))
            await uow.commit()  # whatever the answerer wrote (nothing, usually)
            return outcome

    async def _seen(self, uow: UnitOfWork, event: Event) -> bool:
        """True for a duplicate (its id was processed within the window, see
        domain/usecases/updates.py); otherwise the update is claimed in this
        transaction: a second process claiming it at once waits for this one
        (PostgreSQL) and then sees a duplicate."""
        if event.update_id is None:
            return False
        return not await updates.claim_update(uow, self.clock, self.config, event.update_id)

    async def _actor(self, uow: UnitOfWork, event: Event) -> tuple[User, ConversationState | None]:
        """The acting user, registered or refreshed, and their conversation. Read in one
        statement (SqlUnitOfWork.actor); the user's row is written only when
        registering would change it: a new user, a new name or username, a user who
        had blocked the bot (accounts.register_user), or the last-active time once a
        minute (it is shown to the minute)."""
        user, state = await _load_actor(uow, event.user_id)
        if user is None or not _as_registered(user, event):
            return await self._register(uow, event), state
        now = self.clock.now()
        if _minute(user.last_active_at) != _minute(now):
            user.last_active_at = now
        return user, state

    async def _register(self, uow: UnitOfWork, event: Event) -> User:
        user, _ = await accounts.register_user(
            uow,
            self.clock,
            event.user_id,
            name=event.user_name,
            username=event.username,
            language_code=event.language_code,
            supported=LANGUAGES,
        )
        return user

    async def _dispatch(self, ctx: Context) -> None:
        event = ctx.event
        if event.chat_type != "private":
            if event.kind == "button":
                ctx.answer(ctx.t.plain("private_only"), alert=True)
            elif event.kind == "command":
                await ctx.reply(ctx.t("private_only"))
            return  # group chatter is not for us
        if ctx.user.banned and not self._banned_may(ctx):
            if event.kind == "button":
                ctx.answer(ctx.t.plain("error.user_banned"), alert=True)
            else:
                await ctx.reply(ctx.t("error.user_banned"))
            return
        handler = await self._route(ctx)
        await handler(ctx)
        await ctx.settle_screen()  # only the newest wizard message keeps live buttons

    def _banned_may(self, ctx: Context) -> bool:
        """A banned user may still appeal: the commands and conversation steps
        declared with routing.open_to_banned (never a button)."""
        event, allowed = ctx.event, self.router.for_banned
        if event.kind == "command":
            return (event.command or "").lower() in allowed
        return event.kind != "button" and ctx.state is not None and ctx.state.flow in allowed

    async def _route(self, ctx: Context) -> Callable[[Context], Awaitable[None]]:
        event = ctx.event
        if event.kind == "command":
            # A command changes the subject: any half-finished conversation ends (a
            # long wizard's is kept as a draft), unless the command is about it (/cancel).
            route = self.router.find_route(event.command, ctx.is_admin)
            if ctx.state is not None and not (route and route.sees_conversation):
                await ctx.leave()
            return route.handler if route else self._fallback
        if event.kind == "button":
            ctx.callback = decode(event.callback_data)
            prefix, action = ctx.callback.prefix, ctx.callback.action
            found = self.router.find_button(prefix, action)
            if found is None:
                raise StaleButton()
            if self.router.is_wizard(prefix, action) and not await ctx.on_screen():
                raise StaleButton()  # an older wizard message: its screen was replaced
            return found
        if event.kind in self.router.kinds:
            return self.router.kinds[event.kind]
        state = ctx.state
        if state is not None:
            found = self.router.steps.get((state.flow, state.step))
            if found is not None:
                return found
            await ctx.clear_state()  # a step that no longer exists (after an upgrade)
        return self._fallback

    async def _fallback(self, ctx: Context) -> None:
        if self.router.fallback_handler is not None:
            await self.router.fallback_handler(ctx)
        else:
            await ctx.reply(ctx.t("fallback"))

    async def _answer_failure(self, event: Event, err: DomainError | None) -> Outcome:
        """`_refuse`; if that fails too (say, the user's record cannot be written), the
        apology without the user's record, so a failed update never ends in silence.
        Raises only if that fails as well (the database is away: the intake keeps
        the update for a retry)."""
        try:
            return await self._refuse(event, err)
        except Exception:
            log.exception(
                "answering update %s failed; apologising without the user's record",
                event.update_id,
            )
            return await self._refuse(event, None, register=False)

    async def _refuse(
        self, event: Event, err: DomainError | None, *, register: bool = True
    ) -> Outcome:
        """After a rollback: record the update and say why, in a fresh transaction."""
        async with self.uow_factory() as uow:
            if await self._seen(uow, event):
                return _duplicate(event)  # another process handled it meanwhile
            user: User | None = None
            if register and event.kind not in ("blocked", "unblocked"):
                try:
                    user = await self._register(uow, event)
                except DomainError:
                    user = None
            if user is not None:
                t = translator(user.language)
            else:
                t = translator(accounts.pick_language(event.language_code, LANGUAGES))
            scope = Scope(uow, self.clock, self.config, self.gateway, self.public_url)
            answer: CallbackAnswer | None = None
            if event.kind == "button":
                text = t.error_plain(err) if err else t.plain("error.unexpected")
                answer = CallbackAnswer(text[:200], show_alert=True)
            elif event.kind in ("command", "text", "file", "payment") and (
                event.chat_type == "private"
            ):
                await scope.send(event.chat_id, t.error(err) if err else t("error.unexpected"))
            await uow.commit()
            return Outcome(callback_answer=answer, outbox_ids=scope.outbox_ids)

    # --- deadlines -------------------------------------------------------------

    async def tick(self) -> int:
        """Run each deadline use case in its own unit of work; returns how much they did."""
        done = 0
        for job in deadline_jobs():
            name = getattr(job, "__name__", str(job))

            async def work(unit: Unit, job: Callable[..., Awaitable[Any]] = job) -> int:
                result = await job(**_arguments(job, unit.uow, self))
                return result if isinstance(result, int) else len(unit.uow.events)

            try:
                done += await self.units().run(work, f"deadline {name}")
            except Exception:
                log.exception("deadline job %s failed", name)
        try:
            # Calls left due by a crash or a failed try are made again, same key.
            done += await self.calls.make_due()
        except Exception:
            log.exception("gateway calls due failed")
        return done


# Read-first (see Engine._read_route): users whose step is remembered, and how many
# updates of a route whose step read nothing on the reader run on the writer alone.
STEPS_REMEMBERED = 10_000
LIGHT_RUNS = 64
# A step that read for less than this (seconds) and scanned nothing may run on a free
# writer (_read_route): a read-first update's second transaction costs ~0.5-0.8 ms
# of the loop's time, so such a step holds the writer no longer than it saves.
QUICK_READS = 0.002
_UNKNOWN = object()


def _statements(uow: UnitOfWork) -> int | None:
    """Statements a reader unit of work ran so far (storage/database.py), if it counts."""
    count = getattr(uow, "statements", None)
    return count if isinstance(count, int) else None


class _Moved(Exception):
    """The state a read-only update read changed before its writes: run it again."""


async def _load_actor(
    uow: UnitOfWork, user_id: int
) -> tuple[User | None, ConversationState | None]:
    """The user and their conversation: in one statement where the unit of work
    offers it (storage/database.py: SqlUnitOfWork.actor), else one read each."""
    load = getattr(uow, "actor", None)
    if load is not None:
        found: tuple[User | None, ConversationState | None] = await load(user_id)
        return found
    user = await uow.users.get(user_id)
    return user, await uow.conversations.get(user_id) if user is not None else None


def _minute(moment: datetime | None) -> datetime | None:
    return moment.replace(second=0, microsecond=0) if moment is not None else None


def _as_registered(user: User | ActorNow, event: Event) -> bool:
    """Would registering (accounts.register_user) leave the user as the reader saw
    it, bar the last-active time? Otherwise the step must see the refreshed row."""
    name = (event.user_name or "").strip()[: accounts.MAX_NAME]
    username = (event.username or "").strip().lstrip("@")[: accounts.MAX_USERNAME] or None
    return (not name or name == user.name) and username == user.username and not user.unreachable


def _duplicate(event: Event) -> Outcome:
    return Outcome(
        duplicate=True, callback_answer=CallbackAnswer() if event.kind == "button" else None
    )


def deadline_jobs() -> list[Callable[..., Awaitable[Any]]]:
    """The deadline use cases, in order: domain/usecases/deadlines.py's DEADLINES."""
    return list(DEADLINES)


def _arguments(fn: Callable[..., Any], uow: UnitOfWork, engine: Engine) -> dict[str, Any]:
    """What `fn` takes by name of (uow, clock, config, gateway)."""
    available = {
        "uow": uow,
        "clock": engine.clock,
        "config": engine.config,
        "gateway": engine.gateway,
    }
    return {name: available[name] for name in inspect.signature(fn).parameters if name in available}
