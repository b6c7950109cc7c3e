"""The marketplace's rules that operators set (from bot/config.py's settings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MarketConfig:
    currency: str = "USD"
    client_fee_bp: int = 500  # 5 %
    freelancer_fee_bp: int = 1000  # 10 %
    auto_release_days: int = 14
    reminder_hours: tuple[int, ...] = (48, 24)  # before auto-release
    offer_expiry_days: int = 7
    review_window_days: int = 14  # double-blind reviews are revealed by then
    weekly_pitch_quota: int = 20
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    payments: str = "sandbox"

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
