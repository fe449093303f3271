"""Each family's loading recipe applied on tiny pipelines (CPU), and the settings refused when the models
file is read.

Recipes: component dtypes set at ``from_pretrained`` (never by a later cast), ``variant`` weight files found
or missed, AnimateDiff's scheduler swap, Allegro's required tiling and tile grid, per-version rules chosen by
the checkpoint's configs, HunyuanVideo's true CFG. Settings: attention backends against diffusers' own list,
``*_hub`` and mask-refusing backends refused, the backend scoped to one pipeline, every denoiser compiled.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from adapters.base import GenerationRequest
from adapters.config import parse_models
from adapters.diffusers_adapter import DiffusersAdapter
from adapters.diffusers_families import family_table, get_family
from adapters.diffusers_loading import missing_component_files, plan_runtime
from adapters.diffusers_params import MASKLESS_BACKENDS, DiffusersParams, attention_backend_names
from adapters.diffusers_recipes import Checkpoint, TileGrid
from adapters.diffusers_runtime import (
    compile_denoisers,
    component_dtypes,
    load_pipeline,
    reset_attention_backend,
    scope_attention_backend,
)
from adapters.errors import AdapterUnavailableError, ConfigError, GenerationError, OutputContractError
from tests.adapters.tiny_pipelines import BUILDERS, TinyPipeline
from tests.adapters.tiny_versions import VERSION_BUILDERS

Tiny = Callable[[str], TinyPipeline]


def adapter_for(tp: TinyPipeline, model_id: str = "", **params: Any) -> DiffusersAdapter:
    return DiffusersAdapter.from_pipeline(model_id or f"tiny-{tp.family}", tp.family, tp.pipe, **(tp.params | params))


def req(**kw: Any) -> GenerationRequest:
    return GenerationRequest(**({"prompt": "a red cat runs over the river", "steps": 2, "seed": 7} | kw))


def save_to_cache(tp: TinyPipeline, cache: Path, repo: str, **save: Any) -> Path:
    """A Hugging Face cache snapshot of ``tp`` (as ``huggingface_hub`` lays it out), returning the snapshot."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"models--{repo.replace('/', '--')}"
    tp.pipe.save_pretrained(root / "snapshots" / sha, **save)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(sha)
    return root / "snapshots" / sha


# -- dtypes: set per component at load -----------------------------------------------------------------


def test_component_dtypes_are_set_at_load_and_kept(tmp_path: Path) -> None:
    from diffusers import CogVideoXPipeline, WanPipeline

    wan = BUILDERS["wan"]()
    wan.pipe.save_pretrained(tmp_path / "wan")
    plan = plan_runtime("w", "auto", "auto", False, False, None, False, True, get_family("wan").component_dtypes)
    assert plan.load_dtype() == {"default": "bfloat16", "vae": "float32"}  # the plan a GPU gets
    pipe = load_pipeline(WanPipeline, tmp_path / "wan", plan)
    assert component_dtypes(pipe) == {"vae": "float32", "text_encoder": "bfloat16", "transformer": "bfloat16"}
    embedder = pipe.transformer.condition_embedder.time_embedder.linear_1
    assert embedder.weight.dtype == torch.float32  # Wan keeps it in float32 on purpose
    pipe.to(dtype=torch.bfloat16)  # what a later cast (the old `pipe.to(device, dtype)`) would do
    assert embedder.weight.dtype == torch.bfloat16 and pipe.vae.dtype == torch.bfloat16

    cog = BUILDERS["cogvideox"]()
    cog.pipe.save_pretrained(tmp_path / "cog")
    plan = plan_runtime("c", "auto", "float16", False, False, None, False, True)
    pipe = load_pipeline(CogVideoXPipeline, tmp_path / "cog", plan)
    wo = pipe.text_encoder.encoder.block[0].layer[1].DenseReluDense.wo
    assert pipe.transformer.dtype == torch.float16 and wo.weight.dtype == torch.float32  # T5's fp16 overflow guard


