"""The shared adapter contract: snapping rules, frame conversion, the registry, the models file, MP4 IO."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.base import GenerationRequest, RawVideo, ResolvedRequest, VideoAdapter, resolve_request
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.config import load_models_file, parse_models
from adapters.contract import to_uint8_frames
from adapters.errors import ConfigError, OutputContractError
from adapters.kinds import adapter_kinds
from adapters.registry import Registry, UnknownNameError
from adapters.video_io import (
    decode_mp4,
    encode_mp4,
    probe_metadata,
)

# -- snapping ------------------------------------------------------------------------------------------


def _frames_ok(rule: FrameRule, n: int) -> bool:
    if rule.fixed:
        return n in rule.fixed
    in_range = rule.min <= n and (rule.max is None or n <= rule.max)
    return in_range and (n - rule.offset) % rule.step == 0


@pytest.mark.parametrize(
    ("rule", "asked", "expected"),
    [
        (FrameRule(), 7, 7),
        (FrameRule(min=1, max=128), 500, 128),
        (FrameRule(min=1, max=128), 0, 1),
        (FrameRule(step=4, offset=1, min=9, max=49), 16, 17),  # 4k+1 (CogVideoX, Wan)
        (FrameRule(step=4, offset=1, min=9, max=49), 15, 13),  # a tie goes to the smaller count
        (FrameRule(step=8, offset=1, min=9, max=161), 1000, 161),  # 8k+1 (LTX)
        (FrameRule(step=8, offset=1, min=9, max=161), 2, 9),
        (FrameRule(fixed=[16, 25, 49]), 30, 25),
        (FrameRule(fixed=[16, 25, 49]), 1, 16),
    ],
)
def test_frame_rule_snaps_to_the_nearest_valid_count(rule: FrameRule, asked: int, expected: int) -> None:
    assert rule.snap(asked) == expected


@settings(max_examples=300, deadline=None)
@given(
    step=st.integers(1, 16),
    offset=st.integers(-20, 20),
    lo=st.integers(1, 60),
    span=st.none() | st.integers(0, 300),
    n=st.integers(-100, 3000),
)
def test_frame_rule_snap_is_valid_and_idempotent(step: int, offset: int, lo: int, span: int | None, n: int) -> None:
    rule = FrameRule(step=step, offset=offset, min=lo, max=None if span is None else lo + span)
    first = lo + (offset - lo) % step
    assume(rule.max is None or first <= rule.max)  # the rule admits at least one count
    snapped = rule.snap(n)
    assert _frames_ok(rule, snapped), snapped
    assert rule.snap(snapped) == snapped


@settings(max_examples=100, deadline=None)
@given(fixed=st.lists(st.integers(1, 200), min_size=1, max_size=5), n=st.integers(-10, 400))
def test_fixed_frame_rule_snap_is_one_of_the_fixed(fixed: list[int], n: int) -> None:
    rule = FrameRule(fixed=fixed)
    assert rule.snap(n) in fixed and rule.snap(rule.snap(n)) == rule.snap(n)


@settings(max_examples=300, deadline=None)
@given(
    multiple=st.integers(2, 64),
    lo=st.integers(2, 300),
    span=st.integers(0, 2000),
    w=st.integers(1, 5000),
    h=st.integers(1, 5000),
)
def test_size_rule_snap_is_valid_and_idempotent(multiple: int, lo: int, span: int, w: int, h: int) -> None:
    rule = SizeRule(multiple=multiple, min=lo, max=lo + span)
    assume(-(-lo // multiple) * multiple <= rule.max)  # some multiple lies within [min, max]
    sw, sh = rule.snap(w, h)
    for v in (sw, sh):
        assert v % multiple == 0 and rule.min <= v <= rule.max, (v, rule)
    assert rule.snap(sw, sh) == (sw, sh)


def test_size_rule_cases() -> None:
    assert SizeRule(multiple=8, min=64, max=1024).snap(130, 96) == (128, 96)
    assert SizeRule(multiple=8, min=64, max=1024).snap(4000, 3) == (1024, 64)
    assert SizeRule(multiple=16, min=20, max=100).snap(20, 100) == (32, 96)  # min and max not multiples
    capped = SizeRule(multiple=16, min=16, max=2048, max_pixels=256 * 256).snap(1024, 1024)
    assert capped[0] * capped[1] <= 256 * 256 and capped[0] % 16 == 0
    assert SizeRule(fixed=[(720, 480), (480, 720)]).snap(500, 700) == (480, 720)


def test_resolve_request_fills_defaults_and_records_changes() -> None:
    caps = Capabilities(frames=FrameRule(step=4, offset=1, min=9, max=49), size=SizeRule(multiple=16))
    resolved = resolve_request(GenerationRequest(prompt="p", seed=5, num_frames=16, width=100), caps)
    assert (resolved.num_frames, resolved.width, resolved.height, resolved.seed) == (17, 96, 256, 5)
    assert resolved.adjustments == {"num_frames": [16, 17], "width": [100, 96]}
    unseeded = resolve_request(GenerationRequest(prompt="p"), caps)
    assert 0 <= unseeded.seed <= 2**31 - 1 and unseeded.adjustments == {}


# -- frame conversion --------------------------------------------------------------------------------


def _video(f: int = 3, h: int = 6, w: int = 5) -> np.ndarray:
    return np.random.default_rng(0).random((f, h, w, 3), dtype=np.float32)


@pytest.mark.parametrize(
    ("layout", "arrange"),
    [
        ("FHWC", lambda v: v),
        ("FCHW", lambda v: v.transpose(0, 3, 1, 2)),
        ("BFHWC", lambda v: v[None]),
        ("BFCHW", lambda v: v.transpose(0, 3, 1, 2)[None]),
    ],
)
@pytest.mark.parametrize("as_uint8", [False, True])
def test_to_uint8_frames_converts_every_layout(layout: str, arrange, as_uint8: bool) -> None:  # type: ignore[no-untyped-def]
    video = _video()
    expected = (video * 255).round().astype(np.uint8)
    source = expected if as_uint8 else video
    out = to_uint8_frames(arrange(source), layout, "m")  # type: ignore[arg-type]
    assert out.dtype == np.uint8 and out.shape == (3, 6, 5, 3) and out.flags.c_contiguous
    assert np.array_equal(out, expected)


def test_to_uint8_frames_accepts_lists_and_float64() -> None:
    frames = [np.full((4, 4, 3), 0.5)] * 2
    out = to_uint8_frames(frames, "FHWC", "m")
    assert out.shape == (2, 4, 4, 3) and (out == 128).all()


@pytest.mark.parametrize(
    ("frames", "layout", "message"),
    [
        (np.zeros((6, 5, 3), np.uint8), "FHWC", "dims"),
        (np.zeros((2, 3, 6, 5, 3), np.uint8), "FHWC", "dims"),
        (np.zeros((3, 6, 5, 4), np.uint8), "FHWC", "channels"),
        (np.zeros((3, 4, 6, 5), np.uint8), "FCHW", "channels"),
        (np.zeros((0, 6, 5, 3), np.uint8), "FHWC", "zero frames"),
        (np.zeros((3, 1, 5, 3), np.uint8), "FHWC", "too small"),
        (np.full((3, 6, 5, 3), np.nan, np.float32), "FHWC", "NaN"),
        (np.full((3, 6, 5, 3), np.inf, np.float32), "FHWC", "NaN"),
        (np.full((3, 6, 5, 3), 1.5, np.float32), "FHWC", r"\[0, 1\]"),
        (np.full((3, 6, 5, 3), -0.5, np.float32), "FHWC", r"\[0, 1\]"),
        (np.full((3, 6, 5, 3), 255.0, np.float32), "FHWC", r"\[0, 1\]"),  # 0..255 floats are a bug
        (np.zeros((3, 6, 5, 3), np.int64), "FHWC", "dtype"),
        (np.zeros((3, 6, 5, 3), bool), "FHWC", "dtype"),
        (np.zeros((2, 3, 6, 5, 3), np.uint8), "BFHWC", "batch"),
        (np.zeros((2, 3, 3, 6, 5), np.uint8), "BFCHW", "batch"),
        ([np.zeros((4, 4, 3)), np.zeros((5, 4, 3))], "FHWC", "could not be read"),
    ],
)
def test_to_uint8_frames_violations_name_the_model(frames: object, layout: str, message: str) -> None:
    with pytest.raises(OutputContractError, match=message) as info:
        to_uint8_frames(frames, layout, "model-x")  # type: ignore[arg-type]
    assert info.value.model_id == "model-x" and str(info.value).startswith("[model-x]")


class _Scripted(VideoAdapter):
    """Returns whatever it is told to: a test double for the single check in ``finish``."""

    kind = "scripted"

    def __init__(self, raw: object) -> None:
        super().__init__("scripted-1")
        self.raw = raw

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        return self.raw  # type: ignore[return-value]


@pytest.mark.parametrize("fps", [0, -1.0, float("nan"), float("inf"), 500.0])
def test_bad_fps_is_a_contract_error(fps: float) -> None:
    adapter = _Scripted(RawVideo(np.zeros((2, 8, 8, 3), np.uint8), fps=fps))
    with pytest.raises(OutputContractError, match="fps") as info:
        adapter.generate(GenerationRequest(prompt="p", seed=1))
    assert info.value.model_id == "scripted-1"


def test_finish_rejects_non_raw_video_and_records_provenance() -> None:
    with pytest.raises(OutputContractError, match="RawVideo"):
        _Scripted(np.zeros((2, 8, 8, 3), np.uint8)).generate(GenerationRequest(prompt="p"))
    raw = RawVideo(np.zeros((2, 8, 8, 3), np.float32), details={"revision": "r1", "device": "cuda:0"})
    video = _Scripted(raw).generate(GenerationRequest(prompt="p", seed=9, fps=12))
    assert (video.fps, video.seed, video.num_frames, video.size) == (12.0, 9, 2, (8, 8))
    assert (video.provenance.revision, video.provenance.device, video.provenance.params["seed"]) == (
        "r1",
        "cuda:0",
        9,
    )


# -- registry ------------------------------------------------------------------------------------------


def test_registry_did_you_mean_lists_what_exists() -> None:
    kinds = adapter_kinds()
    with pytest.raises(UnknownNameError) as info:
        kinds.get("difusers")
    text = str(info.value)
    assert "Did you mean 'diffusers'" in text and "Known: demo, diffusers, http, imported_clips, python" in text
    with pytest.raises(UnknownNameError, match="Known: demo") as info:
        kinds.get("zzzzzz")
    assert "Did you mean" not in str(info.value)


def test_registry_lazy_import_errors() -> None:
    registry: Registry[VideoAdapter] = Registry("adapter kind", VideoAdapter)
    registry.register("ghost", "adapters.no_such_module:Ghost")
    registry.register("typo", "adapters.base:NoSuchClass")
    registry.register("wrong", "adapters.capabilities:SizeRule")
    with pytest.raises(ImportError, match=r"'ghost' needs 'adapters.no_such_module'.*make install"):
        registry.get("ghost")
    with pytest.raises(ImportError, match="no attribute 'NoSuchClass'"):
        registry.get("typo")
    with pytest.raises(TypeError, match="not a subclass of VideoAdapter"):
        registry.get("wrong")
    assert "ghost" in registry and registry.names() == ["ghost", "typo", "wrong"]


def test_registry_resolves_lazily_once_and_refuses_double_registration() -> None:
    registry: Registry[VideoAdapter] = Registry("adapter kind", VideoAdapter)
    target = ":".join(["adapters.demo", "DemoAdapter"])  # built at run time: equal to the literal, not the same object
    registry.register("demo", target)
    registry.register("demo", "adapters.demo:DemoAdapter")  # the same target again is harmless
    cls = registry.get("demo")
    assert cls.__name__ == "DemoAdapter" and registry.get("demo") is cls
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("demo", _Scripted)
    with pytest.raises(ValueError, match="module:Attr"):
        registry.register("bad", "adapters.demo.DemoAdapter")

    @registry.register("scripted")
    class Local(_Scripted):
        pass

    assert registry.get("scripted") is Local


# -- models file ---------------------------------------------------------------------------------------

GOOD = """
models:
  - {id: demo-a, display_name: A, kind: demo, params: {behaviour: faithful}}
  - {id: demo-b, display_name: B, kind: demo, enabled: false, params: {behaviour: frozen, latency_s: 0.5}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_models_file_loads_and_builds(tmp_path: Path) -> None:
    catalog = load_models_file(_write(tmp_path, GOOD))
    assert [s.id for s in catalog.specs] == ["demo-a", "demo-b"]
    assert [s.id for s in catalog.enabled()] == ["demo-a"]
    adapter = catalog.build("demo-b")
    assert adapter.model_id == "demo-b" and adapter.base_dir == tmp_path.resolve()
    with pytest.raises(KeyError, match="demo-c"):
        catalog.get("demo-c")


@pytest.mark.parametrize(
    ("text", "entry", "field"),
    [
        (
            "models:\n  - {id: m1, display_name: M, kind: difusers}",
            "m1",
            "kind: unknown adapter kind 'difusers'",
        ),
        ("models:\n  - {id: m1, display_name: M, kind: demo, params: {colour: red}}", "m1", "params.colour"),
        (
            "models:\n  - {id: m1, display_name: M, kind: demo, params: {behaviour: sloppy}}",
            "m1",
            "params.behaviour",
        ),
        ("models:\n  - {id: m1, kind: demo}", "m1", "display_name"),
        ("models:\n  - {id: m1, display_name: '  ', kind: demo}", "m1", "display_name"),
        ("models:\n  - {id: 'bad id!', display_name: M, kind: demo}", "bad id!", "field id"),
        ("models:\n  - {id: m1, display_name: M, kind: demo, colour: red}", "m1", "field colour"),
        ("models:\n  - {display_name: M, kind: demo}", "#0", "field id"),
        (
            "models:\n  - {id: m1, display_name: M, kind: demo}\n  - {id: m1, display_name: N, kind: demo}",
            "m1",
            "id: duplicate id",
        ),
    ],
)
def test_models_file_errors_name_file_entry_and_field(tmp_path: Path, text: str, entry: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_models_file(path)
    message = str(info.value)
    assert str(path) in message and f"model {entry!r}" in message and field in message, message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models: [\n  - {id: m1", "not valid YAML"),
        ("", "'models' list"),
        ("- a\n- b", "'models' list"),
        ("models: {id: m1}", "must be a list"),
    ],
)
def test_models_file_shape_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_models_file(path)
    assert str(path) in str(info.value)
    with pytest.raises(ConfigError, match="not found"):
        load_models_file(tmp_path / "missing.yaml")


def test_two_in_house_models_are_refused_naming_both(tmp_path: Path) -> None:
    text = (
        "models:\n  - {id: m1, display_name: M, kind: demo, in_house: true}\n"
        "  - {id: m2, display_name: N, kind: demo}\n"
        "  - {id: m3, display_name: O, kind: demo, in_house: true, enabled: false}"
    )
    with pytest.raises(ConfigError, match="only one model may be the in-house model") as info:
        load_models_file(_write(tmp_path, text))
    assert "'m1'" in str(info.value) and "'m3'" in str(info.value) and "'m2'" not in str(info.value)
    shipped = load_models_file(Path(__file__).resolve().parents[2] / "models.yaml")
    assert [s.id for s in shipped.specs if s.in_house] == ["demo-inhouse"]


def test_a_kind_whose_module_cannot_import_fails_only_that_model() -> None:
    kinds = adapter_kinds()
    kinds.register("broken", "adapters.no_such_module:Broken")
    data = {
        "models": [
            {"id": "ok", "display_name": "OK", "kind": "demo"},
            {"id": "bad", "display_name": "Bad", "kind": "broken", "params": {"anything": 1}},
        ]
    }
    catalog = parse_models(data, "inline.yaml", kinds)
    assert catalog.build("ok").check().ok
    with pytest.raises(ImportError, match="no_such_module"):
        catalog.build("bad")


# -- video IO ------------------------------------------------------------------------------------------


def _smooth(num_frames: int = 8, height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    t = np.arange(num_frames)[:, None, None]
    r = 40 + 150 * x / width + 2 * t
    g = 60 + 120 * y / height + 0 * t
    b = 100 + 50 * (x + y) / (width + height) + 0 * t
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def _top_level_boxes(data: bytes) -> list[bytes]:
    boxes, i = [], 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        boxes.append(data[i + 4 : i + 8])
        if size < 8:
            break
        i += size
    return boxes


GENERIC_TAG = re.compile(r"^(isom|512|isomiso2avc1mp41|Lavf[\d.]+|und|VideoHandler|[0-9a-f]{32})$")


def test_encode_decode_round_trip() -> None:
    frames = _smooth()
    data = encode_mp4(frames, 8.0)
    decoded, fps = decode_mp4(data)
    assert decoded.shape == frames.shape and fps == pytest.approx(8.0)
    assert np.abs(decoded.astype(np.int16) - frames).mean() < 3.0
    assert decode_mp4(data, max_frames=3)[0].shape[0] == 3


def test_odd_sizes_are_padded_to_even() -> None:
    frames = _smooth(num_frames=3, height=33, width=47)
    decoded, _ = decode_mp4(encode_mp4(frames, 24.0))
    assert decoded.shape == (3, 34, 48, 3)
    assert np.abs(decoded[:, :33, :47].astype(np.int16) - frames).mean() < 4.0


def test_mp4_is_faststart_and_carries_only_generic_metadata() -> None:
    data = encode_mp4(_smooth(num_frames=4), 8.0)
    boxes = _top_level_boxes(data)
    assert boxes[:2] == [b"ftyp", b"moov"] and boxes.index(b"moov") < boxes.index(b"mdat")
    tags = probe_metadata(data)
    assert tags, "expected the muxer's generic tags"
    for key, value in tags.items():
        assert GENERIC_TAG.match(value), (key, value)


@pytest.mark.parametrize(
    "frames",
    [np.zeros((0, 8, 8, 3), np.uint8), np.zeros((2, 8, 8, 3), np.float32), np.zeros((2, 8, 8), np.uint8)],
)
def test_encode_rejects_bad_frames(frames: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_mp4(frames, 8.0)


def test_decode_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="decodable"):
        decode_mp4(b"not a video at all" * 10)


def test_encoder_settings_in_the_stream_do_not_depend_on_the_host() -> None:
    """x264 embeds its settings (thread count included) in the stream; the thread count is pinned."""
    import re

    frames = (np.random.default_rng(0).random((4, 480, 720, 3)) * 255).astype(np.uint8)
    settings = re.search(rb"x264 - core \d+ .*?options: ([^\x00]*)", encode_mp4(frames, 8.0))
    assert settings is not None
    assert re.search(rb"\bthreads=2\b", settings.group(1))
    assert re.search(rb"\bcrf=18\.0\b", settings.group(1))


def test_concurrent_first_calls_load_the_weights_once() -> None:
    class SlowLoad(_Scripted):
        loads = 0

        def load(self) -> None:
            time.sleep(0.2)  # long enough for every thread to arrive while the first is loading
            type(self).loads += 1

    adapter = SlowLoad(RawVideo(np.zeros((2, 8, 8, 3), np.uint8), fps=8.0))
    barrier = threading.Barrier(4)
    made: list[int] = []

    def call() -> None:
        barrier.wait()
        made.append(adapter.generate(GenerationRequest(prompt="p", seed=1)).frames.shape[0])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert SlowLoad.loads == 1
    assert made == [2, 2, 2, 2]  # every caller got its video once the one load was done
