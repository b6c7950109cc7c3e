"""The marketplace's use cases: async functions over the ports (domain.ports).

Convention: ``async def name(uow, clock, config, actor_id, ...)`` — parameters a
use case does not need are dropped, the order is kept. Each use case loads what
it needs (locking the rows it changes), re-authorises the actor, applies the
state machine, persists, records ledger transactions, and emits domain events.
Use cases never commit: the caller commits the unit of work, so a change and
its notifications are one transaction. Refusals are DomainErrors with a stable
``code`` (a translation key).

Modules: accounts, profiles, jobs, alerts, pitches, contracts, payments
(payment_checks: a gateway's news checked against the payment), milestones,
disputes, payouts, messaging, reviews, reports, deadlines (the scheduler's
work), queries and admin (read models); settlement is the one path that empties
an escrow; common holds the shared checks.

Events: each use case records what happened as a typed event of
domain/events.py (``uow.emit(MilestoneFunded(...))``, kept in ``uow.events``),
for the handlers to render in the same transaction; that module is the catalogue
(every event class, its fields and, for an event nobody is told about, why).
"""