def test_dtype_maps_merge_the_recipe_and_the_models_file(tmp_path: Path, tiny: Tiny) -> None:
    params = DiffusersParams.model_validate(
        {"family": "wan", "path": "w", "torch_dtype": {"default": "float16", "text_encoder": "float32"}}
    )
    default, asked = params.dtype_request()
    plan = plan_runtime("w", "auto", default, False, False, None, False, True, {"vae": "float32", **asked})
    assert plan.load_dtype() == {"default": "float16", "vae": "float32", "text_encoder": "float32"}
    all_fp32 = plan_runtime("w", "auto", "float32", False, False, None, False, True, {"vae": "float32"})
    assert all_fp32.load_dtype() == "float32"
    on_cpu = plan_runtime("w", "auto", "auto", False, False, None, False, False, {"vae": "bfloat16"})
    assert on_cpu.load_dtype() == "float32" and on_cpu.skipped == ["torch_dtype=auto (float32 on CPU): CUDA only"]

    tiny("wan").pipe.save_pretrained(tmp_path / "w")
    typo = DiffusersAdapter.from_config(
        "w", {"family": "wan", "path": "w", "torch_dtype": {"vea": "float32"}}, tmp_path
    )
    assert not typo.check().ok and "torch_dtype names no component ['vea']" in typo.check().detail
    with pytest.raises(ValidationError, match="empty dtype map"):
        DiffusersParams.model_validate({"family": "wan", "path": "w", "torch_dtype": {}})


# -- variant: weight files named model.<variant>.safetensors --------------------------------------------


