"""A real cluster on 127.0.0.1: N Gigbot processes (`python -m bot.cli run`) on one
PostgreSQL database, behind HAProxy, served by the Bot API emulator (bot/sandbox) with
Telegram's limits, which delivers its webhook through the balancer. Used by the
scale-out test (tests/scale) and the scale benchmark (bench/scale_bench.py).

    async with Cluster(database_url, processes=3) as cluster:
        cluster.emu.send_command(user_id, "start")
        await cluster.kill(1)        # SIGKILL
        await cluster.restart(1)

The emulator runs in this process; every send it accepts is timed (`sent_at`) and every
429 counted (`refused`), on its own clock, as Telegram would see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox import Emulator
from bot.sandbox.app import create_sandbox_app
from bot.sandbox.errors import ApiError
from bot.sandbox.limits import Limits

TOKEN = "1000000001:SCALE-gigbot-token"
SECRET = "scale-secret"
HOOK_PATH = "/tg/hook"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120  # a loaded 2-core machine starts three processes slowly


def haproxy_path() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


HAPROXY_CONFIG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    # A POST to a process that just died goes to another one (the update is idempotent).
    retry-on conn-failure empty-response 503
    option http-buffer-request
frontend telegram
    bind 127.0.0.1:{port}
    default_backend gigbot
backend gigbot
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    # Two failed checks in a row take a process out: on a loaded machine one check of a
    # live process may time out, and with another process being restarted that would
    # leave none ("503 No server is available").
    timeout check 2s
    default-server inter 250ms fall 2 rise 1
{servers}
"""


class Process:
    def __init__(self, index: int, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.index = index
        self.env = env
        self.port = port
        self.log_path = log_dir / f"gigbot-{index}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=self.env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(ready))
        async with asyncio.timeout(START_TIMEOUT_S):
            await ready

    async def _read(self, ready: asyncio.Future[None]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.log_path.open("ab") as log:
            while line := await self.proc.stdout.readline():
                log.write(line)
                if not ready.done() and b"serving @" in line:
                    ready.set_result(None)
        if not ready.done():
            ready.set_exception(RuntimeError(f"gigbot {self.index} exited; see {self.log_path}"))

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(60):
            code = await self.proc.wait()
            if self._reader is not None:
                await self._reader
        return code


class Cluster:
    def __init__(
        self,
        database_url: str,
        processes: int = 3,
        *,
        limits: Limits | None = None,
        redis_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.size = processes
        self.emu = Emulator(TOKEN, limits=limits or Limits.telegram())
        self.sent_at: list[float] = []  # monotonic times of the sends the emulator accepted
        self.refused = 0  # 429s the emulator answered
        self.refusals: list[tuple[int, float]] = []  # (chat, when) of each 429
        self.chat_sends: list[tuple[int, float]] = []  # (chat, when) of each accepted send
        self.update_users: dict[int, int] = {}  # update_id -> the user who caused it
        self.redis_url = redis_url
        self.extra_env = extra_env or {}
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="gigbot-cluster-"))
        self.lb_port = free_port()
        self.ports = [free_port() for _ in range(processes)]
        self.processes: list[Process] = []
        self._runner: web.AppRunner | None = None
        self._haproxy: asyncio.subprocess.Process | None = None
        self._instrument()

    def _instrument(self) -> None:
        """Time what the emulator accepts and count what it refuses (Telegram's view)."""
        limiter = self.emu.rate_limiter
        check = limiter.check

        def timed_check(chat_id: int) -> None:
            try:
                check(chat_id)
            except ApiError as error:
                if error.code == 429:
                    self.refused += 1
                    self.refusals.append((chat_id, time.monotonic()))
                raise
            self.sent_at.append(time.monotonic())
            self.chat_sends.append((chat_id, self.sent_at[-1]))

        limiter.check = timed_check  # type: ignore[method-assign]
        push = self.emu.push_update

        def recorded_push(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
            update = push(kind, payload)
            who = payload.get("from") if isinstance(payload, dict) else None
            if update is not None and isinstance(who, dict):
                self.update_users[update["update_id"]] = int(who["id"])
            return update

        self.emu.push_update = recorded_push  # type: ignore[method-assign]

    def env_for(self, index: int) -> dict[str, str]:
        port = self.ports[index]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "GIGBOT_BOT_TOKEN": TOKEN,
            "GIGBOT_TELEGRAM_API_BASE": self.api_base,
            "GIGBOT_DATABASE_URL": self.database_url,
            "GIGBOT_WEBHOOK_URL": f"http://127.0.0.1:{self.lb_port}{HOOK_PATH}",
            "GIGBOT_WEBHOOK_SECRET": SECRET,
            "GIGBOT_HTTP_HOST": "127.0.0.1",
            "GIGBOT_HTTP_PORT": str(port),
            "GIGBOT_PUBLIC_URL": f"http://127.0.0.1:{self.lb_port}",
            "GIGBOT_ALLOW_SANDBOX_PAYMENTS": "true",
            "GIGBOT_INSTANCE_ID": f"gigbot-{index}-{port}",
            "GIGBOT_DB_POOL_SIZE": "6",
            "GIGBOT_DB_MAX_OVERFLOW": "4",
            "GIGBOT_TICK_SECONDS": "5",
            "GIGBOT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        if self.redis_url:
            env["GIGBOT_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    @property
    def api_base(self) -> str:
        assert self._runner is not None
        return f"http://127.0.0.1:{self._api_port}"

    async def __aenter__(self) -> Cluster:
        binary = haproxy_path()
        if binary is None:
            raise RuntimeError("haproxy is not installed (apt-get install -y haproxy)")
        self._runner = web.AppRunner(create_sandbox_app(self.emu, page=False), shutdown_timeout=1)
        await self._runner.setup()
        self._api_port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self._api_port).start()
        servers = "\n".join(
            f"    server g{i} 127.0.0.1:{port} check" for i, port in enumerate(self.ports)
        )
        config = self.log_dir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.lb_port, servers=servers))
        self._haproxy = await asyncio.create_subprocess_exec(
            binary,
            "-f",
            str(config),
            "-db",
            stdout=(self.log_dir / "haproxy.log").open("ab"),
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            self.processes = [
                Process(i, self.env_for(i), port, self.log_dir) for i, port in enumerate(self.ports)
            ]
            # At once: migrating is under a lock, the others then find the schema current.
            await asyncio.gather(*(process.start() for process in self.processes))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def kill(self, index: int) -> None:
        """SIGKILL: nothing is finished, nothing given back."""
        process = self.processes[index]
        process.kill()
        await process.stop()

    async def restart(self, index: int) -> None:
        old = self.processes[index]
        self.processes[index] = Process(index, self.env_for(index), old.port, self.log_dir)
        await self.processes[index].start()

    async def __aexit__(self, *exc: object) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                await process.stop()
        if self._haproxy is not None and self._haproxy.returncode is None:
            self._haproxy.terminate()
            with contextlib.suppress(Exception):
                await self._haproxy.wait()
        if self._runner is not None:
            await self._runner.cleanup()

    def most_sent_in_one_second(self) -> int:
        """The highest number of accepted sends in any one-second window."""
        times = sorted(self.sent_at)
        best, start = 0, 0
        for end, t in enumerate(times):
            while times[start] <= t - 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best
