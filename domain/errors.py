"""Domain errors: each carries a stable code (a translation key) and a plain reason."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes; never a crash."""

    code = "domain_error"

    def __init__(self, code: str | None = None, message: str = "", **params: object) -> None:
        super().__init__(message or code or self.code)
        if code:
            self.code = code
        self.message = message or self.code
        self.params = params


class ValidationError(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    """The actor may not do this to this object (now)."""

    code = "not_allowed"


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, entity: str, state: str, action: str) -> None:
        super().__init__(
            "illegal_transition",
            f"A {entity} that is {state} cannot be {action}.",
            entity=entity,
            state=state,
            action=action,
        )
        self.entity, self.state, self.action = entity, state, action


class QuotaExceeded(DomainError):
    code = "quota_exceeded"


class PaymentError(DomainError):
    """The gateway refused or failed.

    `nothing_moved`: the gateway guarantees the request had no effect (it rejected
    it), so the movement may be given up and undone in the ledger. Any other
    failure (busy, unreachable, a server error, an idempotency conflict) may hide a
    movement that happened: the call stays due and is retried with the same key.
    """

    code = "payment_failed"
    NOTHING_MOVED = frozenset(
        {
            "card_declined",
            "gateway_rejected",
            "payment_not_captured",
            "payouts_unavailable",
            "stripe_onboarding_required",
        }
    )

    @property
    def nothing_moved(self) -> bool:
        return self.code in self.NOTHING_MOVED
