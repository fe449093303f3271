"""The attack of issue 10, played by a client of the JSON API against the demo models: map everything it can see
with names (named battles, Playground clips, reveals of its own voted battles), then try to name the clips of new
anonymous battles before voting by stream hash, by length (Content-Length and a one-byte range request) and by a
size + mean P-frame size classifier. It must do no better than chance. A control runs the same classifier (and its
1-nearest-neighbour form) and the hash lookup on the stored files (what was served before every copy became a
padded re-encode) and must succeed, so this test can fail.

Finding 7: the demo generators draw a prompt's scene the same way for every seed, so a named clip of a pool
prompt looked like that prompt's anonymous clips and named them by their picture. Named battles and the
Playground now take only prompts outside the suite: the attacker's map holds no clip of a pool prompt, and naming
by the nearest named clip of the same prompt is at chance; the control builds that map as the named routes did
before (fresh named generations of the pool prompts) and names far more."""

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
from sqlalchemy import select

from arena.api import create_api
from arena.services.container import Arena
from arena.services.generation import NAMED_RUN
from arena.services.inputs import prompt_key
from arena.services.views import Refusal
from db.models import Battle, Prompt, Video
from db.session import transaction
from tests.support.attack import decode, distance, thumb, until_shown
from tests.support.servers import ThreadedServer
from tests.ui.conftest import test_settings as ui_settings

ATTACK_BATTLES = 30
REVEALED_BATTLES = 16
# Prompts outside the suite (the named routes refuse suite prompts): scenes the shapes world draws.
OWN_PROMPTS = [
    "A green ball bounces on a white background",
    "A purple star spins slowly",
    "Two orange rings move to the left",
    "A yellow triangle falls on a black background",
]


@dataclass(frozen=True)
class Seen:
    """What a client can measure of one clip, and the model when it knows it."""

    file_hash: str
    stream_hash: str  # the slice data alone (filler and SEI stripped): what re-encoding must change
    length: int  # from a one-byte range request (Content-Range total)
    mean_p: float  # mean size of the frames after the first
    mean_slice: float  # mean size of their coded slices (what the filler of the padding left readable)
    model: str | None = None
    thumb: np.ndarray | None = None  # its picture, downscaled (tests.support.attack.thumb)


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
    mean_slice = float(np.mean([len(slice_data(p)) for p in packets[1:]])) if len(packets) > 1 else 0.0
    picture = thumb(decode(data))
    return Seen(hashlib.sha256(data).hexdigest(), stream, length, mean_p, mean_slice, model, picture)


def fetch(http: httpx.Client, url: str, model: str | None = None) -> Seen:
    probe = http.get(url, headers={"Range": "bytes=0-0"})
    assert probe.status_code == 206
    length = int(probe.headers["content-range"].rsplit("/", 1)[1])
    data = http.get(url).content
    assert len(data) == length
    return measure(data, length, model)


def knn(train: list[Seen], item: Seen, k: int = 5) -> str:
    """The usual classifier: k nearest neighbours on standardised (length, mean P-frame size, mean P-slice size)."""
    features = np.array([[s.length, s.mean_p, s.mean_slice] for s in train], dtype=np.float64)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    distance = np.linalg.norm((features - [item.length, item.mean_p, item.mean_slice]) / scale, axis=1)
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
        matchmaking="uniform",  # so a feature-blind guess stays near 1 / models
        secret="blind-attack",  # fixed pool seeds: the control below measures one pool, not a new one each run
    )
    arena = Arena.create(settings)
    arena.pool_videos.fill()
    arena.spares.fill()
    arena.start_workers()  # named battles are generated by the queue
    yield arena
    arena.close()


def nearest_model(named: list[Seen], item: Seen) -> str | None:
    """The model of the named clip whose picture is nearest (None when there is none)."""
    pictures = [(distance(n.thumb, item.thumb), str(n.model)) for n in named if n.thumb is not None]
    return min(pictures)[1] if pictures and item.thumb is not None else None


CONTROL_SEEDS = 3


def named_pool_clips(arena: Arena, texts: set[str], models: list[str], rng: random.Random) -> dict[str, list[Seen]]:
    """The control of finding 7: every model on each pool prompt, generated as named battles did before (a fresh
    seed, kept apart from the pool; CONTROL_SEEDS of them, as a client could ask again, since the demo defects vary
    with the seed), measured on the stored file."""
    with transaction(arena.factory) as session:
        ids = {p.text: p.id for p in session.scalars(select(Prompt).where(Prompt.text.in_(texts)))}
    out: dict[str, list[Seen]] = {}
    for text in sorted(texts):  # sorted: a set of strings iterates in a per-process order (hash seed)
        for model in models:
            for _ in range(CONTROL_SEEDS):
                seed = rng.randrange(10**6)
                video = arena.generation.get_or_generate(model, ids[text], seed=seed, run_id=NAMED_RUN)
                out.setdefault(text, []).append(stored_seen(arena, video, model))
    return out


def stored_seen(arena: Arena, video_id: int, model: str) -> Seen:
    """The control: the same measures on the stored file (served as it was before copies were re-encoded)."""
    with transaction(arena.factory) as session:
        path = arena.media.path(session.get_one(Video, video_id).file_path)
    data = path.read_bytes()
    return measure(data, len(data), model)


