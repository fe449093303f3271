"""DINO image features for subject consistency (VBench): transformers' ViT / DINOv2, found offline.

VBench loads ``dino_vitb16`` from torch.hub (facebookresearch/dino) and uses its output, the final-norm CLS token.
Here the same weights come from the Hugging Face port ``facebook/dino-vitb16`` (``ViTModel``; or DINOv2 through
``Dinov2Model``) in the HF cache or a folder written by ``save_pretrained``; the feature is
``last_hidden_state[:, 0]``, the same final-norm CLS token. transformers resizes position embeddings to
``size=(h, w)``; DINO itself uses ``scale_factor=(h0 + 0.1) / √N`` (and DINOv2 the same by default), which
samples different points off the grid, so the model is patched to use DINO's formula (:func:`dino_pos_encoding`).
Nothing is downloaded: when no weights are found, :class:`metrics.base.Unavailable` names every place looked.
"""

from __future__ import annotations

import hashlib
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from metrics.base import ModelChoice, Unavailable
from metrics.encoders import _hf_snapshot_dir, resolve_device
from metrics.preprocess import N_PX, dino_transform, encode_in_batches

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class DinoSpec:
    id: str
    hf_repo: str
    vbench: bool  # the model VBench itself uses


DINO_MODELS: Mapping[str, DinoSpec] = MappingProxyType(
    {
        s.id: s
        for s in (
            DinoSpec("dino-vitb16", "facebook/dino-vitb16", vbench=True),
            DinoSpec("dinov2-base", "facebook/dinov2-base", vbench=False),
            DinoSpec("dinov2-small", "facebook/dinov2-small", vbench=False),
        )
    }
)
AUTO = "auto"  # the first of DINO_MODELS (in order) whose weights are present
VBENCH_DINO = "dino-vitb16"


MISSING_HINT = (
    "put facebook/dino-vitb16 (VBench's DINO ViT-B/16) in the Hugging Face cache, or point the DINO setting "
    "(ARENA_METRICS_DINO) at a folder saved with save_pretrained."
)


def _has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any((folder / f).is_file() for f in WEIGHT_FILES)


def choose_dino(choice: str = AUTO, hf_cache_dir: str | Path | None = None) -> ModelChoice:
    """Resolve ``choice`` (``"auto"``, an id of :data:`DINO_MODELS`, or a folder) without loading anything."""
    if choice in DINO_MODELS or choice == AUTO:
        ids = list(DINO_MODELS) if choice == AUTO else [choice]
        looked: list[str] = []
        for model_id in ids:
            spec = DINO_MODELS[model_id]
            folder, where = _hf_snapshot_dir([spec.hf_repo], hf_cache_dir)
            if folder is not None and _has_weights(Path(folder)):
                return ModelChoice(model_id, Path(folder), tuple(looked), spec.vbench, MISSING_HINT)
            looked.extend(where or [f"{folder} (no config.json and weights)"])
        return ModelChoice(ids[0], None, tuple(looked), DINO_MODELS[ids[0]].vbench, MISSING_HINT)
    path = Path(choice).expanduser()
    label = f"dino-folder:{path.name}"
    if _has_weights(path):
        return ModelChoice(label, path, (), False, MISSING_HINT)
    return ModelChoice(
        label, None, (f"{path} (needs config.json and {' or '.join(WEIGHT_FILES)})",), False, MISSING_HINT
    )


def dino_pos_encoding(embeddings: Any, position_embeddings: Any, patch: int, height: int, width: int) -> Any:
    """DINO's ``interpolate_pos_encoding`` (facebookresearch/dino ``vision_transformer.py``), on transformers'
    tensors: bicubic with ``scale_factor = (n + 0.1) / √N`` per side, not ``size = n``."""
    import torch
    import torch.nn.functional as F

    n_tokens = embeddings.shape[1] - 1
    n_pos = position_embeddings.shape[1] - 1
    if n_tokens == n_pos and height == width:
        return position_embeddings
    class_pos = position_embeddings[:, 0]
    patch_pos = position_embeddings[:, 1:]
    dim = embeddings.shape[-1]
    h0, w0 = height // patch + 0.1, width // patch + 0.1
    side = int(math.sqrt(n_pos))
    patch_pos = F.interpolate(
        patch_pos.reshape(1, side, side, dim).permute(0, 3, 1, 2),
        scale_factor=(h0 / math.sqrt(n_pos), w0 / math.sqrt(n_pos)),
        mode="bicubic",
    )
    if (int(h0), int(w0)) != tuple(patch_pos.shape[-2:]):
        raise ValueError(f"position grid {tuple(patch_pos.shape[-2:])} does not match {int(h0)}x{int(w0)} patches")
    patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((class_pos.unsqueeze(0), patch_pos), dim=1)


def use_dino_pos_encoding(model: Any) -> Any:
    """Patch a transformers ViT / DINOv2 model in place to interpolate positions as DINO does."""
    patch = model.config.patch_size
    patch = patch if isinstance(patch, int) else patch[0]
    emb = model.embeddings

    def interpolate(self: Any, embeddings: Any, height: int, width: int) -> Any:
        return dino_pos_encoding(embeddings, self.position_embeddings, patch, height, width)

    emb.interpolate_pos_encoding = types.MethodType(interpolate, emb)
    return model


class DinoEncoder:
    """A loaded DINO: ``encode_images`` applies VBench's ``dino_transform(224)`` and returns CLS features."""

    def __init__(self, model: Any, label: str, device: str, stamp: str, vbench: bool) -> None:
        self.model = use_dino_pos_encoding(model)
        self.label = label
        self.device = device
        self.vbench = vbench
        self.cache_id = f"{label.replace(':', '-').replace('/', '-')}-{hashlib.sha256(stamp.encode()).hexdigest()[:10]}"

    def forward(self, pixels: Any) -> Any:
        """The CLS feature of the final-norm hidden state (what DINO's ``forward`` returns)."""
        kwargs = {"interpolate_pos_encoding": True} if self.model.config.model_type == "vit" else {}
        return self.model(pixel_values=pixels, **kwargs).last_hidden_state[:, 0]

    def encode_images(self, frames: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 (N, H, W, 3) RGB frames -> (N, D) float32 unit vectors."""
        import torch.nn.functional as F

        def encode(batch: np.ndarray) -> Any:
            return F.normalize(self.forward(dino_transform(batch, N_PX, self.device)).float(), dim=-1, p=2)

        return encode_in_batches(frames, batch_size, encode)


def load_dino(choice: ModelChoice, device: str = "auto") -> DinoEncoder:
    """Load the chosen DINO offline; :class:`Unavailable` when its weights are missing."""
    folder = choice.path
    if folder is None:
        raise Unavailable(choice.missing_reason())
    from transformers import AutoConfig, AutoModel

    device = resolve_device(device)
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if config.model_type not in ("vit", "dinov2"):
        raise Unavailable(f"{folder}: model type {config.model_type!r} is not a ViT/DINOv2 image tower")
    kwargs: dict[str, Any] = {"add_pooling_layer": False} if config.model_type == "vit" else {}
    model = AutoModel.from_pretrained(folder, local_files_only=True, **kwargs).to(device).eval()
    weights = next(folder / f for f in WEIGHT_FILES if (folder / f).is_file())
    st = weights.resolve().stat()
    stamp = f"{choice.label}|{N_PX}|{weights.name}|{st.st_size}|{st.st_mtime_ns}"
    return DinoEncoder(model, choice.label, device, stamp, choice.vbench)
