"""The escrow ledger, double-entry: pure construction of balanced transactions.

Accounts (strings, so the ledger needs no table per kind):
- `gateway:<name>`           money that came in from a payer through a gateway (goes negative)
- `escrow:milestone:<id>`    money held for one milestone (never negative)
- `freelancer:<user id>`     a freelancer's withdrawable balance (never negative)
- `platform:fees`            the marketplace's income
- `payouts:<gateway>`        money paid out to freelancers

Every transaction has a unique idempotency key; storage refuses a second
transaction with the same key, which makes a replay a no-op. The settlement
of a milestone (release, refund or split) always uses the key
`settle:milestone:<id>`, so a milestone is settled at most once by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.fees import Settlement

PLATFORM_FEES = "platform:fees"


def escrow_account(milestone_id: int) -> str:
    return f"escrow:milestone:{milestone_id}"


def freelancer_account(user_id: int) -> str:
    return f"freelancer:{user_id}"


def gateway_account(gateway: str) -> str:
    return f"gateway:{gateway}"


def payouts_account(gateway: str) -> str:
    return f"payouts:{gateway}"


def fund_key(milestone_id: int) -> str:
    return f"fund:milestone:{milestone_id}"


def settle_key(milestone_id: int) -> str:
    return f"settle:milestone:{milestone_id}"


def payout_key(payout_id: int) -> str:
    return f"payout:{payout_id}"


def transfer_key(milestone_id: int) -> str:
    """One gateway transfer per released milestone (Stripe Connect)."""
    return f"transfer:milestone:{milestone_id}"


@dataclass(frozen=True, slots=True)
class Entry:
    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class TransactionDraft:
    key: str
    kind: str
    currency: str
    entries: tuple[Entry, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if len(self.entries) < 2:
            raise ValueError("a transaction needs two or more postings")
        if sum(e.amount for e in self.entries) != 0:
            raise ValueError(f"unbalanced transaction {self.key}")


def _drop_zero(entries: list[Entry]) -> tuple[Entry, ...]:
    kept = tuple(e for e in entries if e.amount != 0)
    return kept


def funding(milestone_id: int, total: int, currency: str, gateway: str) -> TransactionDraft:
    """The payer's money (amount + client fee) enters the milestone's escrow."""
    if total <= 0:
        raise ValueError("funding must be positive")
    return TransactionDraft(
        key=fund_key(milestone_id),
        kind="fund",
        currency=currency,
        entries=(
            Entry(gateway_account(gateway), -total),
            Entry(escrow_account(milestone_id), total),
        ),
    )


def settling(
    milestone_id: int,
    freelancer_id: int,
    split: Settlement,
    currency: str,
    gateway: str,
    kind: str,
) -> TransactionDraft:
    """Empty the milestone's escrow: to the freelancer, the platform and back to the client."""
    parts = (split.to_freelancer, split.to_platform, split.to_client)
    if min(parts) < 0 or split.total <= 0:
        raise ValueError("a settlement moves a positive escrow in non-negative parts")
    entries = _drop_zero(
        [
            Entry(escrow_account(milestone_id), -split.total),
            Entry(freelancer_account(freelancer_id), split.to_freelancer),
            Entry(PLATFORM_FEES, split.to_platform),
            # A refund flows back out through the gateway that brought the money in.
            Entry(gateway_account(gateway), split.to_client),
        ]
    )
    return TransactionDraft(
        key=settle_key(milestone_id), kind=kind, currency=currency, entries=entries
    )


def _paid_out(
    key: str, user_id: int, amount: int, currency: str, gateway: str, memo: str = ""
) -> TransactionDraft:
    """Money leaves a freelancer's balance through a gateway."""
    if amount <= 0:
        raise ValueError("a payout must be positive")
    return TransactionDraft(
        key=key,
        kind="payout",
        currency=currency,
        entries=(
            Entry(freelancer_account(user_id), -amount),
            Entry(payouts_account(gateway), amount),
        ),
        memo=memo,
    )


def payout(
    payout_id: int, user_id: int, amount: int, currency: str, gateway: str
) -> TransactionDraft:
    """A withdrawal the freelancer asked for."""
    return _paid_out(payout_key(payout_id), user_id, amount, currency, gateway)


def milestone_transfer(
    milestone_id: int, user_id: int, amount: int, currency: str, gateway: str, memo: str = ""
) -> TransactionDraft:
    """A released milestone's freelancer share leaves as a transfer to their account."""
    return _paid_out(transfer_key(milestone_id), user_id, amount, currency, gateway, memo)


def payout_reversal(
    key: str, user_id: int, amount: int, currency: str, gateway: str
) -> TransactionDraft:
    """A payout or transfer (its ledger key `key`) that the gateway rejected: the
    money it took from the freelancer's balance goes back there."""
    if amount <= 0:
        raise ValueError("a reversal must be positive")
    return TransactionDraft(
        key=f"reversal:{key}",
        kind="reversal",
        currency=currency,
        entries=(
            Entry(payouts_account(gateway), -amount),
            Entry(freelancer_account(user_id), amount),
        ),
    )
