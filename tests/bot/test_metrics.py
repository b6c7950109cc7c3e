"""/metrics through prometheus-client (issue 18, part 4): one registry per app, the
exposition parsed by prometheus_client's own parser, the update-handling latency
and outbox-lag histograms filled by the real dispatcher, Engine and sender (aiogram
and python-telegram-bot against the Bot API emulator, on real SQLite)."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import aiohttp
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.dispatch import UpdateDispatcher
from bot.http import build_http_app
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.sender import OutboxSender
from domain.config import MarketConfig
from handlers.engine import Engine
from handlers.events import Event
from tests.bot.test_sender import (  # noqa: F401 (fixtures)
    FAST,
    ShiftClock,
    api,
    clock,
    emu,
    limits,
    open_chats,
    sdb,
)
from tests.e2e.harness import serve

LAG_S = 40  # the clock moves this far between a reply's commit and its sending


def families(text: str) -> dict[str, prometheus_client.Metric]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def histogram(family: prometheus_client.Metric) -> tuple[dict[float, float], float, float]:
    """(cumulative count per upper bound, count, sum), checked to be a well-formed histogram."""
    assert family.type == "histogram"
    buckets = {float(s.labels["le"]): s.value for s in family.samples if s.name.endswith("_bucket")}
    [count] = [s.value for s in family.samples if s.name.endswith("_count")]
    [total] = [s.value for s in family.samples if s.name.endswith("_sum")]
    bounds = sorted(buckets)
    assert bounds[-1] == float("inf") and buckets[bounds[-1]] == count
    assert all(buckets[a] <= buckets[b] for a, b in pairwise(bounds))
    return buckets, count, total


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_metrics_parse_and_carry_the_latency_and_lag_histograms(
    sdb,  # noqa: F811
    emu,  # noqa: F811
    api,  # noqa: F811
    clock: ShiftClock,  # noqa: F811
) -> None:
    open_chats(emu, [4242])
    metrics = Metrics()
    engine = Engine(sdb.uow, clock, MarketConfig())
    dispatcher = UpdateDispatcher(engine, metrics=metrics)
    await dispatcher.submit(
        Event(kind="command", command="start", user_id=4242, chat_id=4242, update_id=1)
    )
    await asyncio.wait_for(dispatcher.drain(), 10)
    clock.advance(seconds=LAG_S)  # the replies wait: their lag is at least LAG_S
    sender = OutboxSender(sdb, api, RateLimiter(FAST), metrics)
    assert await sender.flush(10)
    sent = len([c for c in emu.calls_to("sendMessage") if c.status == 200])
    assert sent >= 1

    app = build_http_app(database=sdb, metrics=metrics)
    async with serve(app) as base, aiohttp.ClientSession() as session:
        async with session.get(base + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            found = families(await response.text())

    handled = found["gigbot_updates_handled"]
    assert handled.type == "counter"
    assert [(s.labels, s.value) for s in handled.samples if s.name.endswith("_total")] == [
        ({"kind": "command", "result": "ok"}, 1.0)
    ]
    _, handling_count, handling_sum = histogram(found["gigbot_update_handling_seconds"])
    _, latency_count, latency_sum = histogram(found["gigbot_update_latency_seconds"])
    assert handling_count == latency_count == 1
    assert latency_sum >= handling_sum  # arrival comes before the handling starts

    lag, lag_count, lag_sum = histogram(found["gigbot_outbox_lag_seconds"])
    assert lag_count == sent
    assert lag[30.0] == 0 and lag[60.0] == sent  # each reply waited LAG_S and a little
    assert lag_sum >= sent * LAG_S
    sends = found["gigbot_messages_sent"]
    assert {s.labels["method"]: s.value for s in sends.samples if s.name.endswith("_total")} == {
        "send": sent
    }
    assert found["gigbot_outbox_depth"].samples[0].value == 0
    assert found["gigbot_telegram_429"].type == "counter"
    assert found["gigbot_telegram_403"].type == "counter"


async def test_each_app_has_its_own_registry() -> None:
    """Two apps in one process count apart, and nothing lands in the library's global
    REGISTRY (where a second app would fail with 'Duplicated timeseries')."""
    first, second = Metrics(), Metrics()
    first.rate_limited.inc()
    first.messages_sent.inc(method="chart")
    first.outbox_lag.observe(2.0)
    assert first.rate_limited.value() == 1 and second.rate_limited.value() == 0
    assert first.messages_sent.value(method="chart") == 1
    assert first.outbox_lag.count == 1 and second.outbox_lag.count == 0
    assert prometheus_client.REGISTRY.get_sample_value("gigbot_telegram_429_total") is None
    text = await first.render()
    assert 'gigbot_messages_sent_total{method="chart"} 1.0' in text
    assert families(await second.render())["gigbot_telegram_429"].samples[0].value == 0
    with pytest.raises(ValueError):
        first.messages_sent.inc()  # a labelled counter needs its labels
