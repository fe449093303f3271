"""Tiny randomly initialised text-to-video pipelines, built offline from in-code configs.

Sizes follow diffusers' own ``get_dummy_components``; every hub download is replaced by a component
built from its config class, and tokenizers are WordLevel vocabularies from the ``tokenizers`` library.
Each builder returns a ``TinyPipeline``: the pipeline plus the adapter params (rule overrides,
short text length) that fit it. Components are seeded, so a builder gives the same weights every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

WORDS = [
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "to", "cat", "dog", "bird",
    "fish", "car", "tree", "house", "river", "sea", "sky", "sun", "moon", "red", "green", "blue", "yellow",
    "black", "white", "big", "small", "runs", "flies", "swims", "jumps", "walks", "dance", "monkey", "city", "street",
    "night", "day", "rain", "snow", "over", "under", "slowly", "quickly", "two", "three", "painting", "photo", "video",
]  # fmt: skip


@dataclass
class TinyPipeline:
    family: str
    pipe: Any
    params: dict[str, Any] = field(default_factory=dict)  # DiffusersAdapter params that fit this checkpoint


def word_tokenizer(style: str, max_length: int) -> Any:
    """A fast tokenizer over ``WORDS``. ``style``: "t5" (pad 0, eos 1, unk 2; ``$A </s>``), "clip"
    (``<|startoftext|> $A <|endoftext|>``, pad = eos) or "llama" (``<s> $A``)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = {
        "t5": ["<pad>", "</s>", "<unk>"],
        "clip": ["<|startoftext|>", "<|endoftext|>", "<unk>"],
        "llama": ["<unk>", "<s>", "</s>", "<pad>"],
    }[style]
    vocab = {tok: i for i, tok in enumerate([*specials, *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if style == "t5":
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
        named = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    elif style == "clip":
        bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
        tok.post_processor = processors.TemplateProcessing(
            single="<|startoftext|> $A <|endoftext|>",
            special_tokens=[("<|startoftext|>", bos), ("<|endoftext|>", eos)],
        )
        named = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
        named["unk_token"] = "<unk>"
    else:
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
        named = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **named)


def _t5(d_model: int = 32, umt5: bool = False) -> Any:
    import torch
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    kw = dict(vocab_size=96, d_model=d_model, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    kw |= dict(relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return UMT5EncoderModel(UMT5Config(**kw)) if umt5 else T5EncoderModel(T5Config(**kw))


def _clip(hidden: int) -> Any:
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    config = CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=hidden, intermediate_size=37,
        num_attention_heads=2 if hidden % 2 == 0 else 1, num_hidden_layers=2, vocab_size=96,
        max_position_embeddings=77, projection_dim=hidden,
    )  # fmt: skip
    return CLIPTextModel(config)


def _eval(pipe: Any) -> Any:
    import torch

    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()
    pipe.set_progress_bar_config(disable=True)
    return pipe


def wan_vae(**config: Any) -> Any:
    import torch
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    defaults = dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1)
    return AutoencoderKLWan(**(defaults | {"temperal_downsample": [False, True, True]} | config))


def wan_transformer(
    seed: int = 0, num_layers: int = 2, heads: int = 2, head_dim: int = 12, ffn_dim: int = 32, channels: int = 16,
    cls_name: str = "WanTransformer3DModel",
) -> Any:  # fmt: skip
    import diffusers
    import torch

    torch.manual_seed(seed)
    return getattr(diffusers, cls_name)(
        patch_size=(1, 2, 2), num_attention_heads=heads, attention_head_dim=head_dim, in_channels=channels,
        out_channels=channels, text_dim=32, freq_dim=256, ffn_dim=ffn_dim, num_layers=num_layers, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
    )  # fmt: skip


def wan_scheduler(flow_shift: float = 3.0) -> Any:
    """As the released Wan checkpoints configure it (flow_shift 3.0 suits 480p; SkyReels-V2 uses 8.0)."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(flow_shift=flow_shift, use_flow_sigmas=True, prediction_type="flow_prediction")


WAN_PARAMS = {
    "default_frames": 9,
    "default_width": 16,
    "default_height": 16,
    "call_kwargs": {"max_sequence_length": 16},
}


def tiny_wan(num_layers: int = 2, heads: int = 2, head_dim: int = 12, ffn_dim: int = 32) -> TinyPipeline:
    from diffusers import WanPipeline

    pipe = WanPipeline(
        tokenizer=word_tokenizer("t5", 16),
        text_encoder=_t5(32, umt5=True),
        vae=wan_vae(),
        scheduler=wan_scheduler(),
        transformer=wan_transformer(0, num_layers, heads, head_dim, ffn_dim),
    )
    return TinyPipeline("wan", _eval(pipe), dict(WAN_PARAMS))


def tiny_wan22() -> TinyPipeline:
    """Wan 2.2 A14B's layout: two experts, the second taking over below ``boundary_ratio``."""
    from diffusers import WanPipeline

    pipe = WanPipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32, umt5=True), vae=wan_vae(),
        scheduler=wan_scheduler(), transformer=wan_transformer(0),
        transformer_2=wan_transformer(1), boundary_ratio=0.875,
    )  # fmt: skip
    return TinyPipeline("wan2.2", _eval(pipe), dict(WAN_PARAMS))