def test_variant_weights_are_found_or_the_check_says_to_set_variant(
    tiny: Tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = save_to_cache(tiny("mochi"), tmp_path / "hub", "genmo/tiny-mochi", variant="bf16")
    base = {"family": "mochi", "repo_id": "genmo/tiny-mochi"} | tiny("mochi").params
    plain = DiffusersAdapter.from_config("mochi-plain", base)
    assert not plain.check().ok and "variant bf16 files: set variant" in plain.check().detail
    wrong = DiffusersAdapter.from_config("mochi-fp16", base | {"variant": "fp16"})
    assert not wrong.check().ok and "no component has variant 'fp16' files" in wrong.check().detail
    right = DiffusersAdapter.from_config("mochi-bf16", base | {"variant": "bf16"})
    assert right.check().ok, right.check().detail
    video = right.generate(req())
    assert video.provenance.params["variant"] == "bf16" and video.frames.shape == (7, 16, 16, 3)
    assert missing_component_files(snapshot, "bf16") == []
    with pytest.raises(ValidationError, match="variant"):
        DiffusersParams.model_validate(base | {"variant": "../bf16"})


def test_arena_models_check_fails_a_variant_only_folder_until_variant_is_set(tiny: Tiny, tmp_path: Path) -> None:
    """Before `variant`, such a folder passed `arena models check` and then failed to load."""
    import json

    from typer.testing import CliRunner

    from arena.cli import build_app

    tiny("mochi").pipe.save_pretrained(tmp_path / "mochi", variant="bf16")
    entry = "{id: %s, display_name: M, kind: diffusers, params: {family: mochi, path: mochi%s}}"
    (tmp_path / "models.yaml").write_text(
        "models:\n  - " + entry % ("plain", "") + "\n  - " + entry % ("bf16", ", variant: bf16") + "\n"
    )
    args = ["models", "check", "--json", "--models-file", str(tmp_path / "models.yaml")]
    result = CliRunner().invoke(build_app(), args)
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert not rows["plain"]["ok"] and "set variant" in rows["plain"]["detail"]
    assert rows["bf16"]["ok"], rows["bf16"]["detail"]


def test_sharded_variant_with_a_lost_shard_is_reported(tiny: Tiny, tmp_path: Path) -> None:
    folder = tmp_path / "sharded"
    tiny("mochi").pipe.save_pretrained(folder, variant="bf16", max_shard_size="20KB")
    shards = sorted((folder / "transformer").glob("*.bf16-*.safetensors"))
    assert (
        len(shards) > 1 and (folder / "transformer" / "diffusion_pytorch_model.safetensors.index.bf16.json").is_file()
    )
    assert missing_component_files(folder, "bf16") == []
    shards[-1].unlink()
    assert missing_component_files(folder, "bf16") == [str(shards[-1])]


# -- scheduler, tiling, versions ------------------------------------------------------------------------


def test_animatediff_gets_ddim_with_a_linear_schedule() -> None:
    tp = BUILDERS["animatediff"]()
    assert type(tp.pipe.scheduler).__name__ == "PNDMScheduler"  # as a Stable Diffusion 1.5 base ships
    video = adapter_for(tp).generate(req())
    config = tp.pipe.scheduler.config
    assert (
        type(tp.pipe.scheduler).__name__ == "DDIMScheduler" and video.provenance.params["scheduler"] == "DDIMScheduler"
    )
    assert (config.beta_schedule, config.clip_sample, config.steps_offset) == ("linear", False, 1)
    assert config.timestep_spacing == "linspace" and config.beta_start == 0.00085  # the base's betas kept


def test_animatediff_base_folder_with_a_separate_motion_adapter(tmp_path: Path) -> None:
    """A Stable Diffusion base saved without a motion adapter, plus ``motion_adapter`` (a folder here; a cached
    repo id works the same), loaded through the real path: the PNDM it was saved with becomes DDIM."""
    import json
    import shutil

    tp = BUILDERS["animatediff"]()
    tp.pipe.save_pretrained(tmp_path / "base")
    shutil.move(tmp_path / "base" / "motion_adapter", tmp_path / "motion")
    index = json.loads((tmp_path / "base" / "model_index.json").read_text())
    (tmp_path / "base" / "model_index.json").write_text(
        json.dumps({k: v for k, v in index.items() if k != "motion_adapter"})
    )
    params = {"family": "animatediff", "path": "base", "motion_adapter": "elsewhere"} | tp.params
    lost = DiffusersAdapter.from_config("ad", params, tmp_path)
    assert not lost.check().ok and "elsewhere" in lost.check().detail
    adapter = DiffusersAdapter.from_config("ad", params | {"motion_adapter": "motion"}, tmp_path)
    assert adapter.check().ok, adapter.check().detail
    video = adapter.generate(req())
    assert video.provenance.params["scheduler"] == "DDIMScheduler" and video.num_frames == 8
    assert np.abs(video.frames.astype(int) - adapter_for(tp).generate(req()).frames.astype(int)).max() <= 1


def test_scheduler_config_overrides_are_checked() -> None:
    tp = BUILDERS["wan"]()
    video = adapter_for(tp, scheduler_config={"flow_shift": 5.0}).generate(req())  # Wan at 720p
    assert (
        tp.pipe.scheduler.config.flow_shift == 5.0 and video.provenance.params["scheduler"] == "UniPCMultistepScheduler"
    )
    with pytest.raises(AdapterUnavailableError, match=r"\['shift'\] are not UniPCMultistepScheduler settings"):
        adapter_for(tp, scheduler_config={"shift": 5.0})


def test_allegro_tiles_cover_every_snapped_request() -> None:
    tp = BUILDERS["allegro"]()
    adapter = adapter_for(tp, vae_tile=tp.params["vae_tile"] | {"height": 32, "overlap_height": 8})
    vae = tp.pipe.vae
    assert vae.use_tiling and (vae.kernel, vae.stride) == ((8, 32, 16), (4, 24, 8))  # on, without CUDA
    caps = adapter.capabilities()
    assert caps.size.heights[:2] == [32, 80] and caps.size.widths[:3] == [16, 32, 48]  # 32+24k, 16+8k; /16
    assert caps.frames.snap(10) == 8 and caps.frames.snap(11) == 12  # 8+4k
    video = adapter.generate(req(num_frames=11, width=44, height=44))
    assert video.frames.shape == (12, 32, 48, 3) and (video.frames == 128).mean() < 0.05
    assert video.provenance.params["vae_tiling"]["overlap_height"] == 8
    # off the grid (48 rows: one 32-row tile fits), the same VAE leaves the rest at a flat 0.5: the grey
    # the snapping avoids
    off = tp.pipe(prompt="a cat", num_frames=12, height=48, width=48, num_inference_steps=2, output_type="np",
                  max_sequence_length=16, clean_caption=False).frames[0]  # fmt: skip
    assert np.allclose(off[:, 32:], 0.5) and not np.allclose(off[:, :32], 0.5)


def test_allegro_grid_matches_diffusers_vae_and_the_table() -> None:
    from diffusers import AutoencoderKLAllegro

    fresh = AutoencoderKLAllegro(block_out_channels=(8, 8, 8, 8), norm_num_groups=2, layers_per_block=1)
    grid = TileGrid.from_vae_config(fresh.config)
    assert (grid.kernel(), grid.stride()) == (fresh.kernel, fresh.stride) == ((24, 320, 320), (16, 200, 240))
    allegro = get_family("allegro")
    assert grid.frame_rule(88) == allegro.frames and grid.size_rule(1280, 16) == allegro.size
    assert grid.values("height", 1280) == [320, 520, 720, 920, 1120] and allegro.size.heights == [320, 720, 1120]
    with pytest.raises(ValidationError, match="at most half"):
        TileGrid(height=16, overlap_height=12)
    with pytest.raises(ValidationError, match="vae_tile applies"):
        DiffusersParams.model_validate({"family": "wan", "path": "w", "vae_tile": {}})
    misaligned = BUILDERS["allegro"]()
    with pytest.raises(AdapterUnavailableError, match="vae_tile height 12 is not a multiple"):
        adapter_for(misaligned, vae_tile={"frames": 8, "height": 12, "width": 16, "overlap_frames": 4} | {
            "overlap_height": 4, "overlap_width": 8,
        })  # fmt: skip


FIRST_CHECKPOINT = {
    "cogvideox-1.5": "cogvideox", "ltx-video-0.9.1+": "ltx", "sana-video-720p": "sana-video", "wan2.2-ti2v-5b": "wan",
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(VERSION_BUILDERS))
def test_version_is_chosen_by_the_saved_configs_before_loading(key: str, tiny: Tiny, tmp_path: Path) -> None:
    tp = tiny(key)
    tp.pipe.save_pretrained(tmp_path / key)
    on_disk = DiffusersAdapter.from_config(key, {"family": tp.family, "path": key}, tmp_path)
    assert on_disk.version() is not None and on_disk.version().name == key  # read from JSON, nothing loaded
    assert on_disk._pipe is None and f"version {key}" in on_disk.check().detail
    assert Checkpoint.from_folder(tmp_path / key).classes == Checkpoint.from_pipeline(tp.pipe).classes
    base = tiny(FIRST_CHECKPOINT[key])
    assert adapter_for(base).version() is None  # the family's first checkpoint keeps the table's rules


def test_version_rules_and_call_defaults(tiny: Tiny) -> None:
    cog10, cog15 = adapter_for(tiny("cogvideox")), adapter_for(tiny("cogvideox-1.5"))
    assert (cog10.capabilities().frames.snap(81), cog15.capabilities().frames.snap(81)) == (49, 81)
    sana480, sana720 = adapter_for(tiny("sana-video")), adapter_for(tiny("sana-video-720p"))
    assert (sana480.capabilities().frames.snap(13), sana720.capabilities().frames.snap(13)) == (13, 9)
    ltx090, ltx091 = adapter_for(tiny("ltx")), adapter_for(tiny("ltx-video-0.9.1+"))
    assert "decode_timestep" not in ltx090.call_kwargs(ltx090.resolve(req()))
    kwargs = ltx091.call_kwargs(ltx091.resolve(req()))
    assert (kwargs["decode_timestep"], kwargs["decode_noise_scale"]) == (0.03, 0.025)
    overridden = adapter_for(tiny("ltx-video-0.9.1+"), call_kwargs={"decode_timestep": 0.05})
    assert overridden.call_kwargs(overridden.resolve(req()))["decode_timestep"] == 0.05


def test_a_size_the_pipeline_rounds_is_an_error_not_a_wrong_record(tiny: Tiny) -> None:
    # TI2V-5B rounds sides down to multiples of 32; a (wrong) rule of 16 would record 48x48 for a 32x32 video
    adapter = adapter_for(tiny("wan2.2-ti2v-5b"), size_multiple=16)
    with pytest.raises(OutputContractError, match="asked 48x48, the pipeline returned 32x32"):
        adapter.generate(req(width=48, height=48))


def test_hunyuanvideo_true_cfg_passes_the_negative_prompt(tiny: Tiny) -> None:
    tp = tiny("hunyuanvideo")
    calls: list[int] = []
    hook = tp.pipe.transformer.register_forward_hook(lambda *_: calls.append(1))
    try:
        distilled = adapter_for(tp)
        assert "negative_prompt" not in distilled.call_kwargs(distilled.resolve(req(negative_prompt="dark")))
        distilled.generate(req(negative_prompt="dark"))
        assert len(calls) == 2  # one transformer pass per step: embedded guidance only
        calls.clear()
        true_cfg = adapter_for(tp, call_kwargs=tp.params["call_kwargs"] | {"true_cfg_scale": 4.0})
        assert true_cfg.capabilities().supports_negative_prompt
        video = true_cfg.generate(req(negative_prompt="dark"))
        assert len(calls) == 4 and video.provenance.params["negative_prompt"] == "dark"  # two passes per step
        calls.clear()
        video = true_cfg.generate(req())  # no negative prompt asked: the empty one, recorded
        assert len(calls) == 4 and video.provenance.params["negative_prompt"] == ""
        calls.clear()
        per_request = adapter_for(tp).generate(req(negative_prompt="dark", extra={"true_cfg_scale": 3.0}))
        assert len(calls) == 4 and per_request.provenance.params["negative_prompt"] == "dark"
    finally:
        hook.remove()


# -- attention backends and compile --------------------------------------------------------------------


def test_backend_names_are_diffusers_own() -> None:
    from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

    names = attention_backend_names()
    assert names == tuple(b.value for b in AttentionBackendName) and "sdpa" not in names
    raising = set()
    for backend in AttentionBackendName:
        source = inspect.getsource(_AttentionBackendRegistry._backends[backend])
        if "attn_mask` is not supported" in source or "is not supported for sage" in source:
            raising.add(backend.value)
    assert raising == MASKLESS_BACKENDS


@pytest.mark.parametrize(
    ("family", "backend", "why"),
    [
        ("wan", "sdpa", "unknown attention backend 'sdpa' for diffusers"),
        ("wan", "flash_hub", "downloads its kernel from the Hugging Face Hub"),
        ("wan", "sage_hub", "downloads its kernel"),
        ("ltx", "flash", "'flash' raises on attention masks, which ltx passes"),
        ("hunyuanvideo", "sage", "raises on attention masks, which hunyuanvideo passes"),
        ("sana-video", "_flash_3", "raises on attention masks, which sana-video passes"),
    ],
)
def test_attention_backend_refused_when_the_models_file_is_read(family: str, backend: str, why: str) -> None:
    entry = {"id": "m", "display_name": "M", "kind": "diffusers"}
    entry["params"] = {"family": family, "repo_id": "org/m", "attention_backend": backend}
    with pytest.raises(ConfigError, match="field params.*" + why.replace("(", r"\(")) as err:
        parse_models({"models": [entry]}, "models.yaml")
    assert "models.yaml: model 'm'" in str(err.value)


def test_a_models_file_with_variant_dtypes_and_backend_is_valid() -> None:
    params = {
        "family": "wan", "repo_id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "variant": "bf16",
        "torch_dtype": {"default": "bfloat16", "vae": "float32"}, "attention_backend": "flash",
    }  # fmt: skip
    ltx = {"family": "ltx", "repo_id": "Lightricks/LTX-Video", "attention_backend": "native"}
    models = [{"id": "wan", "display_name": "Wan", "kind": "diffusers", "params": params}]
    models.append({"id": "ltx", "display_name": "LTX", "kind": "diffusers", "params": ltx})
    catalog = parse_models({"models": models}, "models.yaml")
    assert [s.id for s in catalog.specs] == ["wan", "ltx"]


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_table_says_where_a_backend_acts_and_where_masks_pass(family: str, tiny: Tiny) -> None:
    """Measured on the real pipelines: a mask-refusing backend (PyTorch's flash kernel, which runs on CPU)
    set on every family whose attention goes through diffusers' dispatcher fails exactly where masks pass."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    tp = BUILDERS[family]()
    fam = get_family(family)
    before = _AttentionBackendRegistry._active_backend
    applied = scope_attention_backend(tp.pipe, "_native_flash")
    assert _AttentionBackendRegistry._active_backend == before  # not process-wide
    assert bool(applied) == fam.attention_dispatch
    if not applied:
        return
    adapter = adapter_for(tp)
    if fam.attention_masks:
        with pytest.raises(GenerationError, match="attn_mask` is not supported"):
            adapter.generate(req())
    else:
        assert adapter.generate(req()).num_frames == adapter.capabilities().default_frames
    reset_attention_backend(tp.pipe, list(applied))
    assert adapter.generate(req()).frames.std() > 0


def test_backend_is_scoped_to_one_model_and_reset(tiny: Tiny) -> None:
    first, other = BUILDERS["wan2.2"](), tiny("skyreels-v2")
    applied = scope_attention_backend(first.pipe, "_native_math")
    assert applied == {"transformer": 4, "transformer_2": 4}  # both experts

    def backends(pipe: Any) -> set[Any]:
        return {m.processor._attention_backend for m in pipe.transformer.modules() if hasattr(m, "processor")}

    assert {b.value for b in backends(first.pipe)} == {"_native_math"} and backends(other.pipe) == {None}
    reset_attention_backend(first.pipe, list(applied))
    assert backends(first.pipe) == {None}
    assert scope_attention_backend(tiny("cogvideox").pipe, "_native_math") == {}  # no effect: not recorded


def test_every_denoiser_is_compiled() -> None:
    wan22, animatediff = BUILDERS["wan2.2"](), BUILDERS["animatediff"]()
    assert compile_denoisers(wan22.pipe) == ["transformer", "transformer_2"]
    assert compile_denoisers(animatediff.pipe) == ["unet"]
    for module in (wan22.pipe.transformer, wan22.pipe.transformer_2, animatediff.pipe.unet):
        assert module._compiled_call_impl is not None  # compiled lazily, at its first call


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA behaviour; this machine has CUDA")
def test_cuda_only_settings_are_skipped_and_recorded_here(tiny: Tiny, tmp_path: Path) -> None:
    adapter = adapter_for(
        tiny("wan2.2"), attention_backend="flash", compile=True, torch_dtype={"default": "bfloat16", "vae": "float32"}
    )
    params = adapter.generate(req()).provenance.params
    assert "attention_backend" not in params and "compiled" not in params and "component_dtypes" not in params
    assert params["skipped"] == [
        "torch_dtype=bfloat16 (float32 on CPU): CUDA only", "attention_backend=flash: CUDA only", "compile: CUDA only",
    ]  # fmt: skip
    tiny("cogvideox").pipe.save_pretrained(tmp_path / "cog")
    no_effect = DiffusersAdapter.from_config(
        "cog", {"family": "cogvideox", "path": "cog", "attention_backend": "sage"}, tmp_path
    )
    assert "attention_backend has no effect on cogvideox" in no_effect.check().detail  # valid, but said


def test_reading_a_models_file_with_a_backend_imports_neither_torch_nor_diffusers(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "models.yaml").write_text(
        "models:\n  - {id: w, display_name: W, kind: diffusers, params: {family: wan, repo_id: o/w, "
        "attention_backend: sage, variant: bf16, torch_dtype: {default: bfloat16, vae: float32}}}\n"
    )
    code = (
        "import sys; from adapters.config import load_models_file; "
        f"load_models_file({str(tmp_path / 'models.yaml')!r}); "
        "print('torch' in sys.modules, 'diffusers' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_every_family_recipe_is_in_the_table() -> None:
    table = family_table()
    assert {n for n, f in table.items() if f.component_dtypes.get("vae") == "float32"} == {
        "wan", "wan2.2", "skyreels-v2", "sana-video", "allegro",
    }  # fmt: skip
    assert [n for n, f in table.items() if f.tiling_required] == ["allegro"]
    assert [n for n, f in table.items() if f.scheduler] == ["animatediff"]
    assert {n for n, f in table.items() if f.attention_masks} == {"ltx", "hunyuanvideo", "sana-video"}


# -- the README's entries ---------------------------------------------------------------------------------


def readme_entries() -> list[dict[str, Any]]:
    """The YAML block of README "Adding a model" that shows one diffusers entry per family."""
    import textwrap

    import yaml

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = text[text.index("One entry per family") :]
    block = after[after.index("```yaml") + len("```yaml") : after.index("```\n", after.index("```yaml") + 7)]
    data = yaml.safe_load(textwrap.dedent(block))
    parse_models(data, "README.md")  # valid as a models file
    return list(data["models"])


def test_readme_shows_one_valid_entry_per_family() -> None:
    entries = readme_entries()
    assert sorted(e["params"]["family"] for e in entries) == sorted(family_table())


@pytest.mark.parametrize("entry", readme_entries(), ids=lambda e: e["params"]["family"])
def test_readme_entry_runs_on_its_family_tiny_pipeline(entry: dict[str, Any], tiny: Tiny) -> None:
    """The entry's settings (dtypes, backend, scheduler, call arguments), on the tiny pipeline of its family:
    only where the weights come from is left out, and the tiny checkpoint's rule overrides are added."""
    source = {"repo_id", "path", "revision", "cache_dir", "variant", "motion_adapter"}
    params = {k: v for k, v in entry["params"].items() if k not in source and k != "family"}
    family = entry["params"]["family"]
    tp = tiny(family)
    params["call_kwargs"] = tp.params.get("call_kwargs", {}) | params.get("call_kwargs", {})
    video = DiffusersAdapter.from_pipeline(entry["id"], family, tp.pipe, **(params | tp.params | params)).generate(
        req()
    )
    prov = video.provenance
    assert (prov.params["num_frames"], prov.params["width"], prov.params["height"]) == (video.num_frames, *video.size)
