"""The attack of issue 10, played by a client of the JSON API against the demo models: map everything it can see
with names (named battles, Playground clips, reveals of its own voted battles), then try to name the clips of new
anonymous battles before voting by stream hash, by length (Content-Length and a one-byte range request) and by a
size + mean P-frame size classifier. It must do no better than chance. A control runs the same classifier and
hash lookup on the stored files (what was served before every copy became a padded re-encode) and must succeed,
so this test can fail."""

from __future__ import annotations

import hashlib
import io
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from arena.api import create_api
from arena.services.container import Arena
from db.models import Battle, Video
from db.session import transaction
from tests.support.servers import ThreadedServer
from tests.ui.conftest import test_settings as ui_settings

ATTACK_BATTLES = 30
REVEALED_BATTLES = 16


@dataclass(frozen=True)
class Seen:
    """What a client can measure of one clip, and the model when it knows it."""

    file_hash: str
    stream_hash: str  # the slice data alone (filler and SEI stripped): what re-encoding must change
    length: int  # from a one-byte range request (Content-Range total)
    mean_p: float  # mean size of the frames after the first
    model: str | None = None


def slice_data(packet: bytes) -> bytes:
    out, i = b"", 0
    while i + 4 <= len(packet):
        size = int.from_bytes(packet[i : i + 4], "big")
        unit = packet[i + 4 : i + 4 + size]
        if unit and unit[0] & 0x1F in (1, 5):  # coded slices only
            out += unit
        i += 4 + size
    return out


def measure(data: bytes, length: int, model: str | None = None) -> Seen:
    with av.open(io.BytesIO(data)) as container:
        packets = [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]
    stream = hashlib.sha256(b"".join(slice_data(p) for p in packets)).hexdigest()
    mean_p = float(np.mean([len(p) for p in packets[1:]])) if len(packets) > 1 else 0.0
    return Seen(hashlib.sha256(data).hexdigest(), stream, length, mean_p, model)


def fetch(http: httpx.Client, url: str, model: str | None = None) -> Seen:
    probe = http.get(url, headers={"Range": "bytes=0-0"})
    assert probe.status_code == 206
    length = int(probe.headers["content-range"].rsplit("/", 1)[1])
    data = http.get(url).content
    assert len(data) == length
    return measure(data, length, model)


def knn(train: list[Seen], item: Seen, k: int = 5) -> str:
    """The usual classifier: k nearest neighbours on standardised (length, mean P-frame size)."""
    features = np.array([[s.length, s.mean_p] for s in train], dtype=np.float64)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    distance = np.linalg.norm((features - [item.length, item.mean_p]) / scale, axis=1)
    nearest = np.argsort(distance, kind="stable")[:k]
    votes = Counter(train[i].model for i in nearest)
    return str(max(sorted(votes), key=lambda m: votes[m]))


@pytest.fixture
def demo_arena(tmp_path: Path) -> Iterator[Arena]:
    settings = ui_settings(
        tmp_path,
        rate_limits=False,
        max_open_battles=1000,
        default_num_frames=12,
        default_width=128,
        default_height=128,
    )
    arena = Arena.create(settings)
    arena.prefill()
    arena.spares.fill()
    yield arena
    arena.close()


def stored_seen(arena: Arena, video_id: int, model: str) -> Seen:
    """The control: the same measures on the stored file (served as it was before copies were re-encoded)."""
    with transaction(arena.factory) as session:
        path = arena.media.path(session.get_one(Video, video_id).file_path)
    data = path.read_bytes()
    return measure(data, len(data), model)


