"""Simulated voters against a real app process, and the check that nothing was lost or doubled.

Used by benchmarks/load_votes.py (by hand, long) and tests/arena/test_load.py (short, and the kill -9 run). The app
runs as its own process (``python app.py`` under uvicorn, as deployed), so it can be killed for real; the voters are
asyncio tasks in this process, each on its own keep-alive connection (tests.support.wire: aiohttp, so the client's
CPU does not crowd out the app's on the shared cores). Each voter takes a signed session, then loops:
start a battle, vote on it; now and then it votes twice (the second must be refused) or on another voter's battle
(refused too).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import Vote
from db.session import make_engine, make_session_factory, transaction
from tests.support.ports import reserve_port
from tests.support.wire import Wire, WireError

ROOT = Path(__file__).resolve().parents[2]
CHOICES = ("left", "right", "tie", "both_bad")


def load_env(root: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """ARENA_* settings of an app under load: limits raised (one client address runs every voter)."""
    env = {
        "ARENA_DATABASE_URL": database_url or f"sqlite:///{root / 'arena.db'}",
        "ARENA_MEDIA_DIR": str(root / "media"),
        "ARENA_MODELS_FILE": str(ROOT / "models.yaml"),
        "ARENA_SECRET": "load-test-secret",
        "ARENA_POOL_PREFILL": "false",
        "ARENA_SCORE_ON_START": "false",
        "ARENA_RATE_LIMITS": "false",
        "ARENA_MIN_VIEW_S": "0",  # voters vote at once
        "ARENA_MAX_OPEN_BATTLES_IP": "1000000",
        "ARENA_SWEEP_S": "2",
        "ARENA_HEARTBEAT_S": "1",
    }
    return env | extra


def prefill(env: dict[str, str], prompts: int, spares: int = 0) -> int:
    """Fill the battle pool (demo models, the first ``prompts`` suite prompts) in this process, with ``spares``
    served copies of each clip prepared ahead; returns its size."""
    from arena.services.container import Arena
    from arena.settings import Settings

    settings = {k.removeprefix("ARENA_").lower(): v for k, v in env.items()} | {"serve_spares": spares}
    arena = Arena.create(Settings(_env_file=None, **settings))  # type: ignore[call-arg, arg-type]
    try:
        arena.pool_videos.fill(limit_prompts=prompts)
        arena.spares.fill()
        return arena.pool_videos.count()
    finally:
        arena.close()


class AppProcess:
    """``python app.py`` on 127.0.0.1 with the given environment; killable with -9 and restarted on the same port,
    which stays reserved (tests/support/ports.py) until :meth:`stop`."""

    def __init__(self, env: dict[str, str], log: Path | None = None) -> None:
        self.env = env
        self._port = reserve_port()
        self.port = int(self._port.getsockname()[1])
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> AppProcess:
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode} (log: {self.log})")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the app did not answer within {timeout_s} s (log: {self.log})")

    def cpu_s(self) -> float:
        """CPU seconds the app process has used so far (user + system, from /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        """End the app and free its port."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._port.close()


@dataclass
class LoadResult:
    seconds: float = 0.0
    acked: dict[str, str] = field(default_factory=dict)  # battle id -> the acknowledged choice
    refused: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # battle id -> refusal codes
    unknown: set[str] = field(default_factory=set)  # no answer (connection lost): stored or not, we cannot know
    vote_ms: list[float] = field(default_factory=list)  # every vote request that got an answer
    start_ms: list[float] = field(default_factory=list)
    start_refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    live_started: int = 0  # typed-prompt battles started (generated by the queue)
    live_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # how they ended

    @property
    def votes_per_s(self) -> float:
        return len(self.acked) / self.seconds if self.seconds else 0.0

    def pct(self, values: list[float], q: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def summary(self) -> str:
        return (
            f"{len(self.acked)} votes acknowledged in {self.seconds:.1f} s = {self.votes_per_s:.0f} votes/s; "
            f"vote p50 {self.pct(self.vote_ms, 50):.0f} ms, p99 {self.pct(self.vote_ms, 99):.0f} ms; "
            f"battle start p50 {self.pct(self.start_ms, 50):.0f} ms, p99 {self.pct(self.start_ms, 99):.0f} ms; "
            f"refused {sum(len(v) for v in self.refused.values())} (as designed), "
            f"no answer {len(self.unknown)}, errors {dict(self.errors)}; "
            f"live battles {self.live_started} -> {dict(self.live_status)}"
        )


async def _ready(http: Wire, headers: dict[str, str], battle: dict[str, Any]) -> dict[str, Any]:
    """Poll a live battle until it leaves "generating" (as the page does)."""
    deadline = time.monotonic() + 120
    while battle.get("status") == "generating" and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        answer = await http.get(f"/api/battles/{battle['id']}", headers=headers)
        if answer.status_code != 200:
            return {"status": f"poll answered {answer.status_code}"}
        battle = answer.json()
    return battle


async def _session(http: Wire, result: LoadResult) -> str | None:
    try:
        return str((await http.get("/api/session")).json()["session"])
    except (WireError, ValueError, KeyError) as exc:
        result.errors[f"session: {type(exc).__name__}"] += 1
        return None


async def _voter(
    http: Wire,
    token: str,
    until: float,
    result: LoadResult,
    recent: list[tuple[str, str]],
    rng: random.Random,
    typed_share: float,
    stop: threading.Event,
) -> None:
    headers = {"x-arena-session": token}
    while time.monotonic() < until and not stop.is_set():
        typed = rng.random() < typed_share
        body = {"prompt": f"a red ball rolls left {rng.randrange(10**6)}"} if typed else {}
        t0 = time.perf_counter()
        try:
            started = await http.post("/api/battles", json=body, headers=headers)
            battle = started.json() if started.status_code == 200 else {}
            if typed and battle:
                result.live_started += 1
                battle = await _ready(http, headers, battle)
                result.live_status[str(battle.get("status"))] += 1
        except WireError as exc:
            result.errors[f"start: {str(exc).split(':')[0]}"] += 1
            await asyncio.sleep(0.2)
            continue
        if not typed:
            result.start_ms.append((time.perf_counter() - t0) * 1000)
        if started.status_code != 200:
            result.start_refusals[str(started.status_code)] += 1
            await asyncio.sleep(0.05)
            continue
        if battle.get("status") != "shown":
            continue
        battle_id = battle["id"]
        choice = rng.choice(CHOICES)
        await _vote(http, headers, battle_id, choice, result, expect_ok=True)
        if rng.random() < 0.05:  # a second vote on the same battle: refused, and changes nothing
            await _vote(http, headers, battle_id, rng.choice(CHOICES), result, expect_ok=False)
        if recent and rng.random() < 0.02:  # someone else's battle: refused
            other, _ = rng.choice(recent)
            await _vote(http, headers, other, rng.choice(CHOICES), result, expect_ok=False)
        recent.append((battle_id, token))
        del recent[:-500]


async def _vote(
    http: Wire,
    headers: dict[str, str],
    battle_id: str,
    choice: str,
    result: LoadResult,
    *,
    expect_ok: bool,
    due: float | None = None,
) -> None:
    """One vote; its time counts from ``due`` (a perf_counter time) when given: a paced vote sent late because the
    voter's previous one was slow counts its wait too (no coordinated omission)."""
    t0 = time.perf_counter() if due is None else due
    try:
        answer = await http.post(f"/api/battles/{battle_id}/vote", json={"choice": choice}, headers=headers)
    except WireError as exc:
        result.errors[f"vote: {str(exc).split(':')[0]}"] += 1
        if expect_ok:
            result.unknown.add(battle_id)
        return
    result.vote_ms.append((time.perf_counter() - t0) * 1000)
    if answer.status_code == 200 and answer.json().get("choice") == choice:
        if battle_id in result.acked:
            result.errors["a second vote was acknowledged"] += 1
        result.acked[battle_id] = choice
    elif 400 <= answer.status_code < 500 and "error" in answer.json():
        result.refused[battle_id].append(answer.json()["error"]["code"])
    else:
        result.errors[f"vote answered {answer.status_code}"] += 1
        if expect_ok:
            result.unknown.add(battle_id)


def run_voters(
    base: str,
    voters: int,
    seconds: float,
    seed: int = 0,
    typed_share: float = 0.0,
    stop: threading.Event | None = None,
    result: LoadResult | None = None,
) -> LoadResult:
    """``voters`` concurrent simulated voters for ``seconds`` or until ``stop`` is set (each finishes its current
    request); a ``typed_share`` of their battles are typed prompts, generated live and polled until ready. Pass a
    ``result`` to watch it fill from another thread (see :func:`kill_when`)."""
    result = result if result is not None else LoadResult()
    stop = stop or threading.Event()
    recent: list[tuple[str, str]] = []

    async def main() -> None:
        wires = [Wire(base) for _ in range(voters)]
        tokens = await asyncio.gather(*(_session(wire, result) for wire in wires))
        start = time.monotonic()
        until = start + seconds
        await asyncio.gather(
            *(
                _voter(wire, token, until, result, recent, random.Random(seed + i), typed_share, stop)
                for i, (wire, token) in enumerate(zip(wires, tokens, strict=True))
                if token
            )
        )
        result.seconds = time.monotonic() - start
        await asyncio.gather(*(wire.close() for wire in wires))

    asyncio.run(main())
    return result


def run_split(
    base: str,
    voters: int,
    per_voter: int,
    seed: int = 0,
    on_phase: Callable[[str], None] | None = None,
    rate: float | None = None,
) -> LoadResult:
    """The vote path alone: ``voters`` sessions each start ``per_voter`` battles (not timed), then all vote on all
    of them at once; ``seconds`` and the rate are of the voting phase only (battle starts re-encode clips and would
    otherwise set the pace). ``on_phase`` is told "voting" and "voted" around the voting phase. With ``rate``, the
    voters together cast that many votes per second, evenly spread (voter i's k-th vote is due at
    (k * voters + i) / rate), instead of each voting again the moment it is answered: the latency at that rate."""
    result = LoadResult()
    rng = random.Random(seed)
    phase = on_phase or (lambda _name: None)

    async def start_all(http: Wire, token: str) -> list[tuple[str, str]]:
        headers = {"x-arena-session": token}
        started = []
        for _ in range(per_voter):
            t0 = time.perf_counter()
            try:
                answer = await http.post("/api/battles", json={}, headers=headers)
            except WireError as exc:  # (a battle never started: nothing to vote on, nothing to check)
                result.errors[f"start: {str(exc).split(':')[0]}"] += 1
                continue
            result.start_ms.append((time.perf_counter() - t0) * 1000)
            if answer.status_code == 200 and answer.json().get("status") == "shown":
                started.append((answer.json()["id"], token))
            else:
                result.start_refusals[str(answer.status_code)] += 1
        return started

    async def vote_all(http: Wire, battles: list[tuple[str, str]], index: int, start: float) -> None:
        for k, (battle_id, token) in enumerate(battles):
            headers = {"x-arena-session": token}
            due = None
            if rate:
                due = start + (k * voters + index) / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _vote(http, headers, battle_id, rng.choice(CHOICES), result, expect_ok=True, due=due)

    async def main() -> None:
        wires = [Wire(base) for _ in range(voters)]
        tokens = await asyncio.gather(*(_session(wire, result) for wire in wires))
        ready = [(wire, token) for wire, token in zip(wires, tokens, strict=True) if token]
        battles = await asyncio.gather(*(start_all(wire, token) for wire, token in ready))
        await asyncio.to_thread(phase, "voting")
        start = time.perf_counter()
        await asyncio.gather(
            *(vote_all(wire, mine, i, start) for i, ((wire, _), mine) in enumerate(zip(ready, battles, strict=True)))
        )
        result.seconds = time.perf_counter() - start
        phase("voted")
        await asyncio.gather(*(wire.close() for wire in wires))

    asyncio.run(main())
    return result


def merge(results: list[LoadResult], parallel: bool) -> LoadResult:
    """One result of several runs (at the same time: ``parallel``; else one after the other)."""
    seconds = [r.seconds for r in results]
    out = LoadResult(seconds=max(seconds) if parallel else sum(seconds))
    for r in results:
        out.acked |= r.acked
        for battle, codes in r.refused.items():
            out.refused[battle] += codes
        out.unknown |= r.unknown
        out.vote_ms += r.vote_ms
        out.start_ms += r.start_ms
        out.live_started += r.live_started
        for key, n in r.errors.items():
            out.errors[key] += n
        for key, n in r.start_refusals.items():
            out.start_refusals[key] += n
        for key, n in r.live_status.items():
            out.live_status[key] += n
    return out


def kill_when(app: AppProcess, watched: LoadResult, votes: int, stop: threading.Event, grace_s: float = 2.0) -> None:
    """In a thread: kill -9 the app once ``votes`` votes of the ``watched`` run are acknowledged (so under load,
    more in flight), then set ``stop`` after ``grace_s`` more seconds of voters meeting a dead server. (Counting
    acknowledgements, not stored rows: a burst of fast votes can be stored before the first answer is sent.)"""

    def work() -> None:
        deadline = time.monotonic() + 300
        while len(watched.acked) < votes and time.monotonic() < deadline:
            time.sleep(0.1)
        app.kill()
        time.sleep(grace_s)
        stop.set()

    threading.Thread(target=work, name="killer", daemon=True).start()


@dataclass(frozen=True)
class Verification:
    stored: int
    lost: list[str]  # acknowledged, not stored
    duplicated: list[str]  # more than one vote row for a battle
    changed: list[str]  # stored with another choice than the one acknowledged
    refused_but_stored: list[str]  # every attempt refused, yet a vote is stored
    unexplained: list[str]  # stored, but never acknowledged nor left without an answer

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.changed or self.refused_but_stored or self.unexplained)


def verify(database_url: str, result: LoadResult) -> Verification:
    """Every acknowledged vote stored exactly once with its choice; nothing only refused is stored."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            rows = session.execute(select(Vote.battle_id, Vote.choice)).all()
            per_battle = dict(
                session.execute(select(Vote.battle_id, func.count(Vote.id)).group_by(Vote.battle_id)).all()
            )
    finally:
        engine.dispose()
    stored = {b: c.value for b, c in rows}
    return Verification(
        stored=len(rows),
        lost=[b for b in result.acked if b not in stored],
        duplicated=[b for b, n in per_battle.items() if n > 1],
        changed=[b for b, c in result.acked.items() if b in stored and stored[b] != c],
        refused_but_stored=[
            b for b in result.refused if b in stored and b not in result.acked and b not in result.unknown
        ],
        unexplained=[b for b in stored if b not in result.acked and b not in result.unknown],
    )
