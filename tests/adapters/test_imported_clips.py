"""ImportedClipsAdapter on real MP4 files written with encode_mp4 into tmp_path."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.base import GenerationRequest
from adapters.errors import AdapterUnavailableError, GenerationError
from adapters.imported_clips import ImportedClipsAdapter, MissingClipError
from adapters.video_io import encode_mp4


def write_clip(path: Path, num_frames: int, level: int, fps: float = 10.0) -> None:
    """A flat grey clip: ``num_frames`` and ``level`` tell clips apart after decoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_mp4(np.full((num_frames, 32, 48, 3), level, dtype=np.uint8), fps))


def clips_model(base: Path, **params: Any) -> ImportedClipsAdapter:
    adapter = ImportedClipsAdapter.from_config("kling-clips", params, base_dir=base)
    assert isinstance(adapter, ImportedClipsAdapter)
    return adapter


def is_level(frames: np.ndarray, level: int) -> bool:
    """The clip written at grey ``level`` (H.264's limited-range YUV moves a level by one or two)."""
    return abs(float(frames.mean()) - level) <= 3


def test_vbench_naming_picks_clip_by_seed_and_reads_fps(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    write_clip(folder / "a red car drives-0.mp4", 3, 40)
    write_clip(folder / "a red car drives-1.mp4", 5, 120)
    write_clip(folder / "a  blue bird-0.mp4", 4, 200, fps=15)
    (folder / "notes.mp4").write_bytes(b"not in vbench naming")
    model = clips_model(tmp_path, folder="clips")  # relative to the models file's folder

    assert model.available_prompts() == ["a  blue bird", "a red car drives"]
    video = model.generate(GenerationRequest(prompt="a red car drives", seed=3))  # 3 % 2 -> clip 1
    assert video.num_frames == 5 and is_level(video.frames, 120) and video.fps == 10.0
    assert video.seed == 3 and video.size == (48, 32)
    params = video.provenance.params
    assert params["clip_file"] == "a red car drives-1.mp4" and params["num_frames"] == 5 and params["width"] == 48
    assert len(params["clip_sha256"]) == 64
    assert is_level(model.generate(GenerationRequest(prompt="a red car drives", seed=4)).frames, 40)

    bird = model.generate(GenerationRequest(prompt="  a blue\tbird ", seed=1))  # whitespace normalised
    assert bird.fps == 15.0 and is_level(bird.frames, 200)
    availability = model.check()
    assert availability.ok and "3 clip(s) for 2 prompt(s)" in availability.detail
    assert "1 file(s) not named" in availability.detail


def test_chinese_and_decomposed_unicode_file_names(tmp_path: Path) -> None:
    write_clip(tmp_path / "一只猫在弹钢琴-0.mp4", 2, 90)
    write_clip(tmp_path / (unicodedata.normalize("NFD", "un café au lait") + "-0.mp4"), 2, 160)
    model = clips_model(tmp_path, folder=str(tmp_path))
    assert "一只猫在弹钢琴" in model.available_prompts()
    assert is_level(model.generate(GenerationRequest(prompt="一只猫在弹钢琴", seed=0)).frames, 90)
    nfc = unicodedata.normalize("NFC", "un café au lait")
    assert is_level(model.generate(GenerationRequest(prompt=nfc, seed=0)).frames, 160)


def test_jsonl_manifest_prefers_the_matching_seed(tmp_path: Path) -> None:
    write_clip(tmp_path / "v" / "a.mp4", 2, 30)
    write_clip(tmp_path / "v" / "b.mp4", 3, 130)
    write_clip(tmp_path / "v" / "c.mp4", 4, 230)
    rows = [
        {"prompt": "ocean waves at dusk", "file": "a.mp4", "seed": 11},
        {"prompt": "ocean waves at dusk", "file": "b.mp4", "seed": 22},
        {"prompt": "城市夜景", "file": "c.mp4", "language": "zh"},
    ]
    (tmp_path / "v" / "manifest.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    model = clips_model(tmp_path, folder="v", naming="manifest")  # manifest.jsonl found in the folder
    video = model.generate(GenerationRequest(prompt="ocean waves at dusk", seed=22))
    assert is_level(video.frames, 130) and video.provenance.params["clip_seed"] == 22
    assert is_level(model.generate(GenerationRequest(prompt="ocean waves at dusk", seed=5)).frames, 130)  # 5 % 2
    assert is_level(model.generate(GenerationRequest(prompt="ocean waves at dusk", seed=4)).frames, 30)
    assert model.available_prompts(language="zh") == ["城市夜景"]


def test_csv_manifest_with_missing_file(tmp_path: Path) -> None:
    write_clip(tmp_path / "clips" / "x.mp4", 2, 70)
    (tmp_path / "m.csv").write_text(
        'prompt,file,seed,language\n"a dog, running",x.mp4,,en\nlost prompt,gone.mp4,3,en\n', encoding="utf-8"
    )
    model = clips_model(tmp_path, folder="clips", naming="manifest", manifest="m.csv")
    assert is_level(model.generate(GenerationRequest(prompt="a dog, running", seed=9)).frames, 70)
    assert model.available_prompts() == ["a dog, running"]
    availability = model.check()
    assert availability.ok and "1 clip(s) for 1 prompt(s)" in availability.detail
    assert "1 listed file(s) missing" in availability.detail
    with pytest.raises(MissingClipError, match=r"gone\.mp4"):
        model.generate(GenerationRequest(prompt="lost prompt", seed=3))


def test_missing_prompt_is_a_typed_error_never_a_fake_clip(tmp_path: Path) -> None:
    write_clip(tmp_path / "a red car drives-0.mp4", 2, 40)
    model = clips_model(tmp_path, folder=".")
    with pytest.raises(MissingClipError, match=r"\[kling-clips\] no clip for prompt 'a red car drive'") as info:
        model.generate(GenerationRequest(prompt="a red car drive", seed=0))
    assert isinstance(info.value, GenerationError)
    assert "closest prompt with clips: 'a red car drives'" in str(info.value)


def test_missing_folder_or_manifest_or_bad_manifest(tmp_path: Path) -> None:
    gone = clips_model(tmp_path, folder="nowhere")
    availability = gone.check()
    assert not availability.ok and "does not exist" in availability.detail
    with pytest.raises(AdapterUnavailableError, match="does not exist"):
        gone.generate(GenerationRequest(prompt="x"))

    (tmp_path / "empty").mkdir()
    assert not clips_model(tmp_path, folder="empty").check().ok  # no clips at all
    no_manifest = clips_model(tmp_path, folder="empty", naming="manifest").check()
    assert not no_manifest.ok and "manifest.jsonl not found" in no_manifest.detail

    (tmp_path / "empty" / "manifest.jsonl").write_text('{"prompt": "a", "file": "a.mp4"}\n{oops\n', encoding="utf-8")
    bad = clips_model(tmp_path, folder="empty", naming="manifest").check()
    assert not bad.ok and "line 2: not valid JSON" in bad.detail


def test_manifest_param_needs_manifest_naming() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="only read with naming: manifest"):
        ImportedClipsAdapter.from_config("m", {"folder": "x", "manifest": "m.csv"})
