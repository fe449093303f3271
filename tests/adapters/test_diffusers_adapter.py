"""DiffusersAdapter end to end on tiny random pipelines built offline (see tiny_pipelines.py).

Real pipelines of all twelve families (and the versions their configs select) run on the CPU: output
contract, each family's snapping rule with provenance equal to the frames produced, seeding, loading from a
saved folder and from a Hugging Face cache layout, missing-weights errors, and the CUDA-only gating. The
loading recipes and the settings refused when the models file is read: test_diffusers_recipes.py.
"""

from __future__ import annotations

import inspect
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from adapters.base import GenerationRequest
from adapters.diffusers_adapter import DiffusersAdapter
from adapters.diffusers_families import family_table, get_family
from adapters.diffusers_loading import plan_runtime
from adapters.errors import (
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
    WeightsNotFoundError,
)
from tests.adapters.tiny_pipelines import BUILDERS, TinyPipeline
from tests.adapters.tiny_versions import VERSION_BUILDERS

TWELVE = {
    "wan", "wan2.2", "cogvideox", "ltx", "hunyuanvideo", "mochi", "allegro", "latte", "animatediff",
    "skyreels-v2", "sana-video", "modelscope",
}  # fmt: skip


def adapter_for(tp: TinyPipeline, **params: Any) -> DiffusersAdapter:
    return DiffusersAdapter.from_pipeline(f"tiny-{tp.family}", tp.family, tp.pipe, **(tp.params | params))


def req(**kw: Any) -> GenerationRequest:
    return GenerationRequest(**({"prompt": "a red cat runs over the river", "steps": 2, "seed": 7} | kw))


# -- the family table ---------------------------------------------------------------------------------


def test_family_table_covers_every_family_with_sane_rules() -> None:
    import diffusers

    table = family_table()
    assert set(table) == TWELVE == set(BUILDERS)  # and each has a tiny pipeline run below
    for name, fam in table.items():
        cls = getattr(diffusers, fam.pipeline_class)  # resolves lazily from diffusers
        accepted = inspect.signature(cls.__call__).parameters
        assert fam.frames_arg in accepted, name
        assert fam.guidance_arg is None or fam.guidance_arg in accepted, name
        assert fam.fps_arg is None or fam.fps_arg in accepted, name
        assert set(fam.fixed_kwargs) <= set(accepted), name
        assert ("negative_prompt" in accepted) or not fam.negative_prompt, name
        # defaults are valid under the family's own rules
        assert fam.frames.snap(fam.default_frames) == fam.default_frames, name
        assert fam.size.snap(fam.default_width, fam.default_height) == (fam.default_width, fam.default_height)
        assert fam.default_steps >= 1 and fam.default_fps > 0, name
        for version in fam.versions:  # a version's defaults are valid under its rules
            frames, size = version.frames or fam.frames, version.size or fam.size
            w, h = version.default_width or fam.default_width, version.default_height or fam.default_height
            assert frames.snap(version.default_frames or fam.default_frames) == (
                version.default_frames or fam.default_frames
            )
            assert size.snap(w, h) == (w, h), (name, version.name)
    assert {v.name for fam in table.values() for v in fam.versions} == set(VERSION_BUILDERS)
    assert table["latte"].frames_arg == "video_length" and table["sana-video"].frames_arg == "frames"
    assert table["latte"].fixed_kwargs["clean_caption"] is False
    assert table["allegro"].fixed_kwargs["clean_caption"] is False
    assert table["sana-video"].fixed_kwargs["use_resolution_binning"] is False
    assert table["animatediff"].required_components == ("motion_adapter",)
    assert table["wan"].frames.snap(10) == 9 and table["cogvideox"].frames.snap(40) == 41
    assert table["mochi"].frames.snap(20) == 19 and table["ltx"].size.snap(50, 40) == (64, 32)
    assert get_family("zeroscope").name == "modelscope" and get_family("Wan2.1").name == "wan"
    with pytest.raises(KeyError, match="Did you mean 'mochi'"):
        get_family("mochy")


# -- generation through the adapter -------------------------------------------------------------------

