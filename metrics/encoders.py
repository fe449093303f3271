"""CLIP encoders for the metrics: a table of known encoder ids, offline loading, batched encoding.

Nothing here downloads. Weights come from an explicit checkpoint file or from the Hugging Face cache
(looked up with ``try_to_load_from_cache`` / ``local_files_only``); a missing file is an
:class:`EncoderNotFound` naming the encoder and every place looked. ``tiny-random`` is built from a
JSON config shipped in ``metrics/configs`` with a seeded random init: reproducible, but uncalibrated.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from adapters.diffusers_loading import hf_cache_dir, repo_cache_folder
from adapters.language import guess_language  # noqa: F401 (part of this module's API)

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
FEATURES_VERSION = "1"  # bump when preprocessing changes: it is part of every feature-cache key

# Languages of XLM-RoBERTa's pre-training corpus (CC-100), ISO 639-1 where one exists.
_XLMR_CODES = (
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi "
    "hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl no om or pa "
    "pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh"
)
XLMR_LANGUAGES = frozenset(_XLMR_CODES.split())


@dataclass(frozen=True)
class EncoderSpec:
    """One known encoder: the open_clip architecture, where its weights live, what its text tower reads."""

    id: str
    open_clip_name: str
    languages: frozenset[str]
    hf_repo: str | None = None  # open_clip weights in the HF cache
    hf_text_repos: tuple[str, ...] = ()  # HF text tower (config + tokenizer), any one of these names
    config_file: str | None = None  # JSON architecture shipped in metrics/configs
    random_init_seed: int | None = None  # built with random weights from this seed (no checkpoint)
    calibrated: bool = True
    loader: str | None = None  # "module:function(spec, checkpoint, device) -> ClipEncoder" for encoders built here
    scope: str | None = None  # what its numbers are calibrated for, when that is narrow (shown beside them)


# Read-only: the known encoders are a constant table.
ENCODERS: Mapping[str, EncoderSpec] = MappingProxyType(
    {
        s.id: s
        for s in (
            EncoderSpec(
                "shapes-clip",
                "shapes-clip",
                frozenset({"en", "zh"}),
                loader="metrics.shapes_clip:load",
                scope="calibrated for the shapes world only",
            ),
            EncoderSpec(
                "tiny-random",
                "arena-tiny-random",
                frozenset({"en"}),
                config_file="arena-tiny-random.json",
                random_init_seed=0,
                calibrated=False,
            ),
            EncoderSpec("ViT-B-32", "ViT-B-32", frozenset({"en"}), hf_repo="laion/CLIP-ViT-B-32-laion2B-s34B-b79K"),
            EncoderSpec(
                "ViT-B-32-openai", "ViT-B-32-quickgelu", frozenset({"en"}), "timm/vit_base_patch32_clip_224.openai"
            ),
            EncoderSpec("ViT-L-14", "ViT-L-14", frozenset({"en"}), hf_repo="laion/CLIP-ViT-L-14-laion2B-s32B-b82K"),
            EncoderSpec(
                "ViT-L-14-openai", "ViT-L-14-quickgelu", frozenset({"en"}), "timm/vit_large_patch14_clip_224.openai"
            ),
            EncoderSpec(
                "xlm-roberta-base-ViT-B-32",
                "xlm-roberta-base-ViT-B-32",
                XLMR_LANGUAGES,
                hf_repo="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
                hf_text_repos=("FacebookAI/xlm-roberta-base", "xlm-roberta-base"),
            ),
        )
    }
)


class EncoderNotFound(FileNotFoundError):
    """The encoder's weights (or its text tower files) are not on this machine."""


