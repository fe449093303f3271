"""Tiny pipelines of the checkpoints a family's ``versions`` select by their configs (see diffusers_families.py):
CogVideoX 1.5 (transformer ``patch_size_t`` 2), LTX-Video 0.9.1+ (a timestep-aware VAE), Sana-Video 720p (LTX-2's
VAE, 8x in time) and Wan 2.2 TI2V-5B (a VAE compressing 16x). Built like those of tiny_pipelines.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from tests.adapters.tiny_pipelines import (
    WAN_PARAMS,
    TinyPipeline,
    _eval,
    _t5,
    gemma2,
    sana_transformer,
    tiny_cogvideox,
    tiny_ltx,
    wan_scheduler,
    wan_transformer,
    wan_vae,
    word_tokenizer,
)


def tiny_cogvideox_15() -> TinyPipeline:
    """CogVideoX 1.5's layout: temporal patches of 2 latent frames and rotary position embeddings."""
    tp = tiny_cogvideox(patch_size_t=2)
    tp.params["default_frames"] = 17
    return tp


def tiny_ltx_091() -> TinyPipeline:
    """LTX-Video 0.9.1+: the same tiny pipeline with a VAE that conditions its decoder on a timestep."""
    return tiny_ltx(timestep_conditioning=True)


def tiny_sana_video_720p() -> TinyPipeline:
    """Sana-Video 720p's layout: LTX-2's VAE (32x in space, 8x in time). Its decoder pads by reflection, so
    the tiny latents need 2 pixels a side: 64 x 64 videos."""
    import torch
    from diffusers import AutoencoderKLLTX2Video, DPMSolverMultistepScheduler, SanaVideoPipeline

    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        latent_channels=8, block_out_channels=(8, 16, 32, 64), decoder_block_out_channels=(8, 16, 32),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1), patch_size=4, patch_size_t=1,
        spatial_compression_ratio=32, temporal_compression_ratio=8,
    )  # fmt: skip
    pipe = SanaVideoPipeline(
        tokenizer=word_tokenizer("llama", 512), text_encoder=gemma2(), vae=vae,
        transformer=sana_transformer(8, (1, 1, 1)), scheduler=DPMSolverMultistepScheduler(),
    )  # fmt: skip
    params = {"size_multiple": 64, "default_frames": 9, "default_width": 64, "default_height": 64}
    return TinyPipeline("sana-video", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def tiny_wan22_ti2v() -> TinyPipeline:
    """Wan 2.2 TI2V-5B's layout: a residual VAE with 2x2 patches compressing 16x, 48 latent channels."""
    from diffusers import WanPipeline

    vae = wan_vae(
        z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2, latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48, scale_factor_spatial=16, scale_factor_temporal=4,
    )  # fmt: skip
    pipe = WanPipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32, umt5=True), vae=vae,
        scheduler=wan_scheduler(), transformer=wan_transformer(channels=48),
        expand_timesteps=True,
    )  # fmt: skip
    params = dict(WAN_PARAMS) | {"default_width": 32, "default_height": 32}
    return TinyPipeline("wan", _eval(pipe), params)


VERSION_BUILDERS: Mapping[str, Callable[[], TinyPipeline]] = MappingProxyType(
    {
        "cogvideox-1.5": tiny_cogvideox_15,
        "ltx-video-0.9.1+": tiny_ltx_091,
        "sana-video-720p": tiny_sana_video_720p,
        "wan2.2-ti2v-5b": tiny_wan22_ti2v,
    }
)
