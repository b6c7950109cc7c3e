"""Prometheus metrics, rendered in the text exposition format by GET /metrics.

Written here instead of using prometheus-client: we need six metrics, and that
library keeps one process-global registry, which makes several apps in one
process (tests run many) share and double-register counters. A `Metrics`
object per app keeps them apart; the format is small and stable
(https://prometheus.io/docs/instrumenting/exposition_formats/).

Who increments what:
- bot/dispatch.py: updates_handled{kind,result}, handling_seconds.
- bot/sender.py: messages_sent{method}, rate_limited (429s), forbidden (403s);
  outbox_depth is set from the store's pending count (by the sender, or read at
  scrape time through `Metrics.outbox_depth_source`).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Awaitable, Callable, Sequence


def _labels_text(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    parts = []
    for name, value in zip(names, values, strict=True):
        escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{name}="{escaped}"')
    return "{" + ",".join(parts) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {} if labels else {(): 0.0}

    def inc(self, amount: float = 1, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        lines = self.header()
        for key, value in sorted(self._values.items()):
            lines.append(f"{self.name}{_labels_text(self.label_names, key)} {_number(value)}")
        return lines


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._value = 0.0

    def set(self, value: float) -> None:
        self._value = float(value)

    def value(self) -> float:
        return self._value

    def render(self) -> list[str]:
        return [*self.header(), f"{self.name} {_number(self._value)}"]


DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * (len(self.buckets) + 1)  # the last one is +Inf
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.buckets, value)] += 1
            self._sum += value

    @property
    def count(self) -> int:
        return sum(self._counts)

    def render(self) -> list[str]:
        lines = self.header()
        cumulative = 0
        for bound, count in zip((*self.buckets, math.inf), self._counts, strict=True):
            cumulative += count
            lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {cumulative}')
        lines.append(f"{self.name}_sum {_number(self._sum)}")
        lines.append(f"{self.name}_count {cumulative}")
        return lines


class Metrics:
    """The runtime's metrics; one instance per running app."""

    def __init__(self) -> None:
        self.updates_handled = Counter(
            "gigbot_updates_handled_total",
            "Telegram updates handled, by event kind and result (ok, duplicate, error).",
            ("kind", "result"),
        )
        self.handling_seconds = Histogram(
            "gigbot_update_handling_seconds", "Time from taking an update to its commit."
        )
        self.outbox_depth = Gauge("gigbot_outbox_depth", "Outbox messages waiting to be sent.")
        self.messages_sent = Counter(
            "gigbot_messages_sent_total",
            "Bot API deliveries from the outbox, by method.",
            ("method",),
        )
        self.rate_limited = Counter(
            "gigbot_telegram_429_total", "Bot API calls answered 429 Too Many Requests."
        )
        self.forbidden = Counter(
            "gigbot_telegram_403_total", "Bot API calls answered 403 (the user blocked the bot)."
        )
        # Set by the app: reads the pending count at scrape time (the truth is the table).
        self.outbox_depth_source: Callable[[], Awaitable[int]] | None = None

    def all(self) -> list[_Metric]:
        return [
            self.updates_handled,
            self.handling_seconds,
            self.outbox_depth,
            self.messages_sent,
            self.rate_limited,
            self.forbidden,
        ]

    async def render(self) -> str:
        if self.outbox_depth_source is not None:
            self.outbox_depth.set(await self.outbox_depth_source())
        lines: list[str] = []
        for metric in self.all():
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
