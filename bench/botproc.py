"""Shared by the end-to-end benchmarks: the real bot in a subprocess, a timed fake Discord.

`TimedFakeDiscord` is the tests' strict loopback fake, stamping (time.perf_counter) when the
bot identified, when READY and the last GUILD_CREATE went out, and when each interaction
callback arrived. `BotProcess` runs `python -m bot --config FILE run` (what `hotpapers run`
runs), keeps its log lines with the time each arrived, and reads its memory and CPU time
from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.discord import FakeDiscord, Interaction  # noqa: E402

SOURCES = ("arxiv", "huggingface", "hackernews", "bluesky", "x", "mastodon")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ANSWER_WAIT = 10.0  # seconds: an interaction callback later than this is a failure
LINE_WAIT = 120.0  # seconds: a log line (start-up) later than this is a failure


class TimedFakeDiscord(FakeDiscord):
    """FakeDiscord that records when things happened (perf_counter seconds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identified_at: float | None = None
        self.ready_sent_at: float | None = None
        self.guilds_sent_at: float | None = None
        self.answered: dict[str, float] = {}  # interaction token -> callback arrival
        self._answer = asyncio.Event()

    async def _on_gateway(self, conn: Any, msg: dict[str, Any]) -> None:
        if msg.get("op") == 2 and self.identified_at is None:
            self.identified_at = time.perf_counter()
        await super()._on_gateway(conn, msg)

    async def _send_ready(self, conn: Any) -> None:
        self.ready_sent_at = time.perf_counter()
        await super()._send_ready(conn)
        self.guilds_sent_at = time.perf_counter()

    async def _callback(self, request: Any, iid: str, token: str) -> Any:
        arrived = time.perf_counter()
        response = await super()._callback(request, iid, token)
        self.answered.setdefault(token, arrived)
        self._answer.set()
        return response

    async def round_trip(self, data: dict[str, Any], **kw: Any) -> float:
        """Send one interaction; seconds until its callback arrived (at most ANSWER_WAIT)."""
        self._answer.clear()
        sent = time.perf_counter()
        inter: Interaction = await self.interact(data, **kw)
        async with asyncio.timeout(ANSWER_WAIT):
            while inter.token not in self.answered:
                await self._answer.wait()
                self._answer.clear()
        return self.answered[inter.token] - sent


def write_config(directory: Path, database: Path, fake: FakeDiscord) -> Path:
    """A config for the bot: this database, every source disabled, Discord = the fake."""
    path = directory / "config.toml"
    disabled = "".join(f"[sources.{s}]\nenabled = false\n" for s in SOURCES)
    path.write_text(
        f'[database]\npath = "{database}"\n'
        "[schedule]\ncatch_up_days = 1\n"
        f"{disabled}"
        f'[discord]\napi_base = "{fake.api_url}"\ngateway_url = "{fake.gateway_url}"\n'
    )
    return path


class BotProcess:
    """`python -m bot --config FILE run` as a child process, with its log lines timed."""

    def __init__(self, config: Path, token: str) -> None:
        self.config = config
        self.token = token
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.lines: list[tuple[float, str]] = []
        self._reader: asyncio.Task[None] | None = None
        self._new_line = asyncio.Event()

    async def start(self) -> None:
        env = {**os.environ, "HOTPAPERS_DISCORD_TOKEN": self.token}
        self.started_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(self.config),
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip()))
            self._new_line.set()

    async def wait_for_line(self, text: str) -> float:
        """perf_counter time at which a log line containing text arrived (at most LINE_WAIT)."""
        async with asyncio.timeout(LINE_WAIT):
            while True:
                for at, line in self.lines:
                    if text in line:
                        return at
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(f"the bot exited: {self.tail()}")
                self._new_line.clear()
                await self._new_line.wait()

    def tail(self, n: int = 20) -> str:
        return "\n".join(line for _, line in self.lines[-n:])

    def _proc_path(self, name: str) -> Path:
        assert self.proc is not None
        return Path(f"/proc/{self.proc.pid}/{name}")

    def rss_mb(self) -> float:
        """Resident memory (VmRSS) in MiB."""
        for line in self._proc_path("status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used."""
        fields = self._proc_path("stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
