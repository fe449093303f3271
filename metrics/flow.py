"""RAFT optical flow for VBench's dynamic degree and static filter: torchvision's RAFT, weights found offline.

VBench runs the original RAFT with ``raft-things.pth`` on full-resolution RGB frames (float 0..255, normalised to
[-1, 1] inside the model), each pair padded to a multiple of 8 by ``InputPadder`` (replicate, split evenly), 20
refinement iterations, and reads the flow magnitude of the *padded* frame. torchvision's ``raft_large`` with its
``C_T_V1`` weights is the port of that same checkpoint; it is looked for in torch hub's checkpoint folder (or an
explicit file). Nothing is downloaded: without weights, :class:`metrics.base.Unavailable` says where it looked.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from metrics.base import ModelChoice, NotSupported, Unavailable
from metrics.encoders import resolve_device

VBENCH_RAFT = "raft_large-C_T_V1"  # torchvision's port of RAFT's raft-things.pth, the checkpoint VBench uses
RAFT_FILE = "raft_large_C_T_V1-22a6c225.pth"  # torchvision's file name for it (Raft_Large_Weights.C_T_V1)
ITERS = 20  # VBench: model(image1, image2, iters=20, test_mode=True)
KEEP_FRACTION = 0.05  # largest share of flow magnitudes kept per pair (dynamic degree reads 5 %, the filter 2 %)


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub."""
    env = os.environ
    if env.get("TORCH_HOME"):
        return Path(env["TORCH_HOME"]).expanduser() / "hub"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "torch" / "hub"


MISSING_HINT = (
    f"copy torchvision's {RAFT_FILE} (raft_large C_T_V1, the port of VBench's raft-things.pth) there or point the "
    "RAFT setting (ARENA_METRICS_RAFT) at a torchvision RAFT state-dict file."
)


def choose_raft(path: str | Path | None = None) -> ModelChoice:
    """torchvision's raft_large C_T_V1 in torch hub's checkpoints folder, or an explicit state-dict file."""
    if path is None:
        default = torch_hub_dir() / "checkpoints" / RAFT_FILE
        return ModelChoice(VBENCH_RAFT, default if default.is_file() else None, (str(default),), True, MISSING_HINT)
    file = Path(path).expanduser()
    label = VBENCH_RAFT if file.name == RAFT_FILE else f"raft-file:{file.name}"
    return ModelChoice(label, file if file.is_file() else None, (str(file),), label == VBENCH_RAFT, MISSING_HINT)


def pad_to_8(height: int, width: int) -> tuple[int, int, int, int]:
    """RAFT's ``InputPadder`` (sintel mode) as ``F.pad`` arguments: (left, right, top, bottom)."""
    pad_ht = (((height // 8) + 1) * 8 - height) % 8
    pad_wd = (((width // 8) + 1) * 8 - width) % 8
    return pad_wd // 2, pad_wd - pad_wd // 2, pad_ht // 2, pad_ht - pad_ht // 2


def top_magnitudes(flow: np.ndarray, fraction: float = KEEP_FRACTION) -> np.ndarray:
    """The largest ``int(h * w * fraction)`` flow magnitudes of a (2, h, w) flow, largest first (float32, as
    VBench's ``np.sqrt(np.square(u) + np.square(v))``)."""
    u, v = flow[0], flow[1]
    rad = np.sqrt(np.square(u) + np.square(v)).reshape(-1)
    keep = int(rad.size * fraction)
    if keep == 0:
        return rad[:0]
    return np.ascontiguousarray(np.sort(np.partition(rad, rad.size - keep)[rad.size - keep :])[::-1])


def load_raft_model(path: Path) -> tuple[Any, str]:
    """A torchvision RAFT (large, else small) with the state dict in ``path``, and which of the two it is."""
    import torch
    from torchvision.models.optical_flow import raft_large, raft_small

    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in state.get("state_dict", state).items()}
    errors = []
    for build in (raft_large, raft_small):
        model = build(weights=None, progress=False)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            errors.append(f"{build.__name__}: {str(exc).splitlines()[0]}")
            continue
        return model.eval(), build.__name__
    raise Unavailable(f"{path} is not a torchvision RAFT state dict ({'; '.join(errors)})")


class RaftFlow:
    """Flow between two frames as VBench computes it, from any torchvision RAFT module."""

    def __init__(self, model: Any, label: str, device: str, stamp: str = "", vbench: bool = False) -> None:
        self.model = model.to(device).eval()
        self.label = label
        self.device = device
        self.vbench = vbench
        self.cache_id = f"{label}-{hashlib.sha256(stamp.encode()).hexdigest()[:10]}"
        # torchvision checks feature maps (1/8 of the padded frame) of 2 * 2^(levels - 1): 128 pixels for 4 levels
        self.min_side = 8 * 2 * 2 ** (model.corr_block.num_levels - 1)

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) RGB frames -> the (2, H', W') flow of the padded pair (H', W' multiples of 8)."""
        import torch
        import torch.nn.functional as F

        left, right, top, bottom = pad_to_8(*first.shape[:2])
        if min(first.shape[0] + top + bottom, first.shape[1] + left + right) < self.min_side:
            size = f"{first.shape[1]}x{first.shape[0]}"
            raise NotSupported(f"RAFT needs frames of at least {self.min_side} pixels a side, got {size}")

        def prepared(frame: np.ndarray) -> Any:  # one tensor per frame, as VBench: same floats, bit for bit
            x = torch.from_numpy(frame).to(self.device).permute(2, 0, 1).float()[None]
            x = F.pad(x, (left, right, top, bottom), mode="replicate")
            return (2 * (x / 255.0) - 1.0).contiguous()  # RAFT's own input scaling

        with torch.inference_mode():
            flows = self.model(prepared(first), prepared(second), num_flow_updates=ITERS)
            return np.asarray(flows[-1][0].float().cpu().numpy(), dtype=np.float32)


def load_raft(choice: ModelChoice, device: str = "auto") -> RaftFlow:
    if choice.path is None:
        raise Unavailable(choice.missing_reason())
    st = choice.path.stat()
    stamp = f"{choice.label}|{ITERS}|{st.st_size}|{st.st_mtime_ns}"
    model, arch = load_raft_model(choice.path)
    if choice.vbench and arch != "raft_large":
        raise Unavailable(f"{choice.path} has the name of raft_large C_T_V1 but holds {arch} weights")
    return RaftFlow(model, choice.label, resolve_device(device), stamp, choice.vbench)
