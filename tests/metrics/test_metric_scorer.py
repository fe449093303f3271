"""The Scorer: shared features, caches, languages, encoder errors, the registry, the aesthetic head."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from adapters.registry import UnknownNameError
from adapters.video_io import encode_mp4
from metrics.aesthetic import AestheticScore
from metrics.base import Need, VideoMetric
from metrics.encoders import ENCODERS, EncoderNotFound, guess_language, load_encoder, normalize_language
from metrics.features import LRU, frames_hash
from metrics.registry import build_registry
from metrics.scorer import Scorer
from tests.metrics.videos import constant_video, moving_square

CLIP_METRICS = {"clipsim", "clip_temp", "background_consistency"}
OTHER_METRICS = {"subject_consistency", "dynamic_degree", "static_filter", "temporal_flicker", "motion_amount"}
OTHER_METRICS |= {"motion_direction"}


def make_scorer(tiny_encoder, **kwargs) -> Scorer:
    return Scorer("tiny-random", device="cpu", loaded=[tiny_encoder], **kwargs)


def test_registry_holds_every_metric_with_its_contract():
    registry = build_registry()
    assert registry is not build_registry()  # fresh object per call
    assert set(registry.names()) == CLIP_METRICS | OTHER_METRICS | {"aesthetic", "facts"}
    for name in registry.names():
        cls = registry.get(name)
        assert issubclass(cls, VideoMetric) and cls.name == name
        assert cls.version and cls.description and cls.needs
        assert cls.range[0] < cls.range[1]
    assert Need.TEXT_FEATURES in registry.get("clipsim").needs
    with pytest.raises(UnknownNameError, match="Did you mean 'clipsim'"):
        registry.get("clipsm")


def test_features_are_computed_once_per_video_and_text_once_per_prompt(tiny_encoder):
    scorer = make_scorer(tiny_encoder)
    video = moving_square()
    first = scorer.score_frames(video, 8, "a white square", "en", video_hash=frames_hash(video))
    # clipsim + clip_temp share the open_clip pass; background consistency has VBench's transform: 2 passes
    assert scorer.provider.stats == {"image_encodes": 2, "text_encodes": 1, "flow_pairs": 0}
    again = scorer.score_frames(video, 8, "a white square", "en", video_hash=frames_hash(video))
    reverse = video[::-1].copy()
    other = scorer.score_frames(reverse, 8, "a white square", "en", video_hash=frames_hash(reverse))
    assert scorer.provider.stats == {"image_encodes": 4, "text_encodes": 1, "flow_pairs": 0}  # same prompt: cached
    assert [r.value for r in first.results] == [r.value for r in again.results]
    assert other.video_hash != first.video_hash
    scorer.score_frames(video, 8, "a white square", "en")  # no hash: shared within the call, not kept
    assert scorer.provider.stats["image_encodes"] == 6


def test_disk_cache_round_trip_gives_identical_results(tiny_encoder, tmp_path):
    video = moving_square()
    a = make_scorer(tiny_encoder, cache_dir=tmp_path)
    ra = a.score_frames(video, 8, "a white square", "en", video_hash=frames_hash(video))
    files = sorted(tmp_path.rglob("*.npy"))
    assert [f.parent.name for f in files] == [tiny_encoder.cache_id, f"{tiny_encoder.cache_id}-vbench32"]
    b = make_scorer(tiny_encoder, cache_dir=tmp_path)
    rb = b.score_frames(video, 8, "a white square", "en", video_hash=frames_hash(video))
    assert b.provider.stats["image_encodes"] == 0
    assert [r.value for r in ra.results] == [r.value for r in rb.results]


def test_batch_size_does_not_change_scores(tiny_encoder):
    video = moving_square(frames=11)
    one = make_scorer(tiny_encoder, batch_size=1).score_frames(video, 8, "a square", "en")
    many = make_scorer(tiny_encoder, batch_size=7).score_frames(video, 8, "a square", "en")
    for x, y in zip(one.results, many.results, strict=True):
        assert (x.value is None) == (y.value is None)
        if x.value is not None:
            assert abs(x.value - y.value) < 1e-5, x.metric


def test_lru_evicts_the_least_recently_used():
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1
    lru.put("c", 3)
    assert "b" not in lru and "a" in lru and "c" in lru and len(lru) == 2


def test_unsupported_language_marks_text_metrics_not_supported(scorer):
    report = scorer.score_frames(moving_square(), 8, "一只白色的方块在移动")  # language guessed: zh
    assert report.language == "zh" and report.language_guessed
    by = report.by_name()
    assert by["clipsim"].status == "not_supported" and by["clipsim"].value is None
    assert "'zh'" in by["clipsim"].reason and "tiny-random" in by["clipsim"].reason
    for name in CLIP_METRICS - {"clipsim"}:  # image-only metrics are unaffected
        assert by[name].status == "ok"
    explicit = scorer.score_frames(moving_square(), 8, "a square", language="de").by_name()["clipsim"]
    assert explicit.status == "not_supported"
    assert scorer.score_frames(moving_square(), 8, "a square", "en-US").by_name()["clipsim"].status == "ok"


def test_multilingual_encoder_covers_chinese():
    assert "zh" in ENCODERS["xlm-roberta-base-ViT-B-32"].languages
    assert "zh" not in ENCODERS["ViT-B-32"].languages
    assert normalize_language("zh_CN") == "zh" and guess_language("一只猫") == "zh"
    assert guess_language("a cat") == "en" and guess_language("кошка") == "ru"


def test_uncalibrated_encoder_is_flagged_on_every_encoder_result(scorer):
    report = scorer.score_frames(moving_square(), 8, "a square", "en")
    assert report.calibrated is False
    for r in report.results:
        if r.metric in CLIP_METRICS:
            assert r.calibrated is False and r.encoder == "tiny-random"
        if r.metric in {"temporal_flicker", "motion_amount", "motion_direction", "facts"}:
            assert r.calibrated is True and r.encoder is None
        assert "calibrated" in r.to_dict()


def test_missing_checkpoint_fails_fast_naming_the_encoder_and_where(tmp_path):
    start = time.perf_counter()
    with pytest.raises(EncoderNotFound) as exc:
        load_encoder("ViT-B-32", hf_cache_dir=tmp_path)
    message = str(exc.value)
    assert "'ViT-B-32'" in message and str(tmp_path) in message and "open_clip_model.safetensors" in message
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(EncoderNotFound, match=f"'ViT-L-14'.*{missing}"):
        load_encoder("ViT-L-14", checkpoint=missing)
    with pytest.raises(EncoderNotFound, match="xlm-roberta"):
        load_encoder("xlm-roberta-base-ViT-B-32", hf_cache_dir=tmp_path)
    with pytest.raises(ValueError, match="random weights"):
        load_encoder("tiny-random", checkpoint=missing)
    with pytest.raises(KeyError, match="Did you mean 'ViT-B-32'"):
        load_encoder("vit-b-32")
    # the scorer fails before decoding anything, with the same message
    scorer = Scorer("ViT-B-32", device="cpu", hf_cache_dir=tmp_path)
    video = tmp_path / "v.mp4"
    video.write_bytes(encode_mp4(constant_video(2), 8))
    with pytest.raises(EncoderNotFound, match="'ViT-B-32'"):
        scorer.score_file(video, "a square")
    assert time.perf_counter() - start < 5


def test_pixel_metrics_run_without_any_encoder(tmp_path):
    scorer = Scorer("ViT-B-32", device="cpu", hf_cache_dir=tmp_path, metrics=["temporal_flicker", "facts"])
    report = scorer.score_frames(constant_video(4), 8).by_name()
    assert report["temporal_flicker"].value == 1.0
    assert report["facts"].value == 0.5 and report["facts"].details["frames"] == 4


def test_seeded_tiny_encoder_is_reproducible_and_leaves_the_global_rng_alone(tiny_encoder):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    again = load_encoder("tiny-random", device="cpu")
    assert torch.equal(torch.rand(3), expected)
    video = moving_square()
    assert np.array_equal(again.encode_images(video), tiny_encoder.encode_images(video))
    assert again.cache_id == tiny_encoder.cache_id


def test_score_file_decodes_and_keys_features_by_file_hash(scorer, tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(encode_mp4(moving_square(frames=10), 5))
    report = scorer.score_file(path, "a white square", "en")
    import hashlib

    assert report.video_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    facts = report.by_name()["facts"]
    assert facts.value == pytest.approx(2.0) and (facts.details["width"], facts.details["height"]) == (64, 48)


def test_aesthetic_is_unavailable_with_a_reason_when_weights_are_missing(scorer, tmp_path):
    head = tmp_path / "missing.pth"
    ctx = scorer.context(moving_square(), 8, "a square", "en")
    result = AestheticScore(head=head).evaluate(ctx)
    assert result.status == "unavailable" and result.value is None and str(head) in result.reason
    # head present but its CLIP (ViT-L-14 OpenAI) is not
    import torch

    torch.save({"weight": torch.zeros(1, 768), "bias": torch.zeros(1)}, head)
    lonely = Scorer("tiny-random", device="cpu", hf_cache_dir=tmp_path, loaded=[scorer.load_encoder()])
    result = AestheticScore(head=head).evaluate(lonely.context(moving_square(), 8, "a square", "en"))
    assert result.status == "unavailable" and "ViT-L-14-openai" in result.reason


def test_aesthetic_head_applied_to_shared_features_by_hand(scorer, tmp_path):
    import torch

    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(1, 32)), rng.normal(size=1)
    head = tmp_path / "head.pth"
    torch.save({"weight": torch.tensor(w), "bias": torch.tensor(b)}, head)
    ctx = scorer.context(moving_square(), 8, "a square", "en")
    result = AestheticScore(head=head, encoder_id="tiny-random").evaluate(ctx)
    feats = ctx.vbench_clip_features()  # VBench's clip_transform, as VBench's aesthetic quality
    assert result.status == "ok" and result.calibrated is False
    assert result.value == pytest.approx(float(np.mean(feats @ w[0] + b[0])) / 10, rel=1e-6)


def test_import_metrics_stays_light():
    code = (
        "import sys, metrics, metrics.registry, metrics.scorer;"
        "heavy = [m for m in ('torch', 'open_clip', 'cv2', 'av') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_metrics_never_imports_arena():
    from pathlib import Path

    import metrics

    for path in Path(metrics.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "from arena" not in text and "import arena" not in text, path
