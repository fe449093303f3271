"""DINO and RAFT found offline (HF cache, torch hub folder, files), reported unavailable when absent, and the
VBench rules on crafted inputs: sampling, thresholds, the boolean per video, fps-independent motion amount."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics import formulas
from metrics.dino import choose_dino, load_dino
from metrics.flow import RAFT_FILE, VBENCH_RAFT, choose_raft, load_raft
from metrics.scorer import Scorer
from tests.metrics import vbench_reference as ref
from tests.metrics.models import save_random_raft, save_tiny_vit
from tests.metrics.videos import moving_square, rendered_clip


def fake_hf_cache(root, repo: str, folder_maker) -> None:
    """huggingface_hub's cache layout: models--org--name/{refs/main, snapshots/<rev>/...}."""
    base = root / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text("abc123")
    folder_maker(base / "snapshots" / "abc123")


def test_without_dino_weights_subject_consistency_is_unavailable_never_a_copy(tiny_encoder, tmp_path):
    scorer = Scorer("tiny-random", device="cpu", loaded=[tiny_encoder], hf_cache_dir=tmp_path)
    report = scorer.score_frames(moving_square(), 8).by_name()
    subject = report["subject_consistency"]
    assert subject.status == "unavailable" and subject.value is None and subject.encoder == "dino-vitb16"
    assert (
        str(tmp_path / "models--facebook--dino-vitb16") in subject.reason and "Nothing is downloaded" in subject.reason
    )
    assert report["background_consistency"].status == "ok"
    assert "subject_consistency" in scorer.missing_weights()


def test_auto_finds_dino_vitb16_in_the_hf_cache_and_labels_it_vbench(tmp_path):
    fake_hf_cache(tmp_path, "facebook/dino-vitb16", save_tiny_vit)
    choice = choose_dino("auto", tmp_path)
    assert choice.label == "dino-vitb16" and choice.vbench and choice.path is not None
    feats = load_dino(choice, "cpu").encode_images(moving_square(frames=3))
    assert feats.shape == (3, 32) and np.allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)


def test_dinov2_folder_runs_and_is_labelled_as_not_vbench(tmp_path):
    folder = save_tiny_vit(tmp_path / "my-dinov2", dinov2=True)
    choice = choose_dino(str(folder))
    assert choice.label == "dino-folder:my-dinov2" and not choice.vbench
    scorer = Scorer("tiny-random", device="cpu", dino=folder, metrics=["subject_consistency"])
    result = scorer.score_frames(moving_square(), 8).by_name()["subject_consistency"]
    assert result.status == "ok" and result.encoder == "dino-folder:my-dinov2" and 0 <= result.value <= 1
    empty = choose_dino(str(tmp_path / "nothing"))
    assert empty.path is None and "config.json" in empty.missing_reason()


def test_dino_positions_are_interpolated_as_dino_does(tiny_dino_dir):
    encoder = load_dino(choose_dino(str(tiny_dino_dir)), "cpu")
    pixels = torch.randn(2, 3, 224, 298)  # a 4:3 frame after VBench's dino_transform: 14 x 18 patches
    with torch.no_grad():
        ours = encoder.forward(pixels)
        dino = ref.DinoHubForward(encoder.model)(pixels)
        assert torch.max(torch.abs(ours - dino)) < 1e-5
        # transformers' own interpolation (size=) samples the grid elsewhere: the patch matters
        from transformers import AutoModel

        plain = AutoModel.from_pretrained(tiny_dino_dir, add_pooling_layer=False).eval()
        theirs = plain(pixel_values=pixels, interpolate_pos_encoding=True).last_hidden_state[:, 0]
    assert torch.max(torch.abs(theirs - dino)) > 1e-4


