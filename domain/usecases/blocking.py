"""Blocking: a user stops all contact with another, in both directions.

After A blocks B there are no messages, pitches, offers or invitations between
them either way, alerts and digests skip A's jobs for B (and B's for A), and
neither sees the other's open jobs in browse and search (the visibility rule,
usecases/visibility.py, asks `hidden_clients`). Every contact path asks
`require_contact` — the one rule, never copied per handler.

Contracts already running are unaffected — milestones, funding, submissions,
approvals, disputes go on — except messaging: the parties' messages on a
running contract are refused with "send it to the admins with /report" (not
relayed), because the blocker asked not to hear from that person, and an admin
reading a report can act (or relay) with judgement, which a blind relay queue
cannot.

The blocked person is not told (as in Telegram): nothing is sent when someone
blocks them, and what they try afterwards is refused with the words used for an
account that cannot be reached ("recipient_unavailable"), or, for jobs, as if
the job did not exist. The blocker is reminded that they blocked ("you_blocked").
"""

from __future__ import annotations

from datetime import datetime

from domain.config import MarketConfig
from domain.entities import Block, User
from domain.errors import NotAllowed, NotFound, ValidationError
from domain.events import UserBlocked, UserUnblocked
from domain.ports import Clock, UnitOfWork
from domain.usecases.common import active_user

RECENT_CONTACTS = 8


async def blocked_by(uow: UnitOfWork, blocker_id: int, blocked_id: int) -> bool:
    return await uow.blocks.get((blocker_id, blocked_id)) is not None


async def is_blocked(uow: UnitOfWork, a: int, b: int) -> bool:
    """Either of the two blocked the other."""
    if a == b:
        return False
    return await uow.blocks.between(a, b)


async def require_contact(
    uow: UnitOfWork, actor_id: int, other_id: int, *, running_contract: bool = False
) -> None:
    """The rule every contact path asks: refuse when either blocked the other.

    `running_contract`: a message on an active contract, refused with a pointer
    to the admins (the contract itself goes on)."""
    if actor_id == other_id:
        return
    if running_contract and await is_blocked(uow, actor_id, other_id):
        raise NotAllowed(
            "blocked_contract", "Messages on this contract go through the admins: use /report."
        )
    if await blocked_by(uow, actor_id, other_id):
        raise NotAllowed("you_blocked", "You blocked this person; /unblock to contact them.")
    if await blocked_by(uow, other_id, actor_id):
        # The same words as for an account that cannot be reached: they are not told.
        raise NotAllowed("recipient_unavailable", "This person cannot receive messages.")


async def hidden_clients(uow: UnitOfWork, user_id: int) -> set[int]:
    """Everyone in a block with the user, either way: their open jobs are not
    shown to the user, and the user's are not shown to them."""
    return await uow.blocks.partners(user_id)


async def recent_contacts(
    uow: UnitOfWork, actor_id: int, limit: int = RECENT_CONTACTS
) -> list[User]:
    """People the actor dealt with, most recent first: messages either way,
    contracts, pitches on their jobs or their pitches' clients, invitations."""
    seen: dict[int, datetime | None] = {}

    def note(user_id: int, when: datetime | None) -> None:
        if user_id == actor_id:
            return
        if user_id not in seen or (when is not None and (seen[user_id] or when) <= when):
            seen[user_id] = when

    for m in await uow.messages.find(order_by="-id", limit=100, sender_id=actor_id):
        note(m.recipient_id, m.created_at)
    for m in await uow.messages.find(order_by="-id", limit=100, recipient_id=actor_id):
        note(m.sender_id, m.created_at)
    for c in await uow.contracts.find(order_by="-id", limit=50, client_id=actor_id):
        note(c.freelancer_id, c.offered_at)
    for c in await uow.contracts.find(order_by="-id", limit=50, freelancer_id=actor_id):
        note(c.client_id, c.offered_at)
    for p in await uow.pitches.find(order_by="-id", limit=50, freelancer_id=actor_id):
        job = await uow.jobs.get(p.job_id)
        if job is not None:
            note(job.client_id, p.created_at)
    for job in await uow.jobs.find(order_by="-id", limit=20, client_id=actor_id):
        for p in await uow.pitches.find(order_by="-id", limit=20, job_id=job.id):
            note(p.freelancer_id, p.created_at)
    for i in await uow.invitations.find(order_by="-id", limit=50, freelancer_id=actor_id):
        note(i.client_id, i.created_at)
    for i in await uow.invitations.find(order_by="-id", limit=50, client_id=actor_id):
        note(i.freelancer_id, i.created_at)
    already = {b.blocked_id for b in await uow.blocks.find(blocker_id=actor_id, order_by="")}
    # Newest first; undated rows (older data) last.
    order = sorted(seen, key=lambda u: (seen[u] is not None, seen[u] or 0), reverse=True)
    ids = [u for u in order if u not in already]
    users = [await uow.users.get(u) for u in ids[:limit]]
    return [u for u in users if u is not None]


async def blockable(uow: UnitOfWork, config: MarketConfig, actor_id: int, target_id: int) -> User:
    """The person the actor may block by id. Anyone the actor dealt with (the
    buttons name only such people); any registered user for an admin. Others
    answer as an unknown id, so ids cannot be probed for names."""
    await active_user(uow, actor_id)
    if target_id == actor_id:
        raise ValidationError("block_self", "You cannot block yourself.")
    target = await uow.users.get(target_id)
    if target is not None and (
        config.is_admin(actor_id)
        or await blocked_by(uow, actor_id, target_id)
        or target_id in {u.id for u in await recent_contacts(uow, actor_id, limit=1000)}
    ):
        return target
    raise NotFound("user_not_found", "There is no such user.", id=target_id)


async def block(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, target_id: int
) -> User:
    """Block; blocking twice is harmless. The blocked person is not told."""
    target = await blockable(uow, config, actor_id, target_id)
    if not await blocked_by(uow, actor_id, target_id):
        await uow.blocks.add(
            Block(blocker_id=actor_id, blocked_id=target_id, created_at=clock.now())
        )
        uow.emit(UserBlocked(blocker_id=actor_id, blocked_id=target_id))
    return target


async def unblock(uow: UnitOfWork, actor_id: int, target_id: int) -> User:
    await active_user(uow, actor_id)
    row = await uow.blocks.get((actor_id, target_id))
    if row is None:
        raise ValidationError("not_blocked", "You have not blocked this person.")
    await uow.blocks.delete(row)
    uow.emit(UserUnblocked(blocker_id=actor_id, blocked_id=target_id))
    target = await uow.users.get(target_id)
    assert target is not None
    return target


async def blocked_list(uow: UnitOfWork, actor_id: int) -> list[User]:
    """Whom the actor blocked, most recent first."""
    await active_user(uow, actor_id)
    rows = await uow.blocks.find(order_by="-created_at", blocker_id=actor_id)
    users = [await uow.users.get(b.blocked_id) for b in rows]
    return [u for u in users if u is not None]
