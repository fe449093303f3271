"""Every VBench-named metric against VBench's own code (tests/metrics/vbench_reference.py) on the same models.

Hand-built videos (constant, moving square, alternating frames, noise) and a real H.264 clip: per-video values,
VBench's pooling over every frame pair of all videos, the RAFT rules' per-pair scores and booleans, the aesthetic
head, and the leaderboard normalisation, each within 1e-6 of the transcription.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from adapters.video_io import encode_mp4
from metrics import vbench
from metrics.pooling import VideoScores, pool_videos
from tests.metrics import vbench_reference as ref
from tests.metrics.videos import alternating_video, constant_video, moving_square, noise_video, rendered_clip

TOL = 1e-6
H, W = 48, 64


def hand_built() -> dict[str, tuple[np.ndarray, float]]:
    return {
        "constant": (constant_video(8, H, W), 8.0),
        "moving_square": (moving_square(16, H, W, step=3), 24.0),  # 24 fps: RAFT samples every 3rd frame
        "alternating": (alternating_video(8, H, W), 8.0),
        "noise": (noise_video(6, H, W), 8.0),
    }


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "rendered.mp4"
    path.write_bytes(encode_mp4(rendered_clip(18, 72, 96), 24))
    return path


def cv2_frames(path) -> list[np.ndarray]:
    """What VBench's get_frames reads (BGR)."""
    video = cv2.VideoCapture(str(path))
    frames = []
    while video.isOpened():
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    video.release()
    return frames


@pytest.fixture(scope="module")
def scored(scorer, clip_file):
    """Our reports and the frames VBench would read, for the four hand-built videos and the real clip."""
    out = {}
    for name, (frames, fps) in hand_built().items():
        out[name] = (scorer.score_frames(frames, fps).by_name(), frames, fps)
    bgr = cv2_frames(clip_file)
    rgb = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in bgr])
    fps = cv2.VideoCapture(str(clip_file)).get(cv2.CAP_PROP_FPS)
    out["clip"] = (scorer.score_file(clip_file).by_name(), rgb, fps)
    return out


def _pooled(scored, metric: str) -> float:
    videos = [
        VideoScores(i, "m", i, "c", "en", {metric: r[metric].value}, {metric: r[metric].details["pairs"]})
        for i, (r, _, _) in enumerate(scored.values())
    ]
    estimate = pool_videos(videos, metric, "pairs")
    assert estimate is not None and estimate.pairs == sum(len(f) - 1 for _, f, _ in scored.values())
    return estimate.value


def test_subject_consistency_is_vbench_on_dino(scored, scorer):
    dino = ref.DinoHubForward(scorer.load_dino().model)
    expected_all, per_video = ref.subject_consistency(dino, [f for _, f, _ in scored.values()], "cpu")
    for (reports, _, _), want in zip(scored.values(), per_video, strict=True):
        got = reports["subject_consistency"]
        assert got.status == "ok" and got.encoder == scorer.models.dino
        assert abs(got.value - want["video_results"]) < TOL
    assert abs(_pooled(scored, "subject_consistency") - expected_all) < TOL


def test_background_consistency_is_vbench_on_clip(scored, scorer):
    clip = scorer.load_encoder().model
    expected_all, per_video = ref.background_consistency(clip, [f for _, f, _ in scored.values()], "cpu", n_px=32)
    for (reports, _, _), want in zip(scored.values(), per_video, strict=True):
        assert abs(reports["background_consistency"].value - want["video_results"]) < TOL
    assert abs(_pooled(scored, "background_consistency") - expected_all) < TOL


def test_subject_and_background_consistency_differ_on_a_moving_subject(scored):
    reports = scored["moving_square"][0]
    # tiny random towers keep both near 1; the gap is still 1000x float noise (they read different features)
    assert abs(reports["subject_consistency"].value - reports["background_consistency"].value) > 1e-5
    assert reports["subject_consistency"].details["features"] != reports["background_consistency"].details["features"]


def test_temporal_flicker_is_vbench(scored):
    for reports, frames, _ in scored.values():
        bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]
        assert abs(reports["temporal_flicker"].value - ref.flicker_cal_score(bgr)) < TOL


def test_dynamic_degree_is_vbench_on_raft(scored, scorer):
    reference = ref.DynamicDegree(ref.OriginalRaftCall(scorer.load_raft().model))
    for name, (reports, frames, fps) in scored.items():
        moving = reference.infer(list(frames), fps)
        got = reports["dynamic_degree"]
        assert got.status == "ok" and got.value == (1.0 if moving else 0.0), name
        assert np.max(np.abs(np.array(got.details["pair_scores"]) - reference.scores)) < TOL, name
        assert (
            got.details["threshold"] == reference.params["thres"]
            and got.details["count"] == reference.params["count_num"]
        )
    assert scored["moving_square"][0]["dynamic_degree"].details["interval"] == 3  # round(24 / 8)
    assert scored["clip"][0]["dynamic_degree"].details["frames"] == 6  # 18 frames at 24 fps: every 3rd


