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
    code = "payment_failed"