def test_an_attacker_names_anonymous_clips_no_better_than_chance(demo_arena: Arena) -> None:
    arena, rng = demo_arena, random.Random(7)
    server = ThreadedServer(create_api(arena)).start()
    known: list[Seen] = []  # served copies with names
    known_stored: list[Seen] = []  # the control: the stored files behind them
    battle_copies: list[Seen] = []  # every copy a battle (named or anonymous) served
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            models = sorted(mid for mid, m in arena.leaderboard.models().items() if m["enabled"])
            assert len(models) == 4
            prompts = http.get("/api/prompts").json()
            # 1. Named battles: every model on every prompt, names on the page.
            for prompt in prompts[:4]:
                order = rng.sample(models, len(models))
                for pair in (order[:2], order[2:4]):
                    battle = http.post(
                        "/api/battles", json={"mode": "named", "models": pair, "prompt_id": prompt["id"]}
                    )
                    body = battle.json()
                    for side in ("left", "right"):
                        known.append(fetch(http, body[side]["video_url"], body[side]["model"]))
                        battle_copies.append(known[-1])
            # 2. The Playground (a Gradio event; the same service), each model on a few suite prompts' texts.
            for prompt in prompts[:3]:
                for model in models:
                    played = arena.playground(model, prompt["text"], seed=rng.randrange(1000))
                    known.append(fetch(http, str(played["url"]), model))
            # 3. Reveals of anonymous battles the attacker voted on.
            for _ in range(REVEALED_BATTLES):
                battle = http.post("/api/battles", json={}).json()
                seen = {side: fetch(http, battle[side]["video_url"]) for side in ("left", "right")}
                battle_copies += seen.values()
                reveal = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "tie"}).json()
                for side in ("left", "right"):
                    model = reveal[side]["model_id"]
                    known.append(Seen(**{**seen[side].__dict__, "model": model}))
                    known_stored.append(stored_seen(arena, _video_id(arena, battle["id"], side), model))
            arena.spares.fill()
            # 4. The attack: name both clips of new anonymous battles before voting.
            by_hash = {s.stream_hash: s.model for s in known} | {s.file_hash: s.model for s in known}
            stored_by_hash = {s.stream_hash: s.model for s in known_stored}
            by_length: dict[int, Counter[str | None]] = {}
            for s in known:
                by_length.setdefault(s.length, Counter())[s.model] += 1
            truth: list[str] = []
            named = {"hash": 0, "length": 0, "classifier": 0, "control_hash": 0, "control_classifier": 0}
            for _ in range(ATTACK_BATTLES):
                battle = http.post("/api/battles", json={}).json()
                seen = {side: fetch(http, battle[side]["video_url"]) for side in ("left", "right")}
                battle_copies += seen.values()
                guesses = {
                    side: (
                        by_hash.get(s.stream_hash) or by_hash.get(s.file_hash),
                        by_length[s.length].most_common(1)[0][0] if s.length in by_length else None,
                        knn(known, s),
                    )
                    for side, s in seen.items()
                }
                reveal = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "tie"}).json()
                for side in ("left", "right"):
                    model = reveal[side]["model_id"]
                    truth.append(model)
                    by_hash_guess, by_length_guess, by_knn = guesses[side]
                    named["hash"] += by_hash_guess == model
                    named["length"] += by_length_guess == model
                    named["classifier"] += by_knn == model
                    stored = stored_seen(arena, _video_id(arena, battle["id"], side), model)
                    named["control_hash"] += stored_by_hash.get(stored.stream_hash) == model
                    named["control_classifier"] += knn(known_stored, stored) == model
    finally:
        server.stop()
    clips = len(truth)
    chance = max(Counter(truth).values()) / clips  # the best a guess that sees nothing can do
    rates = {k: v / clips for k, v in named.items()}
    print(f"\nattack on {clips} anonymous clips, {len(known)} named clips mapped; chance {chance:.2f}: {rates}")
    assert named["hash"] == 0, "a served copy repeated a stream a client had seen with a name"
    assert len({(s.length, s.mean_p) for s in battle_copies}) == 1, "one length and frame size for every copy"
    assert rates["length"] <= chance and rates["classifier"] <= chance
    # The control: on the stored files the same attack works, so the measures above can fail.
    assert rates["control_hash"] > 0.1 and rates["control_classifier"] > chance + 0.1


def _video_id(arena: Arena, battle_id: str, side: str) -> int:
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, battle_id)
        video = battle.left_video_id if side == "left" else battle.right_video_id
        assert video is not None
        return video
