"""Tiny random models built from configs (no download): DINO-like ViT, DINOv2, torchvision RAFT."""

from __future__ import annotations

from pathlib import Path


def save_tiny_vit(folder: Path, seed: int = 0, dinov2: bool = False) -> Path:
    import torch
    from transformers import Dinov2Config, Dinov2Model, ViTConfig, ViTModel

    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=224)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if dinov2:
            model = Dinov2Model(Dinov2Config(patch_size=14, **common))
        else:
            model = ViTModel(ViTConfig(patch_size=16, layer_norm_eps=1e-6, **common), add_pooling_layer=False)
    model.save_pretrained(folder)
    return folder


def save_random_raft(path: Path, seed: int = 0, large: bool = False) -> Path:
    import torch
    from torchvision.models.optical_flow import raft_large, raft_small

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = (raft_large if large else raft_small)(weights=None, progress=False)
    torch.save(model.state_dict(), path)
    return path


def tiny_raft(seed: int = 0, flow_scale: float = 0.05):
    """A tiny torchvision RAFT (random, 2-level correlation pyramid: frames from 32 pixels a side), wrapped as the
    scorer's RaftFlow. ``flow_scale`` shrinks the flow head so flows sit near VBench's thresholds at test sizes."""
    import torch
    from torch.nn import InstanceNorm2d
    from torchvision.models.optical_flow.raft import BottleneckBlock, _raft

    from metrics.flow import RaftFlow

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _raft(
            weights=None,
            progress=False,
            feature_encoder_layers=(8, 8, 16, 16, 32),
            feature_encoder_block=BottleneckBlock,
            feature_encoder_norm_layer=InstanceNorm2d,
            context_encoder_layers=(8, 8, 16, 16, 40),
            context_encoder_block=BottleneckBlock,
            context_encoder_norm_layer=None,
            corr_block_num_levels=2,
            corr_block_radius=2,
            motion_encoder_corr_layers=(16,),
            motion_encoder_flow_layers=(16, 8),
            motion_encoder_out_channels=22,
            recurrent_block_hidden_state_size=24,
            recurrent_block_kernel_size=(3,),
            recurrent_block_padding=(1,),
            flow_head_hidden_size=16,
            use_mask_predictor=False,
        )
        with torch.no_grad():
            model.update_block.flow_head.conv2.weight.mul_(flow_scale)
            model.update_block.flow_head.conv2.bias.mul_(flow_scale)
    return RaftFlow(model.eval(), "tiny-raft-random", "cpu", stamp=f"seed={seed}|scale={flow_scale}")
