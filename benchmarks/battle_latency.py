"""Battle latency through the JSON API: POST /api/battles until both videos are downloaded (ready to play).

Run by hand: `.venv/bin/python benchmarks/battle_latency.py [--battles 200] [--clients 2]`. A real uvicorn
server on 127.0.0.1 serves the API with 2 worker threads, on a temporary SQLite database whose pool holds the
offline demo models' videos. Every served copy is a fresh re-encode (arena.services.served): measured with the
copies re-encoded on the battle's request and with copies prepared ahead (spares, as the app's background thread
keeps them; filled before the run here, and the time that took is printed). Prints p50/p95 for pool battles,
with 1 and with N concurrent clients, and the ratio of p50 to the 300 ms goal. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio.to_thread
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arena.api import create_api  # noqa: E402
from arena.services.container import Arena  # noqa: E402
from arena.services.vote_import import import_votes  # noqa: E402
from arena.settings import Settings  # noqa: E402
from tests.support.servers import ThreadedServer  # noqa: E402

GOAL_MS = 300.0
WINNERS = ("model_a", "model_b", "tie")


def one_battle(http: httpx.Client) -> float:
    start = time.perf_counter()
    battle = http.post("/api/battles", json={}).raise_for_status().json()
    for side in ("left", "right"):
        http.get(battle[side]["video_url"]).raise_for_status()
    return (time.perf_counter() - start) * 1000


def run(url: str, battles: int, clients: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            one_battle(http)  # warm-up: session cookie, connection
            for _ in range(n):
                t = one_battle(http)
                with lock:
                    times.append(t)

    threads = [threading.Thread(target=worker, args=(battles // clients,)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def fake_votes(arena: Arena, n: int, path: Path) -> Path:
    """n past anonymous votes on the pool's prompts, as an export file (FastChat-style rows)."""
    rng = random.Random(0)
    prompts = arena.prompts.listed()
    models = [m.id for m in arena.catalog.enabled()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            a, b = rng.sample(models, 2)
            p = rng.choice(prompts)
            row = {
                "battle_id": f"past{i:07d}",
                "model_a": a,
                "model_b": b,
                "winner": rng.choice(WINNERS),
                "mode": "anonymous",
                "prompt_key": p["key"],
                "prompt": p["text"],
                "language": p["language"],
                "category": p["category"],
                "suite": "demo",
                "session_id": f"s{i % 97}",
                "tstamp": 1.7e9 + i,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--battles", type=int, default=100)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=12, help="suite prompts to pre-generate")
    parser.add_argument("--votes", type=int, default=0, help="past anonymous votes to import first (scale)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="arena-bench-"))
    settings = Settings(
        database_url=f"sqlite:///{root / 'arena.db'}",
        media_dir=root / "media",
        models_file=ROOT / "models.yaml",
        prompts_file=ROOT / "arena" / "suites" / "data" / "demo.yaml",
        rate_limits=False,  # one client at full speed: the limits would refuse most of it
        max_open_battles=10**6,
        max_open_battles_ip=10**6,
        serve_spares=0,
    )
    arena = Arena.create(settings)
    arena.pool_videos.fill(limit_prompts=args.prompts)
    if args.votes:
        import_votes(arena.factory, fake_votes(arena, args.votes, root / "votes.jsonl"))
    videos, models = arena.pool_videos.count(), len(arena.catalog.enabled())
    print(f"pool: {videos} videos of {models} demo models; {args.votes} past votes")
    app = create_api(arena)

    async def two_workers() -> None:  # the app's sync endpoints run on 2 worker threads
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2

    app.router.add_event_handler("startup", two_workers)

    server = ThreadedServer(app).start()
    try:
        rows = []
        for mode in ("on request", "prepared"):
            for clients in (1, args.clients):
                if mode == "prepared":  # enough spares for this run: each battle takes two
                    videos = len(arena.spares.pool_videos())
                    arena.media.spares.per_video = -(-2 * args.battles // videos) + 1
                    began = time.perf_counter()
                    made = arena.spares.fill()
                    print(f"prepared {made} spare copies in {time.perf_counter() - began:.1f} s (background work)")
                times = run(server.url, args.battles, clients)
                rows.append((mode, clients, statistics.median(times), pct(times, 95), len(times)))
    finally:
        server.stop()
        arena.close()
    print(f"{'copies':>11} {'clients':>8} {'battles':>8} {'p50 ms':>8} {'p95 ms':>8} {'p50 / goal':>11}")
    for mode, clients, p50, p95, n in rows:
        print(f"{mode:>11} {clients:>8} {n:>8} {p50:>8.1f} {p95:>8.1f} {p50 / GOAL_MS:>10.2f}x")
    print(f"goal: p50 < {GOAL_MS:.0f} ms from POST /api/battles until both videos are downloaded")


if __name__ == "__main__":
    main()