def test_dynamic_degree_decisions_of_both_kinds_match_vbench(scored, tiny_encoder):
    from metrics.scorer import Scorer
    from tests.metrics.models import tiny_raft

    stronger = Scorer("tiny-random", device="cpu", loaded=[tiny_encoder], raft=tiny_raft(flow_scale=0.035))
    stronger.metrics = [m for m in stronger.metrics if m.name == "dynamic_degree"]
    reference = ref.DynamicDegree(ref.OriginalRaftCall(stronger.load_raft().model))
    decisions = []
    for name in ("constant", "alternating", "clip"):
        _, frames, fps = scored[name]
        got = stronger.score_frames(frames, fps).by_name()["dynamic_degree"]
        moving = reference.infer(list(frames), fps)
        assert got.value == (1.0 if moving else 0.0), name
        assert np.max(np.abs(np.array(got.details["pair_scores"]) - reference.scores)) < TOL, name
        decisions.append(moving)
    assert set(decisions) == {True, False}


def test_static_filter_is_vbench_on_raft(scored, scorer):
    reference = ref.StaticFilter(ref.OriginalRaftCall(scorer.load_raft().model))
    decisions = []
    for name, (reports, frames, _) in scored.items():
        static = reference.infer(list(frames))
        decisions.append(static)
        got = reports["static_filter"]
        assert got.value == (1.0 if static else 0.0), name
        assert len(got.details["pair_scores"]) == len(frames) + 1
        assert np.max(np.abs(np.array(got.details["pair_scores"]) - np.array(reference.scores))) < TOL, name
    assert set(decisions) == {True, False}


def test_aesthetic_quality_is_vbench(scorer, tmp_path, clip_file, scored):
    from metrics.aesthetic import AestheticScore

    head = torch.nn.Linear(32, 1)
    torch.nn.init.normal_(head.weight)
    path = tmp_path / "head.pth"
    torch.save(head.state_dict(), path)
    metric = AestheticScore(head=path, encoder_id="tiny-random")
    ours = []
    for _, frames, fps in scored.values():
        ours.append(metric.evaluate(scorer.context(frames, fps)).value)
    clip = scorer.load_encoder().model
    expected, per_video = ref.laion_aesthetic(head.eval(), clip, [f for _, f, _ in scored.values()], "cpu", n_px=32)
    assert np.max(np.abs(np.array(ours) - [v["video_results"] for v in per_video])) < TOL
    assert abs(np.mean(ours) - expected) < TOL


def test_leaderboard_normalisation_is_vbench():
    rng = np.random.default_rng(0)
    raw = {d.title: float(rng.uniform(d.norm_min, d.norm_max)) for d in vbench.DIMENSIONS}
    expected = ref.get_nomalized_score(raw)
    assert set(expected) == {d.title for d in vbench.DIMENSIONS}  # all 16 dimensions, VBench's names
    for d in vbench.DIMENSIONS:
        assert abs(d.normalise(raw[d.title]) * d.weight - expected[d.title]) < 1e-12
        assert (d.norm_min, d.norm_max, d.weight) == (
            ref.NORMALIZE_DIC[d.title]["Min"],
            ref.NORMALIZE_DIC[d.title]["Max"],
            ref.DIM_WEIGHT[d.title],
        )
    assert {d.title for d in vbench.DIMENSIONS if d.group == "quality"} == set(ref.QUALITY_LIST)


def test_our_transforms_are_vbench_transforms_bit_for_bit():
    from metrics import preprocess

    rng = np.random.default_rng(1)
    for shape in [(2, 48, 64), (2, 97, 61), (1, 224, 224), (2, 31, 33), (1, 480, 720)]:
        frames = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        video = ref.load_video(frames)
        assert torch.equal(preprocess.clip_transform(frames, 32), ref.clip_transform(32)(video))
        assert torch.equal(preprocess.dino_transform(frames, 224), ref.dino_transform(224)(video))
    # 16:9 frames: VBench's DINO sees the whole width (224 x 398), its CLIP a centre crop
    wide = rng.integers(0, 256, (1, 360, 640, 3), dtype=np.uint8)
    assert tuple(preprocess.dino_transform(wide).shape) == (1, 3, 224, 398)
    assert tuple(preprocess.clip_transform(wide).shape) == (1, 3, 224, 224)


def test_rules_match_vbench_on_torchvisions_raft_small_too(tmp_path, tiny_encoder):
    """The same parity on a stock builder (raft_small, weights=None) loaded from a file, at RAFT's 128-pixel minimum."""
    from metrics.flow import choose_raft
    from metrics.scorer import Scorer
    from tests.metrics.models import save_random_raft

    scorer = Scorer(
        "tiny-random",
        device="cpu",
        raft=save_random_raft(tmp_path / "small.pth"),
        metrics=["dynamic_degree", "static_filter"],
    )
    assert scorer.models.raft == "raft-file:small.pth" and choose_raft(tmp_path / "small.pth").path is not None
    frames = rendered_clip(5, 128, 136)
    report = scorer.score_frames(frames, 8).by_name()
    dynamic = ref.DynamicDegree(ref.OriginalRaftCall(scorer.load_raft().model))
    static = ref.StaticFilter(ref.OriginalRaftCall(scorer.load_raft().model))
    assert report["dynamic_degree"].value == float(dynamic.infer(list(frames), 8))
    assert report["static_filter"].value == float(static.infer(list(frames)))
    assert np.max(np.abs(np.array(report["dynamic_degree"].details["pair_scores"]) - dynamic.scores)) < TOL
    assert np.max(np.abs(np.array(report["static_filter"].details["pair_scores"]) - np.array(static.scores))) < TOL
