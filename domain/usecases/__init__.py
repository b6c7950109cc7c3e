"""The marketplace's use cases: async functions over the ports (domain.ports).

Convention: ``async def name(uow, clock, config, actor_id, ...)`` — parameters a
use case does not need are dropped, the order is kept. Each use case loads what
it needs (locking the rows it changes), re-authorises the actor, applies the
state machine, persists, records ledger transactions, and emits DomainEvents.
Use cases never commit: the caller commits the unit of work, so a change and
its notifications are one transaction. Refusals are DomainErrors with a stable
``code`` (a translation key).

Events (``uow.events``; kind: data) for the handlers to render:

accounts
- user_registered: user_id
- user_banned: user_id, reason
- user_unbanned: user_id
"""