def test_raft_from_torch_hub_folder_is_vbench_raft(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    missing = choose_raft()
    assert missing.path is None and missing.label == VBENCH_RAFT and RAFT_FILE in missing.missing_reason()
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    save_random_raft(folder / RAFT_FILE, large=True)
    choice = choose_raft()
    assert choice.path == folder / RAFT_FILE and choice.vbench
    flow = load_raft(choice, "cpu")
    assert flow.label == VBENCH_RAFT and flow.min_side == 128
    # a raft_small file under raft_large's name is refused, not mislabelled
    save_random_raft(folder / RAFT_FILE)
    with pytest.raises(Exception, match="holds raft_small"):
        load_raft(choose_raft(), "cpu")


def test_raft_small_file_computes_padded_flow_and_refuses_small_frames(tmp_path):
    flow = load_raft(choose_raft(save_random_raft(tmp_path / "small.pth")), "cpu")
    assert flow.label == "raft-file:small.pth" and not flow.vbench
    frames = rendered_clip(2, 130, 132)  # padded to 136 x 136 (RAFT's InputPadder)
    assert flow.flow(frames[0], frames[1]).shape == (2, 136, 136)
    from metrics.base import NotSupported

    with pytest.raises(NotSupported, match="at least 128 pixels"):
        flow.flow(frames[0, :64], frames[1, :64])
    junk = tmp_path / "junk.pth"
    torch.save({"weight": torch.zeros(2)}, junk)
    with pytest.raises(Exception, match="not a torchvision RAFT"):
        load_raft(choose_raft(junk), "cpu")


def test_without_raft_weights_dynamic_degree_and_static_filter_are_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    scorer = Scorer("tiny-random", device="cpu", metrics=["dynamic_degree", "static_filter", "motion_amount"])
    report = scorer.score_frames(moving_square(), 8).by_name()
    for name in ("dynamic_degree", "static_filter"):
        assert report[name].status == "unavailable" and RAFT_FILE in report[name].reason
        assert report[name].encoder == VBENCH_RAFT
    assert report["motion_amount"].status == "ok"  # the weight-free motion metric still runs
    assert set(scorer.missing_weights()) == {"dynamic_degree", "static_filter"}


def test_vbench_sampling_and_thresholds_by_hand():
    assert [formulas.vbench_sample_interval(f) for f in (8, 16, 20, 24, 25, 30, 4, 0)] == [1, 2, 2, 3, 3, 4, 1, 1]
    assert formulas.vbench_dynamic_params(480, 720, 16) == (11.25, 4)
    assert formulas.vbench_dynamic_params(256, 256, 2) == (6.0, 0)  # round(0.5) = 0: any pair counts as dynamic
    assert formulas.vbench_static_params(256, 320, 49) == (3.0, 6)
    assert formulas.vbench_static_pairs(4) == [(0, 1), (1, 2), (2, 3), (0, 3), (3, 0)]


def test_vbench_decision_rules_by_hand():
    assert formulas.vbench_check_move([1.0, 7.0, 1.0, 7.0], 6.0, 2) is True
    assert formulas.vbench_check_move([1.0, 7.0, 1.0, 6.0], 6.0, 2) is False  # strictly above the threshold
    assert formulas.vbench_check_move([], 6.0, 0) is False  # one frame: no pair, never dynamic
    assert formulas.vbench_check_move([0.0], 6.0, 0) is True
    # static: at most count consecutive pairs above, and the first/last pairs under thres * count * 2
    assert formulas.vbench_check_static([4.0, 1.0, 1.0, 5.0, 5.0], 3.0, 1) is True
    assert formulas.vbench_check_static([4.0, 4.0, 1.0, 1.0, 1.0], 3.0, 1) is False
    assert formulas.vbench_check_static([1.0, 1.0, 1.0, 6.5, 1.0], 3.0, 1) is False
    assert formulas.vbench_check_static([0.0, 0.0, 0.1], 3.0, 0) is False  # count 0: any first/last flow fails
    ours = formulas.top_mean(np.array([5.0, 4.0, 3.0, 2.0, 1.0], np.float32), 100, 0.03)
    assert ours == pytest.approx(4.0)  # int(100 * 0.03) = 3 largest: (5 + 4 + 3) / 3


def test_motion_amount_does_not_depend_on_fps():
    from metrics.pixel_metrics import MotionAmount

    scorer = Scorer("tiny-random", device="cpu", metrics=["motion_amount"])
    clip = rendered_clip(25, 96, 128, speed=0.4)  # the scene at 24 fps
    at24 = MotionAmount().evaluate(scorer.context(clip, 24.0))
    at8 = MotionAmount().evaluate(scorer.context(clip[::3].copy(), 8.0))  # the same motion filmed at 8 fps
    assert at24.details["interval"] == 3 and at8.details["interval"] == 1
    assert at24.value == pytest.approx(at8.value, rel=1e-9)
    at12 = MotionAmount().evaluate(scorer.context(clip[::2].copy(), 12.0))  # sampled every 2nd: 6 fps
    assert at12.value == pytest.approx(at24.value, rel=0.15)
    assert MotionAmount().evaluate(scorer.context(clip, 0.0)).status == "not_supported"


def test_clipsim_averages_every_frame(scorer):
    video = moving_square(frames=11)
    result = scorer.score_frames(video, 8, "a white square", "en").by_name()["clipsim"]
    ctx = scorer.context(video, 8, "a white square", "en")
    expected = formulas.clipsim(ctx.image_features(), ctx.text_feature())
    assert result.version == "2" and result.details["frames"] == formulas.CLIPSIM_FRAMES == "all"
    assert result.value == pytest.approx(expected, abs=1e-9)


def test_changed_metrics_have_new_versions_so_old_scores_are_recomputed(scorer):
    versions = {m: v for m, v, _ in scorer.result_keys()}
    assert versions["clipsim"] == "2" and versions["subject_consistency"] == "2"
    assert versions["background_consistency"] == "2" and versions["aesthetic"] == "2"
    assert versions["motion_amount"] == "2" and versions["temporal_flicker"] == "1"  # unchanged formula


def test_aesthetic_scores_are_keyed_by_their_head_unless_it_is_vbenchs(scorer, tmp_path):
    from metrics.aesthetic import HEAD_FILES, AestheticScore

    vbench_head, other_head = tmp_path / HEAD_FILES[0], tmp_path / HEAD_FILES[1]
    for path in (vbench_head, other_head):
        torch.save({"weight": torch.ones(1, 32), "bias": torch.zeros(1)}, path)
    ctx = scorer.context(moving_square(), 8)
    ours = AestheticScore(head=vbench_head, encoder_id="tiny-random").evaluate(ctx)
    other = AestheticScore(head=other_head, encoder_id="tiny-random").evaluate(ctx)
    assert ours.encoder == "tiny-random" and other.encoder == f"tiny-random+{HEAD_FILES[1]}"
    assert ours.value == pytest.approx(other.value)  # same weights here: only the label says which head ran


def test_dynamic_degree_and_the_static_filter_share_each_flow(tiny_encoder, tiny_raft):
    scorer = Scorer("tiny-random", device="cpu", raft=tiny_raft, metrics=["dynamic_degree", "static_filter"])
    report = scorer.score_frames(moving_square(frames=8), 8).by_name()  # 8 fps: RAFT on every frame
    assert (
        len(report["dynamic_degree"].details["pair_scores"]) == 7
        and len(report["static_filter"].details["pair_scores"]) == 9
    )
    assert scorer.provider.stats["flow_pairs"] == 9  # 7 consecutive pairs + (first, last) + (last, first), not 16


def test_vbench_clip_view_keeps_an_encoders_own_way_of_encoding_frames(tiny_encoder):
    import copy

    from metrics.preprocess import VBenchClipFeatures

    class Reversing(type(tiny_encoder)):  # an encoder with its own encode_images (e.g. stacks of frames)
        def encode_images(self, frames, batch_size=32):
            return super().encode_images(np.ascontiguousarray(frames[::-1]), batch_size)

    reversing = copy.copy(tiny_encoder)
    reversing.__class__ = Reversing
    frames = moving_square(frames=5)
    plain = VBenchClipFeatures(tiny_encoder).encode_images(frames)
    assert np.allclose(VBenchClipFeatures(reversing).encode_images(frames), plain[::-1], atol=1e-6)
    assert not np.allclose(plain, tiny_encoder.encode_images(frames), atol=1e-4)  # VBench's transform, not open_clip's
