"""PythonAdapter: real imports of real callables (targets in this module, in tmp_path, or missing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from adapters.base import GenerationRequest, RawVideo
from adapters.config import parse_models
from adapters.errors import AdapterUnavailableError, ConfigError, GenerationError, OutputContractError
from adapters.python_adapter import PythonAdapter

NOT_CALLABLE = 42


def floats_fhwc(prompt: str, seed: int, num_frames: int, width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((num_frames, height, width, 3), dtype=np.float32)


def chw_with_fps(text: str, *, num_frames: int, width: int, height: int) -> dict[str, Any]:
    frames = np.zeros((num_frames, 3, height, width), dtype=np.uint8)
    frames[:, 0] = 200  # red, in channel-first layout
    return {"frames": frames, "fps": 24, "layout": "FCHW"}


def chw_plain(prompt: str, num_frames: int, width: int, height: int) -> np.ndarray:
    return np.full((num_frames, 3, height, width), 0.5, dtype=np.float32)


def with_nan(prompt: str, num_frames: int) -> np.ndarray:
    frames = np.zeros((num_frames, 16, 16, 3), dtype=np.float32)
    frames[0, 0, 0, 0] = np.nan
    return frames


def takes_everything(prompt: str, **kw: Any) -> RawVideo:
    """Reports what it received through provenance."""
    frames = np.zeros((kw["num_frames"], kw["height"], kw["width"], 3), dtype=np.uint8)
    return RawVideo(frames, fps=5.0, details={"params": {"received": {"prompt": prompt, **kw}}})


def needs_api_key(prompt: str, api_key: str, num_frames: int = 4) -> np.ndarray:
    assert api_key == "k-1"
    return np.zeros((num_frames, 16, 16, 3), dtype=np.uint8)


def explodes(prompt: str) -> np.ndarray:
    raise ValueError("the GPU caught fire")


def python_model(target: str, **params: Any) -> PythonAdapter:
    adapter = PythonAdapter.from_config("py-model", {"target": f"{__name__}:{target}", **params})
    assert isinstance(adapter, PythonAdapter)
    return adapter


def test_simple_callable_gets_only_the_arguments_it_names() -> None:
    video = python_model("floats_fhwc").generate(
        GenerationRequest(prompt="a cat", seed=9, num_frames=6, width=32, height=24, steps=50, guidance=3.0)
    )
    assert video.frames.shape == (6, 24, 32, 3) and video.frames.dtype == np.uint8
    expected = (np.random.default_rng(9).random((6, 24, 32, 3), dtype=np.float32) * 255).round()
    assert np.array_equal(video.frames, expected.astype(np.uint8))
    assert video.fps == 8.0 and video.seed == 9 and video.provenance.adapter_kind == "python"


def test_every_name_goes_to_kwargs_and_unset_optionals_are_left_out() -> None:
    model = python_model("takes_everything", kwargs={"scheduler": "ddim"})
    one = model.generate(GenerationRequest(prompt="p", seed=1, num_frames=3, width=16, height=16))
    two = model.generate(
        GenerationRequest(prompt="q", seed=2, steps=4, guidance=1.5, negative_prompt="blur", extra={"lora": "x"})
    )
    assert one.fps == 5.0
    first, second = one.provenance.params["received"], two.provenance.params["received"]
    assert first == {
        "prompt": "p",
        "seed": 1,
        "num_frames": 3,
        "width": 16,
        "height": 16,
        "fps": 8.0,
        "scheduler": "ddim",
    }
    assert second["steps"] == 4 and second["guidance"] == 1.5 and second["negative_prompt"] == "blur"
    assert second["extra"] == {"lora": "x"}


def test_channel_first_frames_are_converted_by_the_contract() -> None:
    video = python_model("chw_with_fps").generate(GenerationRequest(prompt="red", num_frames=4, width=32, height=16))
    assert video.frames.shape == (4, 16, 32, 3) and video.fps == 24.0
    assert (video.frames[..., 0] == 200).all() and (video.frames[..., 1:] == 0).all()

    declared = python_model("chw_plain", layout="FCHW").generate(GenerationRequest(prompt="x", num_frames=2))
    assert declared.frames.shape == (2, 256, 256, 3) and (declared.frames == 128).all()
    with pytest.raises(OutputContractError, match=r"\[py-model\].*256 channels"):
        python_model("chw_plain").generate(GenerationRequest(prompt="x", num_frames=2))  # layout not declared


def test_nan_output_is_an_output_contract_error_naming_the_model() -> None:
    with pytest.raises(OutputContractError, match=r"\[py-model\] frames contain NaN"):
        python_model("with_nan").generate(GenerationRequest(prompt="x", num_frames=2))


def test_exceptions_from_the_callable_are_generation_errors() -> None:
    with pytest.raises(GenerationError, match="explodes raised ValueError: the GPU caught fire"):
        python_model("explodes").generate(GenerationRequest(prompt="x"))


def test_fixed_kwargs_fill_required_parameters() -> None:
    video = python_model("needs_api_key", kwargs={"api_key": "k-1"}).generate(GenerationRequest(prompt="x"))
    assert video.num_frames == 16  # num_frames is passed because the signature names it
    with pytest.raises(AdapterUnavailableError, match=r"requires \['api_key'\]"):
        python_model("needs_api_key").generate(GenerationRequest(prompt="x"))


def test_import_failures_name_the_target_and_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AdapterUnavailableError, match=r"\[m\] target 'no_such_pkg_zz.sub:f'.*failed to import"):
        PythonAdapter.from_config("m", {"target": "no_such_pkg_zz.sub:f"}).generate(GenerationRequest(prompt="x"))
    assert not PythonAdapter.from_config("m", {"target": "no_such_pkg_zz:f"}).check().ok

    with pytest.raises(AdapterUnavailableError, match="has no attribute 'floats_fwhc'; did you mean 'floats_fhwc'"):
        python_model("floats_fwhc").generate(GenerationRequest(prompt="x"))
    with pytest.raises(AdapterUnavailableError, match="not callable"):
        python_model("NOT_CALLABLE").generate(GenerationRequest(prompt="x"))

    (tmp_path / "broken_model_mod.py").write_text("import torchx_not_installed\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = PythonAdapter.from_config("m", {"target": "broken_model_mod:make"})
    assert broken.check().ok  # found without importing it
    with pytest.raises(AdapterUnavailableError, match="ModuleNotFoundError: No module named 'torchx_not_installed'"):
        broken.generate(GenerationRequest(prompt="x"))


def test_bad_params_are_config_errors_naming_file_entry_and_field() -> None:
    data = {
        "models": [
            {"id": "m1", "display_name": "M", "kind": "python", "params": {"target": "no colon"}},
        ]
    }
    with pytest.raises(ConfigError, match=r"models\.yaml: model 'm1':\n  field params\.target"):
        parse_models(data, "models.yaml")
    data["models"][0]["params"] = {"target": "a:b", "kwargs": {"seed": 3}}
    with pytest.raises(ConfigError, match=r"field params\.kwargs: .*come from each request"):
        parse_models(data, "models.yaml")


def test_repository_models_file_entries_of_these_kinds_are_valid() -> None:
    from adapters.kinds import adapter_kinds

    kinds = adapter_kinds()
    entries = yaml.safe_load((Path(__file__).parents[2] / "models.yaml").read_text(encoding="utf-8"))["models"]
    mine = [e for e in entries if e["kind"] in ("http", "python", "imported_clips")]
    assert {e["kind"] for e in mine} == {"http", "python", "imported_clips"}
    for entry in mine:
        kinds.get(entry["kind"]).Params.model_validate(entry.get("params", {}))