def tiny_skyreels_v2() -> TinyPipeline:
    from diffusers import SkyReelsV2Pipeline

    pipe = SkyReelsV2Pipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32, umt5=True), vae=wan_vae(),
        transformer=wan_transformer(cls_name="SkyReelsV2Transformer3DModel"), scheduler=wan_scheduler(8.0),
    )  # fmt: skip
    return TinyPipeline("skyreels-v2", _eval(pipe), dict(WAN_PARAMS))


def tiny_cogvideox(patch_size_t: int | None = None) -> TinyPipeline:
    """CogVideoX 1.0; with ``patch_size_t`` 2, 1.5's layout (temporal patches, rotary position embeddings)."""
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
        DDIMScheduler,
    )

    torch.manual_seed(0)
    heads = {"num_attention_heads": 2, "attention_head_dim": 16} if patch_size_t else {"num_attention_heads": 4}
    transformer = CogVideoXTransformer3DModel(
        **({"attention_head_dim": 8} | heads), in_channels=4, out_channels=4, time_embed_dim=2, text_embed_dim=32,
        num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2, patch_size_t=patch_size_t,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=bool(patch_size_t),
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4,
    )  # fmt: skip
    pipe = CogVideoXPipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32), vae=vae, transformer=transformer,
        scheduler=DDIMScheduler(),
    )  # fmt: skip
    # The real checkpoints generate 720x480 only; this one takes multiples of 16.
    params = {"size_multiple": 16, "default_width": 16, "default_height": 16, "default_frames": 9}
    return TinyPipeline("cogvideox", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def tiny_ltx(timestep_conditioning: bool = False) -> TinyPipeline:
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1), patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False, timestep_conditioning=timestep_conditioning,
    )  # fmt: skip
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_t5(32),
        tokenizer=word_tokenizer("t5", 16), transformer=transformer,
    )  # fmt: skip
    # This VAE compresses 4x in time (the released one 8x): frames are 4k+1.
    params = {
        "frame_step": 4,
        "frames_min": 5,
        "default_frames": 9,
        "default_width": 32,
        "default_height": 32,
    }
    return TinyPipeline("ltx", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def tiny_hunyuanvideo() -> TinyPipeline:
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4, out_channels=4, num_attention_heads=2, attention_head_dim=10, num_layers=1,
        num_single_layers=1, num_refiner_layers=1, patch_size=1, patch_size_t=1, guidance_embeds=True,
        text_embed_dim=16, pooled_projection_dim=8, rope_axes_dim=(2, 4, 4),
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo(
        latent_channels=4, down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        norm_num_groups=4, scaling_factor=0.476986, spatial_compression_ratio=8, temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )  # fmt: skip
    torch.manual_seed(0)
    llama = LlamaModel(
        LlamaConfig(
            bos_token_id=1, eos_token_id=2, pad_token_id=3, hidden_size=16, intermediate_size=37,
            num_attention_heads=4, num_hidden_layers=3, vocab_size=96, max_position_embeddings=128,
        )
    )  # fmt: skip
    pipe = HunyuanVideoPipeline(
        text_encoder=llama, tokenizer=word_tokenizer("llama", 64), transformer=transformer, vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=_clip(8),
        tokenizer_2=word_tokenizer("clip", 77),
    )  # fmt: skip
    call = {"max_sequence_length": 16, "prompt_template": {"template": "{}", "crop_start": 0}}
    params = {"default_frames": 9, "default_width": 16, "default_height": 16}
    return TinyPipeline("hunyuanvideo", _eval(pipe), params | {"call_kwargs": call})


def tiny_mochi() -> TinyPipeline:
    import torch
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiPipeline, MochiTransformer3DModel

    torch.manual_seed(0)
    transformer = MochiTransformer3DModel(
        patch_size=2, num_attention_heads=2, attention_head_dim=8, num_layers=2, pooled_projection_dim=16,
        in_channels=12, out_channels=None, qk_norm="rms_norm", text_embed_dim=32, time_embed_dim=4,
        activation_fn="swiglu", max_sequence_length=16,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKLMochi(
        latent_channels=12, out_channels=3, encoder_block_out_channels=(32, 32, 32, 32),
        decoder_block_out_channels=(32, 32, 32, 32), layers_per_block=(1, 1, 1, 1, 1),
    )  # fmt: skip
    pipe = MochiPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_t5(32),
        tokenizer=word_tokenizer("t5", 16), transformer=transformer,
    )  # fmt: skip
    params = {"default_frames": 7, "default_width": 16, "default_height": 16}
    return TinyPipeline("mochi", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def tiny_latte() -> TinyPipeline:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, LattePipeline, LatteTransformer3DModel

    torch.manual_seed(0)
    transformer = LatteTransformer3DModel(
        sample_size=8, num_layers=1, patch_size=2, attention_head_dim=8, num_attention_heads=3,
        caption_channels=32, in_channels=4, cross_attention_dim=24, out_channels=8, attention_bias=True,
        activation_fn="gelu-approximate", num_embeds_ada_norm=1000, norm_type="ada_norm_single",
        norm_elementwise_affine=False, norm_eps=1e-6, video_length=4,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8,), norm_num_groups=2, latent_channels=4)
    pipe = LattePipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32), vae=vae, transformer=transformer,
        scheduler=DDIMScheduler(),
    )  # fmt: skip
    # This transformer was built for 4 frames; its VAE does not downsample, so sizes are multiples of 2.
    params = {"frames_fixed": [4], "size_multiple": 2, "default_width": 8, "default_height": 8}
    return TinyPipeline("latte", _eval(pipe), params)