def test_an_attacker_names_anonymous_clips_no_better_than_chance(demo_arena: Arena) -> None:
    arena, rng = demo_arena, random.Random(7)
    arena.battles.draws = random.Random(2026)  # pairs, prompts and clips replay: the control rates repeat
    server = ThreadedServer(create_api(arena)).start()
    known: list[Seen] = []  # served copies with names
    known_stored: list[Seen] = []  # the control: the stored files behind them
    battle_copies: list[Seen] = []  # every copy a battle (named or anonymous) served
    by_prompt: list[tuple[str, Seen]] = []  # named clips by the prompt they show (prompt_key)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            models = sorted(mid for mid, m in arena.leaderboard.models().items() if m["enabled"])
            assert len(models) >= 3
            prompts = http.get("/api/prompts").json()
            pool_keys = {prompt_key(p["text"]) for p in prompts}
            refused = http.post("/api/battles", json={"mode": "named", "models": models[:2], "prompt_id": 1})
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "pool_prompt"
            with pytest.raises(Refusal):
                arena.playground.generate(models[0], prompts[0]["text"].upper(), seed=1)
            # 1. Named battles: every model on prompts of the attacker's own (suite prompts are refused).
            for text in OWN_PROMPTS:
                order = rng.sample(models, len(models))
                for pair in (order[i : i + 2] for i in range(0, len(order) - 1, 2)):
                    battle = http.post("/api/battles", json={"mode": "named", "models": pair, "prompt": text})
                    body = until_shown(http, battle.json())
                    for side in ("left", "right"):
                        known.append(fetch(http, body[side]["video_url"], body[side]["model"]))
                        battle_copies.append(known[-1])
                        by_prompt.append((prompt_key(text), known[-1]))
                        video = _video_id(arena, body["id"], side)
                        known_stored.append(stored_seen(arena, video, body[side]["model"]))
            # 2. The Playground (a Gradio event; the same service), each model on a few of those prompts.
            for text in OWN_PROMPTS[:3]:
                for model in models:
                    played = arena.playground.generate(model, text, seed=rng.randrange(1000))
                    known.append(fetch(http, str(played["url"]), model))
                    by_prompt.append((prompt_key(text), known[-1]))
                    known_stored.append(stored_seen(arena, int(str(played["video_id"])), model))
            assert not {key for key, _ in by_prompt} & pool_keys
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
            named["control_nearest"] = 0
            named |= {"picture": 0, "control_picture": 0, "style": 0}
            attacked: list[tuple[str, Seen]] = []  # (the battle's prompt, the anonymous copy with its model)
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
                    named["control_nearest"] += knn(known_stored, stored, k=1) == model
                    attacked.append((battle["prompt"], Seen(**{**seen[side].__dict__, "model": model})))
            # Finding 7: name each anonymous copy by the nearest named clip of its prompt (none: guess).
            guess = Counter(s.model for s in known).most_common(1)[0][0]
            control_map = named_pool_clips(arena, {p for p, _ in attacked}, models, rng)
            for text, s in attacked:
                same = [n for key, n in by_prompt if key == prompt_key(text)]
                named["picture"] += (nearest_model(same, s) or guess) == s.model
                named["control_picture"] += nearest_model(control_map[text], s) == s.model
                # Any named clip, of another prompt: a model's general look (printed; no route can hide it).
                named["style"] += nearest_model([n for _, n in by_prompt], s) == s.model
    finally:
        server.stop()
    clips = len(truth)
    chance = max(Counter(truth).values()) / clips  # the best a guess that sees nothing can do
    rates = {k: v / clips for k, v in named.items()}
    print(f"\nattack on {clips} anonymous clips, {len(known)} named clips mapped; chance {chance:.2f}: {rates}")
    assert named["hash"] == 0, "a served copy repeated a stream a client had seen with a name"
    assert len({(s.length, s.mean_p) for s in battle_copies}) == 1, "one length and frame size for every copy"
    slices = [s.mean_slice for s in battle_copies]
    assert max(slices) - min(slices) <= 2, "and one slice size, give or take the filler's 0-2 bytes"
    assert rates["length"] <= chance and rates["classifier"] <= chance
    assert rates["picture"] <= chance + 0.1, "named clips of pool prompts named anonymous ones by their picture"
    assert rates["control_picture"] >= chance + 0.2, "the control: named clips of the pool prompts name them"
    # The control: on the stored files the same attack works, so the measures above can fail. Its classifier is the
    # nearest neighbour (k=1): a stored clip served again is its own nearest neighbour, which k=5 votes dilute with
    # other models' clips of like size once the demo defects vary per prompt (k=5 scored 0.35-0.58, k=1 0.57-0.70
    # with chance 0.20-0.27 in four runs here).
    assert rates["control_hash"] > 0.1 and rates["control_nearest"] > chance + 0.2


def _video_id(arena: Arena, battle_id: str, side: str) -> int:
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, battle_id)
        video = battle.left_video_id if side == "left" else battle.right_video_id
        assert video is not None
        return video