# family or version -> (asked frames, width, height) and the snapped (frames, width, height) expected
CASES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "wan": ((10, 50, 40), (9, 48, 32)),  # 4k+1, multiples of 16
    "wan2.2": ((10, 50, 40), (9, 48, 32)),  # two experts, Wan's rules
    "skyreels-v2": ((6, 20, 44), (5, 16, 48)),  # Wan's rules
    "cogvideox": ((12, 40, 20), (9, 32, 16)),  # 8k+1; the tiny checkpoint overrides 720x480 with /16
    "ltx": ((8, 40, 70), (9, 32, 64)),  # tiny VAE: 4k+1; multiples of 32
    "hunyuanvideo": ((6, 20, 17), (5, 16, 16)),  # 4k+1, multiples of 16
    "mochi": ((8, 16, 16), (7, 16, 16)),  # 6k+1
    "latte": ((5, 8, 8), (4, 8, 8)),  # frames fixed to the transformer's video_length
    "animatediff": ((5, 18, 14), (8, 16, 16)),  # 8..32 frames, multiples of 4 here
    "allegro": ((10, 20, 30), (8, 16, 32)),  # the tile grid: 8+4k frames, sides 16+8k aligned to 16
    "sana-video": ((10, 40, 70), (9, 32, 64)),  # 480p (Wan VAE): 4k+1, multiples of 32
    "modelscope": ((5, 18, 14), (5, 16, 16)),  # any frame count, multiples of 8
    "cogvideox-1.5": ((60, 20, 20), (65, 16, 16)),  # 1.5: 16k+1 up to 161 (1.0: 8k+1 up to 49)
    "ltx-video-0.9.1+": ((8, 40, 70), (9, 32, 64)),
    "sana-video-720p": ((12, 64, 64), (9, 64, 64)),  # 720p (LTX-2 VAE, 8x in time): 8k+1
    "wan2.2-ti2v-5b": ((10, 48, 40), (9, 64, 32)),  # VAE 16 x patch 2: multiples of 32
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_generates_snapped_video_with_provenance(key: str, tiny: Callable[[str], TinyPipeline]) -> None:
    (frames, width, height), (want_f, want_w, want_h) = CASES[key]
    tp = tiny(key)
    family = tp.family
    adapter = adapter_for(tp)
    video = adapter.generate(req(num_frames=frames, width=width, height=height, negative_prompt="blurry"))
    assert video.frames.dtype == np.uint8
    assert video.frames.shape == (want_f, want_h, want_w, 3)
    assert adapter.capabilities().frames.snap(frames) == want_f
    prov = video.provenance
    expected_adjust = {
        k: [asked, used]
        for k, asked, used in (("num_frames", frames, want_f), ("width", width, want_w), ("height", height, want_h))
        if asked != used
    }
    assert prov.adjustments == expected_adjust
    assert prov.device == "cpu" and prov.dtype == "float32"
    assert set(prov.library_versions) == {"diffusers", "torch"}
    assert prov.params["family"] == family and prov.params["steps"] == 2
    assert prov.params.get("version") == (key if key in VERSION_BUILDERS else None)
    # the provenance is the video: what it records is what came out
    assert (prov.params["num_frames"], prov.params["width"], prov.params["height"]) == (
        video.num_frames, *video.size,
    )  # fmt: skip
    assert video.frames.std() > 0  # a picture, not a constant fill
    assert (video.frames == 128).mean() < 0.1  # no undecoded grey region (0.5 -> 128)


@pytest.mark.parametrize("family", ["wan", "ltx", "animatediff"])
def test_same_seed_same_frames_other_seed_differs(family: str, tiny: Callable[[str], TinyPipeline]) -> None:
    adapter = adapter_for(tiny(family))
    a = adapter.generate(req(seed=1)).frames
    b = adapter.generate(req(seed=1)).frames
    c = adapter.generate(req(seed=2)).frames
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 1.0


