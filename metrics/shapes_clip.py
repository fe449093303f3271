"""The shapes-world CLIP: a tiny open_clip model trained in this project, the offline default encoder.

An open_clip :class:`~open_clip.model.CLIP` with a ModifiedResNet image tower whose first convolution reads
``STACK`` frames stacked on the channel axis (so it sees motion) and a small text transformer over a grammar
tokenizer (English words, Chinese characters). Trained by ``python -m metrics.training.shapes_clip`` on
rendered shapes-world clips and captions in both languages; weights, vocabulary and held-out figures ship
in ``metrics/weights/shapes-clip/``. Calibrated for the shapes world only: on real video its numbers mean
nothing.

Per-frame features: frame i is encoded with ``STACK`` frames around it (:func:`stack_indices`), spaced so
the stack spans about ``STACK_SPAN`` of the clip whatever its frame count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from metrics.encoders import ClipEncoder, EncoderNotFound

if TYPE_CHECKING:
    import torch

    from metrics.encoders import EncoderSpec

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "shapes-clip"
MODEL_FILE = "open_clip_model.safetensors"
CONFIG_FILE = "open_clip_config.json"
VOCAB_FILE = "vocab.json"
FIGURES_FILE = "figures.json"
STACK = 4  # frames per image input
STACK_SPAN = 0.3  # share of the clip one stack covers
SPECIALS = ("<pad>", "<sot>", "<eot>", "<unk>")
PAD, SOT, EOT, UNK = range(4)
_PIECES = re.compile(r"[a-z]+|[0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]")


def stack_indices(num_frames: int, index: int) -> list[int]:
    """The ``STACK`` frame indices encoded for frame ``index`` of a ``num_frames`` clip: evenly spaced, covering
    about ``STACK_SPAN`` of the clip, centred on ``index`` but kept inside the clip."""
    if num_frames <= 1:
        return [0] * STACK
    step = max(1, round(STACK_SPAN * (num_frames - 1) / (STACK - 1)))
    window = step * (STACK - 1)
    start = min(max(0, index - window // 2), max(0, num_frames - 1 - window))
    return [min(num_frames - 1, start + k * step) for k in range(STACK)]


def split_words(text: str) -> list[str]:
    """Lower-case English words, numbers and single Chinese characters, in order (everything else dropped)."""
    return _PIECES.findall(text.lower())


class GrammarTokenizer:
    """Word + Chinese-character tokenizer over a fixed vocabulary: ``[<sot>, ids..., <eot>, <pad>...]``."""

    def __init__(self, vocab: Sequence[str], context_length: int) -> None:
        if tuple(vocab[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.vocab = list(vocab)
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.context_length = context_length

    @classmethod
    def from_file(cls, path: Path, context_length: int) -> GrammarTokenizer:
        return cls(json.loads(path.read_text(encoding="utf-8")), context_length)

    def encode(self, text: str) -> list[int]:
        ids = [self.ids.get(w, UNK) for w in split_words(text)][: self.context_length - 2]
        return [SOT, *ids, EOT]

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        import torch

        out = torch.full((len(texts), self.context_length), PAD, dtype=torch.long)
        for row, text in enumerate(texts):
            ids = self.encode(text)
            out[row, : len(ids)] = torch.tensor(ids)
        return out


@dataclass(frozen=True)
class Architecture:
    """The open_clip config and preprocessing of a shapes-world CLIP (stored as ``open_clip_config.json``)."""

    config: dict[str, Any]  # embed_dim, vision_cfg, text_cfg (open_clip's CLIP arguments)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)

    @property
    def image_size(self) -> int:
        return int(self.config["vision_cfg"]["image_size"])

    @property
    def context_length(self) -> int:
        return int(self.config["text_cfg"]["context_length"])

    def to_json(self) -> dict[str, Any]:
        return {"model_cfg": self.config, "preprocess_cfg": {"mean": list(self.mean), "std": list(self.std)}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Architecture:
        pp = data["preprocess_cfg"]
        return cls(data["model_cfg"], tuple(pp["mean"]), tuple(pp["std"]))  # type: ignore[arg-type]


def tiny_architecture(vocab_size: int, context_length: int = 40) -> Architecture:
    """The shipped size: ModifiedResNet [1, 1, 1, 1] width 16 at 64x64, text tower 3 layers of width 128."""
    return Architecture(
        {
            "embed_dim": 128,
            "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
            "text_cfg": {
                "context_length": context_length,
                "vocab_size": vocab_size,
                "width": 128,
                "heads": 4,
                "layers": 3,
                "mlp_ratio": 2.0,
                "pool_type": "eos",
                "eos_id": EOT,
                "pad_id": PAD,
            },
        }
    )


def _stacked_conv(out_channels: int) -> Any:
    """The first convolution, over ``STACK`` frames stacked on the channel axis. Given a single RGB frame (callers
    that encode frames one by one, e.g. VBench's transform for background consistency) it reads the frame as a
    still stack of that frame."""
    import torch

    class StackedConv2d(torch.nn.Conv2d):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.shape[1] == 3:
                x = x.repeat(1, STACK, 1, 1)
            return super().forward(x)

    return StackedConv2d(3 * STACK, out_channels, kernel_size=3, stride=2, padding=1, bias=False)


def build_model(arch: Architecture) -> Any:
    """A randomly initialised open_clip CLIP of ``arch`` whose first convolution takes ``STACK`` frames."""
    import open_clip
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    cfg = arch.config
    model = open_clip.CLIP(cfg["embed_dim"], CLIPVisionCfg(**cfg["vision_cfg"]), CLIPTextCfg(**cfg["text_cfg"]))
    model.visual.conv1 = _stacked_conv(model.visual.conv1.out_channels)
    open_clip.set_model_preprocess_cfg(
        model, {"size": arch.image_size, "mean": arch.mean, "std": arch.std, "interpolation": "bicubic"}
    )
    return model


def load(spec: EncoderSpec, checkpoint: str | Path | None, device: str) -> ShapesClipEncoder:
    """The shipped (or ``checkpoint``: a folder or its safetensors file) shapes-world CLIP, ready to encode."""
    from safetensors.torch import load_file

    folder = Path(checkpoint).expanduser() if checkpoint is not None else WEIGHTS_DIR
    if folder.is_file():
        folder = folder.parent
    missing = [n for n in (MODEL_FILE, CONFIG_FILE, VOCAB_FILE) if not (folder / n).is_file()]
    if missing:
        raise EncoderNotFound(
            f"encoder {spec.id!r}: {', '.join(missing)} not found in {folder}. Train it with "
            "`python -m metrics.training.shapes_clip` (or point ARENA_METRICS_CHECKPOINT at its folder)."
        )
    arch = Architecture.from_json(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))
    model = build_model(arch)
    state = {k: v.float() for k, v in load_file(str(folder / MODEL_FILE)).items()}
    model.load_state_dict(state)
    model.to(device).eval()
    tokenizer = GrammarTokenizer.from_file(folder / VOCAB_FILE, arch.context_length)
    return ShapesClipEncoder(spec, model, tokenizer, device, folder / MODEL_FILE)


class ShapesClipEncoder(ClipEncoder):
    """Encodes each frame with the ``STACK`` frames around it (see :func:`stack_indices`)."""

    def encode_images(self, frames: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 (N, H, W, 3) consecutive frames of one clip -> (N, D) float32 unit vectors."""
        import torch

        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 frames (N, H, W, 3), got {frames.dtype} {frames.shape}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        pixels = self.preprocess(frames)  # (N, 3, S, S), each frame once
        stacks = torch.tensor([stack_indices(len(frames), i) for i in range(len(frames))], device=pixels.device)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), batch_size):
                rows = stacks[start : start + batch_size]
                batch = pixels[rows].flatten(1, 2)  # (B, STACK * 3, S, S)
                out.append(self.model.encode_image(batch, normalize=True).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)
