"""Prometheus metrics through prometheus-client, served by GET /metrics.

Each `Metrics` (one per running app) owns its own `CollectorRegistry`: nothing is
registered in the library's process-global REGISTRY, so several apps in one process
(tests run many) never share or double-register a metric. The exposition is the
library's (`generate_latest`), so it is whatever Prometheus parses.

Who records what:
- bot/dispatch.py: updates_handled{kind,result}; handling_seconds (the handler's
  work: taking an update to its commit); update_latency_seconds (from the update's
  arrival in this process to its handling done, waits in its user's queue included).
- bot/sender.py: messages_sent{method}, rate_limited (429s), forbidden (403s);
  outbox_lag_seconds (a row's creation, in the transaction that caused it, to
  Telegram accepting it); outbox_depth is set from the store's pending count (by
  the sender, or read at scrape time through `Metrics.outbox_depth_source`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import prometheus_client as prom
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# The 0.0.4 text format: what generate_latest writes and every Prometheus reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A row waits for the send budget, retries and 429 pauses: seconds to minutes.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Counter:
    """A counter with optional labels: `inc(**labels)`; `value(**labels)` reads it back."""

    def __init__(
        self, registry: CollectorRegistry, name: str, help_text: str, labels: Sequence[str] = ()
    ) -> None:
        self.registry = registry
        self.name = name if name.endswith("_total") else f"{name}_total"
        self.label_names = tuple(labels)
        self._metric = prom.Counter(name, help_text, self.label_names, registry=registry)

    def inc(self, amount: float = 1, **labels: str) -> None:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        (self._metric.labels(**labels) if labels else self._metric).inc(amount)

    def value(self, **labels: str) -> float:
        return self.registry.get_sample_value(self.name, labels) or 0.0


class Gauge:
    def __init__(self, registry: CollectorRegistry, name: str, help_text: str) -> None:
        self.registry = registry
        self.name = name
        self._metric = prom.Gauge(name, help_text, registry=registry)

    def set(self, value: float) -> None:
        self._metric.set(value)

    def value(self) -> float:
        return self.registry.get_sample_value(self.name) or 0.0


class Histogram:
    def __init__(
        self,
        registry: CollectorRegistry,
        name: str,
        help_text: str,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = registry
        self.name = name
        self._metric = prom.Histogram(name, help_text, buckets=tuple(buckets), registry=registry)

    def observe(self, value: float) -> None:
        self._metric.observe(value)

    @property
    def count(self) -> int:
        return int(self.registry.get_sample_value(f"{self.name}_count") or 0)

    @property
    def sum(self) -> float:
        return self.registry.get_sample_value(f"{self.name}_sum") or 0.0


class Metrics:
    """The runtime's metrics; one instance (and one registry) per running app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates_handled = Counter(
            r,
            "gigbot_updates_handled_total",
            "Telegram updates handled, by event kind and result (ok, duplicate, error).",
            ("kind", "result"),
        )
        self.handling_seconds = Histogram(
            r, "gigbot_update_handling_seconds", "Time from taking an update to its commit."
        )
        self.update_latency = Histogram(
            r,
            "gigbot_update_latency_seconds",
            "Time from an update's arrival in this process to its handling done "
            "(waits behind the same user's earlier updates included).",
        )
        self.outbox_depth = Gauge(r, "gigbot_outbox_depth", "Outbox messages waiting to be sent.")
        self.outbox_lag = Histogram(
            r,
            "gigbot_outbox_lag_seconds",
            "Time from an outbox row's creation to Telegram accepting it.",
            LAG_BUCKETS,
        )
        self.messages_sent = Counter(
            r,
            "gigbot_messages_sent_total",
            "Bot API deliveries from the outbox, by method.",
            ("method",),
        )
        self.rate_limited = Counter(
            r, "gigbot_telegram_429_total", "Bot API calls answered 429 Too Many Requests."
        )
        self.forbidden = Counter(
            r, "gigbot_telegram_403_total", "Bot API calls answered 403 (the user blocked the bot)."
        )
        # Set by the app: reads the pending count at scrape time (the truth is the table).
        self.outbox_depth_source: Callable[[], Awaitable[int]] | None = None

    async def render(self) -> str:
        """The text exposition of this app's registry."""
        if self.outbox_depth_source is not None:
            self.outbox_depth.set(await self.outbox_depth_source())
        return prom.generate_latest(self.registry).decode()
