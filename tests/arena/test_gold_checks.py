"""Gold checks a client cannot pick out (red-team finding 8), played through the JSON API on the demo models.

A gold check used to be only an extra battle drawn as gold: a client that recognised its matchup (measured here
on main before: 76 % of faithful-vs-frozen/colourblind battles were checks at gold_rate 0.3, none of the others)
could answer those right and vote as it liked elsewhere. Now every anonymous pool battle of a gold pair whose
clips differ is a check, drawn as gold or not, so what a check is follows from the two models alone. The attacker
here is generous: it learns from the truth of half the battles which of everything a client sees before voting
(prompt, response size, fields and headers, start latency over its neighbours', video sizes) goes with checks, and
scores the other half. Without the models it is at chance; the control hands it the models (what a broken blind
would give) and it names every check. (Latency once told gold draws apart, AUC 0.62 over 500 battles here: the
matchmaker fitted the gold candidates afresh on each one; it keeps that fit now, AUC 0.48-0.52.)
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import select

from arena.api import create_api
from arena.services.container import Arena
from arena.services.gold import GoldPairs
from db.models import Battle, Video
from db.session import transaction
from tests.support.servers import ThreadedServer
from tests.ui.conftest import test_settings as ui_settings

GOLD = {frozenset(("demo-faithful", "demo-frozen")), frozenset(("demo-faithful", "demo-colourblind"))}
BATTLES = 160


def auc(scores: list[float], labels: list[bool]) -> float:
    """The chance that a check scores above a non-check (ties count half): 0.5 is chance."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def play(url: str, battles: int) -> list[dict[str, Any]]:
    """One client: everything it sees of each battle before voting, then the models the reveal names."""
    seen = []
    with httpx.Client(base_url=url, timeout=60) as http:
        http.get("/api/session")
        for _ in range(battles):
            began = time.perf_counter()
            response = http.post("/api/battles", json={})
            latency = time.perf_counter() - began
            battle = response.json()
            videos = [http.get(battle[side]["video_url"]) for side in ("left", "right")]
            reveal = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "tie"}).json()
            seen.append(
                {
                    "id": battle["id"],
                    "prompt": battle["prompt"],
                    "latency": latency,
                    "size": len(response.content),
                    "video_sizes": sum(len(v.content) for v in videos),
                    "shape": (tuple(sorted(battle)), tuple(sorted(response.headers)), tuple(sorted(battle["left"]))),
                    "models": frozenset((reveal["left"]["model_id"], reveal["right"]["model_id"])),
                }
            )
    return seen


def detrended(latencies: list[float], reach: int = 5) -> list[float]:
    """Each start's latency over the median of its neighbours' (``reach`` each side): what an attacker on a busy
    server compares, the load of the moment taken out."""
    values = np.asarray(latencies)
    return [
        float(v / np.median(np.delete(values[max(0, i - reach) : i + reach + 1], min(i, reach))))
        for i, v in enumerate(values)
    ]


def learnt(seen: list[dict[str, Any]], checks: list[bool], key: Callable[[dict[str, Any]], Hashable]) -> list[float]:
    """The attacker's score for the second half: the share of checks among first-half battles with the same key."""
    half = len(seen) // 2
    by_key: dict[Hashable, list[bool]] = defaultdict(list)
    for item, check in zip(seen[:half], checks[:half], strict=True):
        by_key[key(item)].append(check)
    prior = float(np.mean(checks[:half]))
    return [float(np.mean(by_key[key(s)])) if by_key[key(s)] else prior for s in seen[half:]]


def test_a_client_tells_gold_checks_apart_only_by_the_models(tmp_path: Path) -> None:
    settings = dict(default_num_frames=8, default_width=64, default_height=64, gold_rate=0.3, secret="gold-checks")
    arena = Arena.create(ui_settings(tmp_path, **settings))
    arena.pool_videos.fill()
    arena.battles.draws = random.Random(8)  # the same draws every run (latencies still vary)
    server = ThreadedServer(create_api(arena)).start()
    try:
        seen = play(server.url, BATTLES)
    finally:
        server.stop()
    with transaction(arena.factory) as session:
        battles = {b.id: b for b in session.scalars(select(Battle))}
        clip = {i: h for i, h in session.execute(select(Video.id, Video.content_hash))}
        truth = {
            s["id"]: (
                battles[s["id"]].gold_better is not None,
                battles[s["id"]].is_gold,
                clip[battles[s["id"]].left_video_id] != clip[battles[s["id"]].right_video_id],
            )
            for s in seen
        }
    arena.close()
    checks = [truth[s["id"]][0] for s in seen]
    drawn = [truth[s["id"]][1] for s in seen]
    # What a check is: a battle of a gold pair with two different clips, drawn as gold or by the matchmaker.
    assert all(truth[s["id"]][0] == (s["models"] in GOLD and truth[s["id"]][2]) for s in seen)
    ordinary_checks = sum(c and not d for c, d in zip(checks, drawn, strict=True))
    assert sum(drawn) >= 20 and ordinary_checks >= 5, (sum(drawn), ordinary_checks)
    assert len({s["shape"] for s in seen}) == 1, "fields and headers are the same for every battle"
    half = len(seen) // 2
    scores = {
        "prompt": learnt(seen, checks, lambda s: s["prompt"]),
        "response size": learnt(seen, checks, lambda s: s["size"]),
        "latency": detrended([s["latency"] for s in seen])[half:],
        "video sizes": [s["video_sizes"] for s in seen[half:]],
    }
    found = {name: auc(score, checks[half:]) for name, score in scores.items()}
    control = auc(learnt(seen, checks, lambda s: s["models"]), checks[half:])
    print(f"\n{sum(checks)}/{len(seen)} checks ({ordinary_checks} not drawn as gold); AUC {found}; models {control}")
    for name, value in found.items():  # about 80 checks and non-checks scored: chance is 0.5 +- 0.05
        assert abs(value - 0.5) < 0.2, f"{name} tells checks apart: AUC {value:.2f}"
    assert control > 0.95, "the control: with the models the same attacker names the checks"


def test_gold_pairs_answer_by_the_models_and_never_on_identical_clips() -> None:
    gold = GoldPairs([("good", "bad")])
    assert gold.answer("bad", "good", "h1", "h2") == "right" and gold.answer("good", "bad", "h1", "h2") == "left"
    assert gold.answer("good", "bad", "same", "same") is None  # one clip twice: no right answer
    assert gold.answer("good", "other", "h1", "h2") is None and not GoldPairs([])
