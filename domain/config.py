"""The marketplace's rules that operators set (from bot/config.py's settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

# Delivered outbox rows are kept at least this long whatever the setting says: a day
# of history to answer "did my message go out?" with.
MIN_OUTBOX_KEEP_DAYS = 1


@dataclass(frozen=True, slots=True)
class MarketConfig:
    currency: str = "USD"
    client_fee_bp: int = 500  # 5 %
    freelancer_fee_bp: int = 1000  # 10 %
    auto_release_days: int = 14
    reminder_hours: tuple[int, ...] = (48, 24)  # before auto-release
    offer_expiry_days: int = 7
    # The dispute clock (domain/usecases/deadlines.py): days the other party has to
    # answer (silence settles for the opener), reminders before that, days to agree
    # a split after an answer; then admins decide, reminded after admin_wait_days.
    dispute_response_days: int = 4
    dispute_reminder_hours: tuple[int, ...] = (48, 24)
    dispute_negotiation_days: int = 7
    dispute_admin_wait_days: int = 2
    # A funded milestone with no submission this many days past its due date is
    # stalled escrow: both parties are nudged then, and again every as many days.
    stalled_after_days: int = 7
    # Hourly contracts (domain/usecases/hourly.py): days to review a weekly invoice
    # before it is paid automatically; the weekday (0 = Monday) weeks start, 00:00 UTC.
    timesheet_review_days: int = 5
    timesheet_week_start: int = 0
    review_window_days: int = 14  # double-blind reviews are revealed by then
    # Jobs that end (domain/usecases/job_expiry.py): no activity this many days asks
    # the client "Still hiring?"; unanswered, the job closes after the grace days.
    job_expiry_days: int = 30
    job_expiry_grace_days: int = 7
    weekly_pitch_quota: int = 20
    # Service orders (domain/usecases/service_orders.py): hours a seller has to
    # accept a paid order (silence refunds it), days a delivery waits for the buyer
    # before it completes itself, and the price of a paid extra revision in percent
    # of the package's price.
    service_accept_hours: int = 24
    service_auto_complete_days: int = 3
    service_extra_revision_percent: int = 20
    # Days the freelancer has to answer a partial release (domain/usecases/bonus.py):
    # unanswered, the offer lapses and the work is under review again.
    partial_offer_days: int = 4
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    payments: str = "sandbox"
    # An update id seen again within this many hours is a duplicate; later, a new
    # update (domain/usecases/updates.py).
    update_dedup_hours: int = 24
    # Delivered outbox rows (sent, failed, unreachable) older than this many days are
    # forgotten by the scheduler (domain/usecases/outbox_retention.py); at least
    # MIN_OUTBOX_KEEP_DAYS.
    outbox_keep_days: int = 30

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    @property
    def update_dedup_window(self) -> timedelta:
        return timedelta(hours=self.update_dedup_hours)

    @property
    def outbox_keep(self) -> timedelta:
        return timedelta(days=max(self.outbox_keep_days, MIN_OUTBOX_KEEP_DAYS))