@pytest.mark.parametrize("family", ["wan", "cogvideox"])
def test_each_denoising_step_reports_progress(family: str, tiny: Callable[[str], TinyPipeline]) -> None:
    adapter = adapter_for(tiny(family))
    seen: list[float] = []
    adapter.generate(req(steps=3), progress=seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    adapter.generate(req(steps=2))  # no callback: nothing reported, nothing left over from the last call
    assert len(seen) == 3


def test_frame_rule_that_does_not_fit_the_checkpoint_is_an_error(tiny: Callable[[str], TinyPipeline]) -> None:
    # Mochi's VAE works in 6k+1 frames: a wrong 4k+1 override asks 9 and gets 7 back.
    adapter = adapter_for(tiny("mochi"), frame_step=4)
    with pytest.raises(OutputContractError, match="asked 9 frames, the pipeline returned 7"):
        adapter.generate(req(num_frames=9, width=16, height=16))


def test_fps_and_guidance_reach_the_pipeline(tiny: Callable[[str], TinyPipeline]) -> None:
    adapter = adapter_for(tiny("ltx"))
    kwargs = adapter.call_kwargs(adapter.resolve(req(fps=12.0, guidance=2.5, negative_prompt="dark")))
    assert kwargs["frame_rate"] == 12.0 and kwargs["guidance_scale"] == 2.5 and kwargs["output_type"] == "np"
    assert kwargs["negative_prompt"] == "dark" and kwargs["max_sequence_length"] == 16
    latte = adapter_for(tiny("latte"))
    kwargs = latte.call_kwargs(latte.resolve(req()))
    assert kwargs["video_length"] == 4 and "num_frames" not in kwargs and kwargs["clean_caption"] is False
    hunyuan = adapter_for(tiny("hunyuanvideo"))
    assert "negative_prompt" not in hunyuan.call_kwargs(hunyuan.resolve(req(negative_prompt="dark")))


def test_request_extras_are_checked_against_the_pipeline(tiny: Callable[[str], TinyPipeline]) -> None:
    adapter = adapter_for(tiny("wan"))
    with pytest.raises(RequestError, match="not_an_argument"):
        adapter.generate(req(extra={"not_an_argument": 1}))
    with pytest.raises(RequestError, match="output_type"):
        adapter.generate(req(extra={"output_type": "pil"}))
    video = adapter.generate(req(extra={"max_sequence_length": 12}))  # a real WanPipeline argument
    assert video.provenance.params["extra"] == {"max_sequence_length": 12} and video.num_frames == 9
    # accepted by the signature but refused by this (single-expert) pipeline: a GenerationError naming the model
    with pytest.raises(GenerationError, match=r"\[tiny-wan\].*guidance_scale_2"):
        adapter.generate(req(extra={"guidance_scale_2": 3.0}))


# -- loading from disk, offline -------------------------------------------------------------------------


def test_saved_folder_round_trip_through_the_real_loading_path(
    tiny: Callable[[str], TinyPipeline], tmp_path: Path
) -> None:
    tp = tiny("wan")
    folder = tmp_path / "tiny-wan"
    tp.pipe.save_pretrained(folder)
    adapter = DiffusersAdapter.from_config("wan-local", {"family": "wan", "path": "tiny-wan"} | tp.params, tmp_path)
    assert adapter.check().ok, adapter.check().detail
    loaded = adapter.generate(req(seed=3))
    direct = adapter_for(tp).generate(req(seed=3))
    assert np.abs(loaded.frames.astype(int) - direct.frames.astype(int)).max() <= 1
    prov = loaded.provenance
    assert prov.weights_hash and prov.weights_hash.startswith("files-sha256:")
    assert prov.params["weights_source"] == str(folder) and prov.revision is None
    adapter.close()
    assert adapter._pipe is None


def test_hf_cache_snapshot_loads_and_missing_shard_is_reported(
    tiny: Callable[[str], TinyPipeline], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tp = tiny("mochi")
    cache, sha = tmp_path / "hub", "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--tiny-org--tiny-mochi"
    tp.pipe.save_pretrained(repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    params = {"family": "mochi", "repo_id": "tiny-org/tiny-mochi"} | tp.params
    video = DiffusersAdapter.from_config("mochi-cached", params).generate(req())
    assert video.provenance.revision == sha and video.frames.shape == (7, 16, 16, 3)
    assert video.provenance.params["weights_source"] == "tiny-org/tiny-mochi"

    next((repo / "snapshots" / sha / "transformer").glob("*.safetensors")).unlink()  # a lost shard
    adapter = DiffusersAdapter.from_config("mochi-cached", params)
    assert not adapter.check().ok and "transformer" in adapter.check().detail
    with pytest.raises(WeightsNotFoundError, match=r"mochi-cached.*transformer"):
        adapter.load()


def test_missing_weights_fail_fast_naming_model_and_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    start = time.perf_counter()
    by_path = DiffusersAdapter.from_config("wan-missing", {"family": "wan", "path": str(tmp_path / "nowhere")})
    with pytest.raises(WeightsNotFoundError) as err:
        by_path.load()
    assert "wan-missing" in str(err.value) and str(tmp_path / "nowhere") in str(err.value)
    by_repo = DiffusersAdapter.from_config("cog-missing", {"family": "cogvideox", "repo_id": "THUDM/CogVideoX-2b"})
    with pytest.raises(WeightsNotFoundError) as err:
        by_repo.generate(req())
    message = str(err.value)
    assert "cog-missing" in message and "THUDM/CogVideoX-2b" in message and str(tmp_path / "empty-hub") in message
    availability = by_repo.check()
    assert not availability.ok and "THUDM/CogVideoX-2b" in availability.detail
    assert time.perf_counter() - start < 2.0


def test_params_are_validated() -> None:
    ok = {"family": "wan", "repo_id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"}
    assert DiffusersAdapter.Params.model_validate(ok | {"family": "Wan2.1"}).family == "wan"
    for bad, why in [
        ({"family": "wam"}, "Did you mean"),
        ({"path": "x"}, "either repo_id or path"),
        ({"repo_id": None}, "give repo_id"),
        ({"call_kwargs": {"output_type": "pil"}}, "output_type"),
        ({"device": "tpu"}, "device"),
        ({"num_frames": 9}, "Extra inputs"),
    ]:
        with pytest.raises(ValidationError, match=why):
            DiffusersAdapter.Params.model_validate(ok | bad)


# -- CUDA-only settings ----------------------------------------------------------------------------------


def test_runtime_plan_applies_cuda_settings_only_on_cuda() -> None:
    settings = dict(torch_dtype="bfloat16", cpu_offload=True, vae_tiling=True, attention_backend="flash")
    on_gpu = plan_runtime("m", "auto", cuda_available=True, compile=True, **settings)  # type: ignore[arg-type]
    assert (on_gpu.device, on_gpu.dtype, on_gpu.skipped) == ("cuda", "bfloat16", [])
    assert on_gpu.cpu_offload and on_gpu.vae_tiling and on_gpu.compile and on_gpu.attention_backend == "flash"
    assert plan_runtime("m", "auto", "auto", False, False, None, False, cuda_available=True).dtype == "bfloat16"
    on_cpu = plan_runtime("m", "auto", cuda_available=False, compile=True, **settings)  # type: ignore[arg-type]
    assert (on_cpu.device, on_cpu.dtype, on_cpu.cpu_offload, on_cpu.compile) == ("cpu", "float32", False, False)
    assert len(on_cpu.skipped) == 5 and all(s.endswith("CUDA only") for s in on_cpu.skipped)
    with pytest.raises(AdapterUnavailableError, match="CUDA is not available"):
        plan_runtime("m", "cuda", "auto", False, False, None, False, cuda_available=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA behaviour; this machine has CUDA")
def test_without_cuda_settings_are_refused_or_skipped(tiny: Callable[[str], TinyPipeline], tmp_path: Path) -> None:
    tp = tiny("wan")
    with pytest.raises(AdapterUnavailableError, match="CUDA"):
        adapter_for(tp, device="cuda")
    tp.pipe.save_pretrained(tmp_path / "w")
    cuda_only = DiffusersAdapter.from_config(
        "wan-gpu", {"family": "wan", "path": str(tmp_path / "w"), "device": "cuda"}
    )
    assert not cuda_only.check().ok and "CUDA" in cuda_only.check().detail
    adapter = adapter_for(tp, torch_dtype="float16", cpu_offload=True, vae_tiling=True, compile=True)
    video = adapter.generate(req())
    assert video.provenance.dtype == "float32" and video.provenance.device == "cpu"
    assert len(video.provenance.params["skipped"]) == 4
    shutil.rmtree(tmp_path / "w")
