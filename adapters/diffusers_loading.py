"""Finding diffusers weights offline, fingerprinting them, and planning the device/dtype settings.

Nothing here downloads: a model is a local folder with ``model_index.json`` or a snapshot already in
the Hugging Face cache (looked up with ``local_files_only=True``). Heavy libraries are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapters.errors import AdapterUnavailableError, WeightsNotFoundError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf")
CUDA_DTYPES = ("bfloat16", "float16")


@dataclass(frozen=True)
class LocatedWeights:
    folder: Path
    source: str  # "path" or "hf_cache"
    revision: str | None


def hf_cache_dir() -> Path:
    """The hub cache folder, read from the environment at call time (as huggingface_hub resolves it)."""
    env = os.environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HUGGINGFACE_HUB_CACHE"):
        return Path(env["HUGGINGFACE_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "huggingface" / "hub"


def repo_cache_folder(root: Path, repo_id: str) -> Path:
    """Where a hub repo lives inside the cache folder ``root`` (huggingface_hub's layout)."""
    return root / f"models--{repo_id.replace('/', '--')}"


def _weight_variant(name: str) -> str | None:
    """The variant in a weight or shard-map file name (``model.fp16.safetensors`` -> ``fp16``,
    ``diffusion_pytorch_model.safetensors.index.bf16.json`` -> ``bf16``), None for the plain files."""
    if name.endswith(".json"):  # shard map: <weights>.index.json or <weights>.index.<variant>.json
        parts = name.split(".index.", 1)[1].split(".") if ".index." in name else []
        return parts[0] if len(parts) == 2 else None
    stem = name[: -len(Path(name).suffix)]
    parts = stem.split(".")
    return parts[1].split("-")[0] if len(parts) >= 2 else None  # model.fp16-00001-of-00002: fp16


def _component_weights(sub: Path, variant: str | None) -> list[str]:
    """Missing weight files of one model folder (``sub``) for ``variant``; [] when complete.

    As diffusers loads them: a component with files of the variant loads those, one without loads its plain
    files (so a folder whose only weights carry a variant cannot load without naming it).
    """
    files = [p for p in sub.iterdir() if p.is_file()]
    has_variant = variant is not None and any(_weight_variant(p.name) == variant for p in files)
    wanted = variant if has_variant else None
    shard_maps = [p for p in files if p.name.endswith(".json") and ".index." in p.name]
    shard_maps = [p for p in shard_maps if _weight_variant(p.name) == wanted]
    missing: list[str] = []
    if shard_maps:
        for shard_map in shard_maps:
            try:
                shards = set(json.loads(shard_map.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, json.JSONDecodeError, KeyError) as exc:
                missing.append(f"{shard_map} (unreadable: {exc})")
                continue
            missing += [str(sub / s) for s in sorted(shards) if not (sub / s).is_file()]
        return missing
    if any(p.suffix in WEIGHT_SUFFIXES and _weight_variant(p.name) == wanted for p in files):
        return []
    others = sorted({v for p in files if p.suffix in WEIGHT_SUFFIXES and (v := _weight_variant(p.name))})
    hint = f" (it has variant {', '.join(others)} files: set variant)" if others and wanted is None else ""
    return [f"{sub}/<weights>{hint}"]


def missing_component_files(folder: Path, variant: str | None = None) -> list[str]:
    """Files that ``model_index.json`` implies but the folder lacks (empty list: complete).

    A component folder holding ``config.json`` is a model and needs weights (of ``variant`` where the folder
    has them): every shard of its shard map, or one weight file. Tokenizer and scheduler folders need only
    exist. With ``variant``, at least one component must carry files of it (as diffusers requires).
    """
    index = folder / "model_index.json"
    if not index.is_file():
        return [str(index)]
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{index} (unreadable: {exc})"]
    missing: list[str] = []
    variant_seen = False
    for name, spec in entries.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = folder / name
        if not sub.is_dir():
            missing.append(str(sub))
            continue
        if not (sub / "config.json").is_file():
            continue
        variant_seen |= variant is not None and any(_weight_variant(p.name) == variant for p in sub.iterdir())
        missing += _component_weights(sub, variant)
    if variant is not None and not variant_seen:
        missing.append(f"{folder}/*/<weights>.{variant}.* (no component has variant {variant!r} files)")
    return missing


def locate_weights(
    model_id: str,
    path: Path | None,
    repo_id: str | None,
    revision: str | None,
    cache_dir: Path | None = None,
    variant: str | None = None,
) -> LocatedWeights:
    """Find a complete pipeline folder offline (with ``variant`` weights where it has them), or raise
    :class:`WeightsNotFoundError` naming every place looked."""
    if path is not None:
        missing = missing_component_files(path, variant) if path.is_dir() else [str(path)]
        if missing:
            raise WeightsNotFoundError(
                model_id, str(path), [f"local folder {path} (missing: {', '.join(missing[:5])})"]
            )
        snapshot_rev = path.name if path.parent.name == "snapshots" else None
        return LocatedWeights(path, "path", revision or snapshot_rev)
    if not repo_id:
        raise WeightsNotFoundError(model_id, "(no path or repo_id)", [])
    cache = cache_dir or hf_cache_dir()
    repo_folder = repo_cache_folder(cache, repo_id)
    where = f"Hugging Face cache {cache} (repo {repo_id}, revision {revision or 'main'}, folder {repo_folder})"
    if not repo_folder.is_dir():  # fast path: nothing cached, no need to import huggingface_hub
        raise WeightsNotFoundError(model_id, repo_id, [where])
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id, revision=revision, cache_dir=str(cache), local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError) as exc:
        raise WeightsNotFoundError(model_id, repo_id, [f"{where}: {exc.__class__.__name__}"]) from exc
    missing = missing_component_files(folder, variant)
    if missing:
        raise WeightsNotFoundError(model_id, repo_id, [f"{where}: snapshot {folder} lacks {', '.join(missing[:5])}"])
    return LocatedWeights(folder, "hf_cache", folder.name)


def locate_module(model_id: str, ref: str, resolve: Callable[[str], Path], cache_dir: Path | None = None) -> Path:
    """A single model folder (e.g. AnimateDiff's motion adapter): ``ref`` as a local folder (``resolve`` makes it
    absolute), else a repo id in the Hugging Face cache, offline."""
    local = resolve(ref)
    if local.is_dir():
        return local
    from huggingface_hub import snapshot_download

    cache = cache_dir or hf_cache_dir()
    try:
        return Path(snapshot_download(ref, cache_dir=str(cache), local_files_only=True))
    except Exception as exc:  # huggingface_hub raises several types for "not cached"
        where = [f"local folder {local}", f"Hugging Face cache {cache} (repo {ref})"]
        raise WeightsNotFoundError(model_id, ref, where) from exc


def weights_fingerprint(folder: Path) -> str:
    """sha256 of model_index.json's bytes plus every file's relative path and size (sorted).

    Cheap (no weight bytes are read): it changes when a file is added, removed or resized, and when the
    pipeline layout changes; an in-place edit that keeps the size is not seen (the snapshot revision is).
    """
    digest = hashlib.sha256()
    index = folder / "model_index.json"
    if index.is_file():
        digest.update(index.read_bytes())
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest.update(f"{p.relative_to(folder).as_posix()}\0{p.stat().st_size}\n".encode())
    return "files-sha256:" + digest.hexdigest()[:32]


@dataclass(frozen=True)
class RuntimePlan:
    """What to do on this machine: device, dtypes, the CUDA-only settings applied, and those skipped.

    ``dtype`` is the pipeline's default dtype and ``component_dtypes`` the components loaded in another one;
    both go to ``from_pretrained`` (``dtype={"default": ..., **component_dtypes}``), never to a later cast.
    """

    device: str
    dtype: str
    component_dtypes: dict[str, str] = field(default_factory=dict)
    cpu_offload: bool = False
    vae_tiling: bool = False
    attention_backend: str | None = None
    compile: bool = False
    skipped: list[str] = field(default_factory=list)

    def load_dtype(self) -> str | dict[str, str]:
        """The ``dtype`` argument of ``from_pretrained`` (names of torch dtypes)."""
        return {"default": self.dtype, **self.component_dtypes} if self.component_dtypes else self.dtype


def plan_runtime(
    model_id: str,
    device: str,
    torch_dtype: str,
    cpu_offload: bool,
    vae_tiling: bool,
    attention_backend: str | None,
    compile: bool,
    cuda_available: bool,
    component_dtypes: Mapping[str, str] | None = None,
) -> RuntimePlan:
    """Decide the device settings. Pure: takes ``cuda_available`` so both cases are testable anywhere.

    The policy: CUDA-only settings (bf16/fp16, per-component dtypes, model CPU offload, VAE tiling, attention
    backend, torch.compile) are applied only on CUDA. ``device="cuda"`` without CUDA is refused
    (:class:`AdapterUnavailableError`); ``"auto"`` or ``"cpu"`` run on the CPU in float32 and record every
    CUDA-only setting they skip. ``component_dtypes`` (the family's recipe merged with the models file's map)
    apply only under a reduced-precision default.
    """
    if device == "cuda" and not cuda_available:
        raise AdapterUnavailableError(model_id, "device 'cuda' requested but CUDA is not available here")
    components = dict(component_dtypes or {})
    on_cuda = device == "cuda" or (device == "auto" and cuda_available)
    if on_cuda:
        dtype = "bfloat16" if torch_dtype == "auto" else torch_dtype
        kept = {name: d for name, d in components.items() if d != dtype}
        return RuntimePlan("cuda", dtype, kept, cpu_offload, vae_tiling, attention_backend, compile)
    reduced = torch_dtype in CUDA_DTYPES or any(d in CUDA_DTYPES for d in components.values())
    skipped = [f"torch_dtype={torch_dtype} (float32 on CPU)"] if reduced else []
    skipped += [name for name, on in (("cpu_offload", cpu_offload), ("vae_tiling", vae_tiling)) if on]
    if attention_backend:
        skipped.append(f"attention_backend={attention_backend}")
    if compile:
        skipped.append("compile")
    return RuntimePlan("cpu", "float32", skipped=[f"{s}: CUDA only" for s in skipped])