def tiny_animatediff() -> TinyPipeline:
    """As a Stable Diffusion 1.5 base comes: with its PNDM scheduler (the adapter swaps in AnimateDiff's DDIM)."""
    import torch
    from diffusers import AnimateDiffPipeline, AutoencoderKL, MotionAdapter, PNDMScheduler, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 8), layers_per_block=2, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8, norm_num_groups=2, attention_head_dim=4,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[8, 8], down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4, norm_num_groups=2,
    )  # fmt: skip
    torch.manual_seed(0)
    motion = MotionAdapter(
        block_out_channels=(8, 8),
        motion_layers_per_block=2,
        motion_norm_num_groups=2,
        motion_num_attention_heads=4,
    )
    pipe = AnimateDiffPipeline(
        vae=vae, text_encoder=_clip(8), tokenizer=word_tokenizer("clip", 77), unet=unet, motion_adapter=motion,
        scheduler=PNDMScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True, steps_offset=1
        ),
    )  # fmt: skip
    params = {"size_multiple": 4, "default_width": 16, "default_height": 16, "default_frames": 8}
    return TinyPipeline("animatediff", _eval(pipe), params)


def tiny_allegro() -> TinyPipeline:
    """Allegro, whose VAE decodes only with tiling and only whole tiles: the tiles are set (``vae_tile``) to
    8 frames x 16 x 16 pixels overlapping by half, a grid small enough for tiny videos."""
    import torch
    from diffusers import AllegroPipeline, AllegroTransformer3DModel, AutoencoderKLAllegro, DDIMScheduler

    torch.manual_seed(0)
    transformer = AllegroTransformer3DModel(
        num_attention_heads=2, attention_head_dim=12, in_channels=4, out_channels=4, num_layers=1,
        cross_attention_dim=24, sample_width=8, sample_height=8, sample_frames=8, caption_channels=32,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKLAllegro(
        down_block_types=("AllegroDownBlock3D",) * 4, up_block_types=("AllegroUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4,
    )  # fmt: skip
    pipe = AllegroPipeline(
        tokenizer=word_tokenizer("t5", 16), text_encoder=_t5(32), vae=vae, transformer=transformer,
        scheduler=DDIMScheduler(),
    )  # fmt: skip
    tile = {"frames": 8, "height": 16, "width": 16, "overlap_frames": 4, "overlap_height": 8, "overlap_width": 8}
    params = {"vae_tile": tile, "default_frames": 8, "default_width": 16, "default_height": 16}
    return TinyPipeline("allegro", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def gemma2(hidden: int = 8) -> Any:
    import torch
    from transformers import Gemma2Config, Gemma2Model

    torch.manual_seed(0)
    config = Gemma2Config(
        head_dim=16, hidden_size=hidden, intermediate_size=64, max_position_embeddings=8192, num_attention_heads=2,
        num_hidden_layers=1, num_key_value_heads=2, vocab_size=96, attn_implementation="eager", pad_token_id=3,
        bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    return Gemma2Model(config)


def sana_transformer(channels: int, patch: tuple[int, int, int]) -> Any:
    import torch
    from diffusers import SanaVideoTransformer3DModel

    torch.manual_seed(0)
    return SanaVideoTransformer3DModel(
        in_channels=channels, out_channels=channels, num_attention_heads=2, attention_head_dim=12, num_layers=2,
        num_cross_attention_heads=2, cross_attention_head_dim=12, cross_attention_dim=24, caption_channels=8,
        mlp_ratio=2.5, dropout=0.0, attention_bias=False, sample_size=8, patch_size=patch,
        norm_elementwise_affine=False, norm_eps=1e-6, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
    )  # fmt: skip


def tiny_sana_video() -> TinyPipeline:
    """Sana-Video 480p's layout: Wan's VAE (4x in time), a Gemma 2 text encoder. The tokenizer is long enough
    for the pipeline's default "complex human instruction" prepended to every prompt."""
    from diffusers import DPMSolverMultistepScheduler, SanaVideoPipeline

    pipe = SanaVideoPipeline(
        tokenizer=word_tokenizer("llama", 512), text_encoder=gemma2(), vae=wan_vae(),
        transformer=sana_transformer(16, (1, 2, 2)), scheduler=DPMSolverMultistepScheduler(),
    )  # fmt: skip
    params = {"default_frames": 9, "default_width": 32, "default_height": 32}
    return TinyPipeline("sana-video", _eval(pipe), params | {"call_kwargs": {"max_sequence_length": 16}})


def tiny_modelscope() -> TinyPipeline:
    """ModelScope / zeroscope (TextToVideoSDPipeline): a 3D UNet; this VAE does not downsample."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 8), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=4, attention_head_dim=4, norm_num_groups=2,
    )  # fmt: skip
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(8,), down_block_types=["DownEncoderBlock2D"], up_block_types=["UpDecoderBlock2D"],
        latent_channels=4, sample_size=16, norm_num_groups=2,
    )  # fmt: skip
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False
    )
    pipe = TextToVideoSDPipeline(
        vae=vae, text_encoder=_clip(4), tokenizer=word_tokenizer("clip", 77), unet=unet, scheduler=scheduler
    )
    params = {"size_multiple": 8, "default_frames": 4, "default_width": 16, "default_height": 16}
    return TinyPipeline("modelscope", _eval(pipe), params)


# One tiny pipeline per family of the diffusers table, keyed by family (tiny_versions.py has the versions).
BUILDERS: Mapping[str, Callable[[], TinyPipeline]] = MappingProxyType(
    {
        "wan": tiny_wan,
        "wan2.2": tiny_wan22,
        "skyreels-v2": tiny_skyreels_v2,
        "cogvideox": tiny_cogvideox,
        "ltx": tiny_ltx,
        "hunyuanvideo": tiny_hunyuanvideo,
        "mochi": tiny_mochi,
        "allegro": tiny_allegro,
        "latte": tiny_latte,
        "animatediff": tiny_animatediff,
        "sana-video": tiny_sana_video,
        "modelscope": tiny_modelscope,
    }
)
