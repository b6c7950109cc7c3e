"""Scale-out benchmark: throughput and p99 with 1, 2 and 3 Gigbot processes on one
PostgreSQL, behind HAProxy, side by side (bench/cluster.py; docs/scale-out.md).

    .venv/bin/python -m bench.scale_bench                       # make scale-bench
    .venv/bin/python -m bench.scale_bench --people 300 --actions 6 --processes 1 2 3

Per run: a fresh database (the first process migrates it), the emulator with its flood
limits OFF and the bot's send rate raised (GIGBOT_SEND_RATE=1000): with Telegram's 30
messages a second every cluster would measure the same 30/s, and the point here is what
more processes add to handling. --people act at once, each sending --actions commands,
the next as soon as the bot answered the last (a closed loop). Figures: actions
answered per second of wall time, and the latency from a person's message to the
bot's answer as the emulator saw it (p50, p99, max).

Needs PostgreSQL (--postgres or GIGBOT_TEST_POSTGRES_URL) and haproxy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from sqlalchemy.engine import make_url

from bench.cluster import Cluster, haproxy_path
from bot.sandbox.limits import Limits

COMMANDS = ("start", "help", "balance", "settings", "menu")


async def admin(server: str, sql: str) -> None:
    import asyncpg

    url = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def measure(server: str, processes: int, args: argparse.Namespace) -> dict[str, float]:
    name = f"gigbot_scale_bench_{uuid.uuid4().hex[:8]}"
    await admin(server, f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    fast = {"GIGBOT_SEND_RATE": "1000", "GIGBOT_PRIVATE_CHAT_RATE": "1000"}
    latencies: list[float] = []
    try:
        async with Cluster(url, processes, limits=Limits(), extra_env=fast) as cluster:
            emu = cluster.emu
            people = [8_000_001 + i for i in range(args.people)]
            for user_id in people:
                emu.add_user(f"B{user_id}", user_id=user_id, language_code="en")

            async def act(user_id: int) -> None:
                for k in range(args.actions):
                    started = time.monotonic()
                    sent = emu.send_command(user_id, COMMANDS[k % len(COMMANDS)])
                    await emu.wait_for_message(user_id, after=sent["message_id"], timeout=300)
                    latencies.append(time.monotonic() - started)

            started = time.monotonic()
            await asyncio.gather(*(act(u) for u in people))
            wall = time.monotonic() - started
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {
        "actions/s": len(latencies) / wall,
        "p50 ms": percentile(latencies, 0.50) * 1000,
        "p99 ms": percentile(latencies, 0.99) * 1000,
        "max ms": max(latencies) * 1000,
        "wall s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_bench", description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("GIGBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--actions", type=int, default=5)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args(argv)
    if not args.postgres:
        print("needs PostgreSQL: --postgres URL or GIGBOT_TEST_POSTGRES_URL")
        return 2
    if haproxy_path() is None:
        print("needs haproxy (apt-get install -y haproxy)")
        return 2
    results = {}
    loads = []
    for n in args.processes:
        print(f"… {n} process(es): {args.people} people × {args.actions} actions", flush=True)
        results[n] = asyncio.run(measure(args.postgres, n, args))
        loads.append(os.getloadavg()[0])  # others load the machine: say how much
    columns = list(next(iter(results.values())))
    print(f"\n{'processes':>10}" + "".join(f"{c:>12}" for c in columns) + f"{'load 1m':>10}")
    for (n, figures), load in zip(results.items(), loads, strict=True):
        print(f"{n:>10}" + "".join(f"{figures[c]:>12.1f}" for c in columns) + f"{load:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