def get_spec(encoder_id: str) -> EncoderSpec:
    if encoder_id not in ENCODERS:
        close = difflib.get_close_matches(encoder_id, ENCODERS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown metrics encoder {encoder_id!r}.{hint} Known: {', '.join(ENCODERS)}.")
    return ENCODERS[encoder_id]


def normalize_language(language: str) -> str:
    """``"zh-CN"`` -> ``"zh"``; ``"EN_us"`` -> ``"en"``."""
    return language.strip().replace("_", "-").split("-")[0].lower()


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; anything else is used as given."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _hf_cache(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else hf_cache_dir()


def _hf_cache_file(repo: str, filenames: Sequence[str], cache_dir: str | Path | None) -> tuple[str | None, str]:
    """(path of the first cached file or None, where the cache folder is) — never touches the network."""
    from huggingface_hub import try_to_load_from_cache

    root = _hf_cache(cache_dir)
    for name in filenames:
        hit = try_to_load_from_cache(repo, name, cache_dir=root)
        if isinstance(hit, str):
            return hit, ""
    return None, str(repo_cache_folder(root, repo))


def _hf_snapshot_dir(repos: Sequence[str], cache_dir: str | Path | None) -> tuple[str | None, list[str]]:
    from huggingface_hub import snapshot_download

    root = _hf_cache(cache_dir)
    looked: list[str] = []
    for repo in repos:
        try:
            return snapshot_download(repo, local_files_only=True, cache_dir=root), looked
        except Exception:  # LocalEntryNotFoundError and friends: not in the cache
            looked.append(str(repo_cache_folder(root, repo)))
    return None, looked


def locate_checkpoint(
    spec: EncoderSpec, checkpoint: str | Path | None, hf_cache_dir: str | Path | None = None
) -> Path | None:
    """The weights file for ``spec``: the explicit ``checkpoint`` if given, else the HF cache.

    Returns None only for random-init encoders. Raises :class:`EncoderNotFound` naming every place looked.
    """
    if spec.random_init_seed is not None:
        if checkpoint is not None:
            raise ValueError(f"encoder {spec.id!r} is built with random weights and takes no checkpoint")
        return None
    if checkpoint is not None:
        path = Path(checkpoint).expanduser()
        if path.is_file():
            return path
        raise EncoderNotFound(f"encoder {spec.id!r}: checkpoint file {path} does not exist")
    assert spec.hf_repo is not None
    hit, where = _hf_cache_file(spec.hf_repo, WEIGHT_FILES, hf_cache_dir)
    if hit is None:
        raise EncoderNotFound(
            f"encoder {spec.id!r}: no weights found. Looked in the Hugging Face cache at {where} for "
            f"{' or '.join(WEIGHT_FILES)}, and no checkpoint file was set (ARENA_METRICS_CHECKPOINT). "
            "Nothing is downloaded: copy the file there or point the checkpoint setting at it."
        )
    return Path(hit)


class ClipEncoder:
    """A loaded open_clip model: ``encode_images`` (uint8 frames) and ``encode_texts``, L2-normalised float32."""

    def __init__(self, spec: EncoderSpec, model: Any, tokenizer: Any, device: str, checkpoint: Path | None):
        self.spec = spec
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        pp = _preprocess_cfg(model)
        self.image_size: tuple[int, int] = pp["size"]
        self.mean: tuple[float, ...] = tuple(pp["mean"])
        self.std: tuple[float, ...] = tuple(pp["std"])
        stamp = f"{spec.open_clip_name}|{FEATURES_VERSION}|{spec.random_init_seed}"
        if checkpoint is not None:
            st = checkpoint.stat()
            stamp += f"|{checkpoint.name}|{st.st_size}|{st.st_mtime_ns}"
        # Feature-cache key: encoder id plus a fingerprint of architecture, weights and preprocessing.
        self.cache_id = f"{spec.id}-{hashlib.sha256(stamp.encode()).hexdigest()[:10]}"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def calibrated(self) -> bool:
        return self.spec.calibrated

    def preprocess(self, frames: np.ndarray) -> Any:
        """uint8 (B, H, W, 3) -> normalised float (B, 3, S, S): bicubic resize of the short side, centre crop
        (open_clip's default ``shortest`` transform). The resize runs on uint8 tensors: torch's antialiased
        uint8 kernel matches PIL's bicubic (what open_clip's transform uses) within one grey level and is
        ~20x faster than resizing float tensors."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
        th, tw = self.image_size
        h, w = x.shape[-2:]
        scale = max(th / h, tw / w)
        nh, nw = max(th, round(h * scale)), max(tw, round(w * scale))
        if (nh, nw) != (h, w):
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False)
        top, left = (nh - th) // 2, (nw - tw) // 2
        x = x[:, :, top : top + th, left : left + tw].to(self.device).float().div_(255.0)
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def encode_images(self, frames: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 (N, H, W, 3) RGB frames -> (N, D) float32 unit vectors, ``batch_size`` frames per pass."""
        import torch

        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 frames (N, H, W, 3), got {frames.dtype} {frames.shape}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), batch_size):
                batch = self.preprocess(frames[start : start + batch_size])
                out.append(self.model.encode_image(batch, normalize=True).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            tokens = self.tokenizer(list(texts)).to(self.device)
            return self.model.encode_text(tokens, normalize=True).float().cpu().numpy().astype(np.float32)


def _preprocess_cfg(model: Any) -> dict[str, Any]:
    import open_clip

    pp = dict(open_clip.get_model_preprocess_cfg(model))
    size = pp["size"]
    pp["size"] = (size, size) if isinstance(size, int) else tuple(size)
    return pp


def load_encoder(
    encoder_id: str,
    checkpoint: str | Path | None = None,
    device: str = "auto",
    hf_cache_dir: str | Path | None = None,
) -> ClipEncoder:
    """Build the encoder offline (``hf_cache_dir``: the HF hub cache, default the standard one).

    Fails fast with :class:`EncoderNotFound` before importing open_clip.
    """
    spec = get_spec(encoder_id)
    if spec.loader is not None:  # trained in this project: its own files and loading
        import importlib

        module, _, name = spec.loader.partition(":")
        loader = getattr(importlib.import_module(module), name)
        return loader(spec, checkpoint, resolve_device(device))  # type: ignore[no-any-return]
    path = locate_checkpoint(spec, checkpoint, hf_cache_dir)
    text_dir = None
    if spec.hf_text_repos:
        text_dir, looked = _hf_snapshot_dir(spec.hf_text_repos, hf_cache_dir)
        if text_dir is None:
            raise EncoderNotFound(
                f"encoder {spec.id!r}: its text tower ({spec.hf_text_repos[0]}: config and tokenizer) is not in "
                f"the Hugging Face cache; looked in {', '.join(looked)}. Nothing is downloaded."
            )
    device = resolve_device(device)

    import open_clip
    import torch

    if spec.config_file is not None:
        config = CONFIG_DIR / spec.config_file
        if spec.open_clip_name not in open_clip.list_models():  # add once: open_clip keeps a global registry
            open_clip.add_model_config(config)
    kwargs: dict[str, Any] = {}
    if text_dir is not None:  # point the HF text tower at the cached folder: no hub name, no network
        text_cfg = dict(open_clip.get_model_config(spec.open_clip_name)["text_cfg"])
        text_cfg.update(hf_model_name=text_dir, hf_tokenizer_name=text_dir)
        kwargs.update(text_cfg=text_cfg, pretrained_text=False)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        if spec.random_init_seed is not None:
            torch.manual_seed(spec.random_init_seed)
        model = open_clip.create_model(
            spec.open_clip_name, pretrained=str(path) if path else None, device=device, **kwargs
        )
    model.eval()
    if text_dir is not None:
        from open_clip.tokenizer import HFTokenizer

        tokenizer = HFTokenizer(text_dir, context_length=kwargs["text_cfg"].get("context_length", 77))
    else:
        tokenizer = open_clip.get_tokenizer(spec.open_clip_name)
    return ClipEncoder(spec, model, tokenizer, device, path)
