"""Train the shapes-world CLIP (the metrics' offline default encoder) from scratch, on one CPU thread.

    nice python -m metrics.training.shapes_clip --seed 0 --warmup 1400 --warmup-heads shape,colour,count,motion,speed \
        --warmup-weight 2 --no-shape-colour-head --image-steps 2400 --text-steps 700 --eval-scenes 100

(the shipped weights' command, recorded in their ``figures.json``; the defaults are the earlier recipe's).

Each step renders a fresh batch of training scenes (frame stacks around a random moment of a random-length
clip, :mod:`metrics.training.shapes_data`). A warm-up (``--warmup``) first trains the image tower on one-group
scenes to read only the attributes named by ``--warmup-heads``, each alone: every held-out pair's colour occurs in
training only with other shapes, and a tower that learns every head from the start reads shape through colour.
Stage 1 trains it to read every attribute of the scenes back (supervised heads, :mod:`metrics.training.shapes_aux`),
the warm-up's heads kept at ``--warmup-weight``; stage 2 locks it and trains the text tower on captions in English
and Chinese with hard-negative captions per clip (the same scene with one attribute changed) and the symmetric
CLIP loss (locked-image tuning). Other options against the shortcut, measured weaker (README): ``--recolour``
draws a share of the stage-1 groups in random colours (never one nearest a colour word that makes a held-out pair
with the shape; their colour targets are left out), ``--no-shape-colour-head`` drops the shape-colour conjunction
head (never positive for a held-out pair), ``--exclude-held-out`` never lets a held-out pair compete;
``--negatives`` sets the hard negative captions per clip in stage 2. The run is reproducible from its seed (one
thread; the same machine type gives the same weights) and prints the CPU time it used. At the end the weights are
saved in fp16 (safetensors) with the vocabulary and the config, reloaded, and measured on held-out attribute
combinations (:mod:`metrics.training.shapes_eval`); the figures are written to ``figures.json`` beside the weights.

``--probe`` logs held-out figures while training; its checks leave the model in training mode, so after the first
check the locked image tower's batch-norm statistics follow the stage-2 batches: a run with ``--probe`` gives other
weights than one without.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adapters.shapes.captions import describe
from metrics.shapes_clip import (
    CONFIG_FILE,
    FIGURES_FILE,
    MODEL_FILE,
    UNK,
    VOCAB_FILE,
    WEIGHTS_DIR,
    GrammarTokenizer,
    build_model,
    tiny_architecture,
)
from metrics.training.shapes_data import (
    Example,
    build_vocab,
    hard_negative,
    single_group_example,
    training_example,
)

CONTEXT = 40


def _token_rows(tokenizer: GrammarTokenizer, texts: list[str], rng: np.random.Generator) -> list[list[int]]:
    """Token ids, some captions with 1-2 unknown words inserted (real prompts have words outside the grammar)."""
    rows = []
    for text in texts:
        ids = tokenizer.encode(text)
        if rng.random() < 0.15:
            for _ in range(int(rng.integers(1, 3))):
                ids.insert(int(rng.integers(1, len(ids))), UNK)
        rows.append(ids[: tokenizer.context_length - 1] + ids[-1:] if len(ids) > tokenizer.context_length else ids)
    return rows


def _encode_rows(model: Any, rows: list[list[int]], buckets: int = 4) -> Any:
    """Normalised text features of token rows, encoded in length buckets (each cut to its longest row)."""
    import torch

    order = np.argsort([len(r) for r in rows], kind="stable")
    feats = []
    for chunk in np.array_split(order, buckets):
        tokens = torch.zeros((len(chunk), max(len(rows[i]) for i in chunk)), dtype=torch.long)
        for j, i in enumerate(chunk):
            tokens[j, : len(rows[i])] = torch.tensor(rows[i])
        feats.append(_encode_text(model, tokens))
    return torch.cat(feats)[torch.from_numpy(np.argsort(order))]


def _encode_text(model: Any, tokens: Any) -> Any:
    """open_clip's ``CLIP.encode_text`` on token rows shorter than the context (normalised features). The tower
    is causal and pools at <eot>, so this equals encoding the rows padded to the full context, which inference
    does; it only skips the padding's cost."""
    import torch.nn.functional as F
    from open_clip.transformer import text_global_pool

    length = tokens.shape[1]
    x = model.token_embedding(tokens) + model.positional_embedding[:length]
    x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:length, :length]))
    x = text_global_pool(x, tokens, model.text_pool_type, eos_token_id=model.text_eos_id)
    return F.normalize(x @ model.text_projection, dim=-1)


def _pixels(frames: np.ndarray, mean: float = 0.5, std: float = 0.25) -> Any:
    """uint8 (B, STACK, S, S, 3) -> float (B, STACK * 3, S, S) in channels-last memory, normalised as the encoder
    does: the stack is packed channels-last while still uint8, then normalised in place (2.2-2.4x less CPU than
    normalising in the stacked order and copying to channels-last, with the same values)."""
    import torch

    b, k, h, w, c = frames.shape
    packed = np.ascontiguousarray(frames.transpose(0, 2, 3, 1, 4)).reshape(b, h, w, k * c)
    return torch.from_numpy(packed).permute(0, 3, 1, 2).float().div_(255.0).sub_(mean).div_(std)


def _encode_examples(model: Any, examples: Sequence[Example]) -> Any:
    """Unit image features of the examples' frame stacks."""
    return model.encode_image(_pixels(np.stack([e.frames for e in examples])), normalize=True)


def _encoded_pool(model: Any, rng: np.random.Generator, size: int, n: int, batch: int) -> tuple[list[Any], Any]:
    """(scenes, unit image features) of ``n`` training clips, encoded by the locked image tower in batches."""
    import torch

    scenes, feats = [], []
    with torch.no_grad():
        for start in range(0, n, batch):
            examples = [training_example(rng, size) for _ in range(min(batch, n - start))]
            scenes += [e.scene for e in examples]
            feats.append(_encode_examples(model, examples))
    return scenes, torch.cat(feats)


def _schedule(step: int, steps: int) -> float:
    """Linear warm-up over the first 5 % of steps, then cosine decay to 0."""
    warmup = max(1, steps // 20)
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def _log(stage: str, step: int, steps: int, loss: float, started: float, extra: str = "") -> None:
    cpu = (time.process_time() - started) / 60
    print(f"{stage} step {step}/{steps} loss {loss:.3f} cpu {cpu:.1f} min {extra}".rstrip(), flush=True)


def train(
    seed: int,
    image_steps: int,
    text_steps: int,
    *,
    image_batch: int = 64,
    text_batch: int = 128,
    lr: float = 3e-3,
    text_lr: float = 2e-3,
    size: int = 64,
    log_every: int = 200,
    probe: Any = None,
    vocab_samples: int = 20_000,
    recolour: float = 0.0,
    negatives: int = 1,
    shape_colour_head: bool = True,
    exclude_held_out: bool = False,
    warmup: int = 0,
    warmup_heads: tuple[str, ...] = ("shape",),
    warmup_weight: float = 0.0,
    text_pool: int = 0,
) -> tuple[Any, list[str]]:
    """Train from scratch in two stages; returns (model, vocabulary). Deterministic for a seed on one thread.

    0. Warm-up (``warmup`` steps): the image tower learns only ``warmup_heads`` (single-group attributes, e.g.
       shape) on one-group scenes (every training scene when they include "present", the shape-presence head), so
       it reads them before any colour-bound head exists; stage 1 keeps them weighted by ``warmup_weight`` on top
       of the heads' loss.
    1. The image tower learns every attribute of the training clips through the attribute heads (supervised).
    2. Locked-image tuning: the image tower and the heads are frozen; the text tower learns the symmetric CLIP
       loss (each clip against its caption, every other caption and one hard negative per clip) plus the heads'
       loss on the caption embeddings, so captions land where the images of their scenes are; with ``text_pool``
       its clips are drawn from that many training clips rendered and encoded once.

    A ``text_pool`` smaller than one stage-2 batch is refused before any training."""
    if 0 < text_pool < text_batch:
        raise ValueError(f"--text-pool {text_pool} is smaller than a stage-2 batch ({text_batch} clips)")
    import torch
    import torch.nn.functional as F

    from metrics.training import shapes_aux

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab = build_vocab(seed, vocab_samples)
    arch = tiny_architecture(len(vocab), CONTEXT)
    model = build_model(arch).to(memory_format=torch.channels_last)
    head = shapes_aux.heads(arch.config["embed_dim"], shape_colour_head)
    tokenizer = GrammarTokenizer(vocab, CONTEXT)
    started = time.process_time()

    visual = [*model.visual.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(visual, lr=lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    model.train()
    for step in range(warmup):
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / max(1, warmup // 10))
        examples = [
            training_example(rng, size) if "present" in warmup_heads else single_group_example(rng, size)
            for _ in range(image_batch)
        ]
        images = _encode_examples(model, examples)
        loss = shapes_aux.single_loss(head, images, shapes_aux.targets([e.scene for e in examples]), warmup_heads)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % log_every == 0 or step == warmup - 1:
            _log("warm-up", step + 1, warmup, loss.item(), started, probe.heads(model, head) if probe else "")
    for step in range(image_steps):
        for group in opt.param_groups:
            group["lr"] = lr * _schedule(step, image_steps)
        examples = [training_example(rng, size, recolour) for _ in range(image_batch)]
        images = _encode_examples(model, examples)
        truth = shapes_aux.targets(
            [e.scene for e in examples], [e.recoloured for e in examples], [e.drawn for e in examples], exclude_held_out
        )
        loss = shapes_aux.loss(head, images, truth)
        if warmup_weight:
            loss = loss + warmup_weight * shapes_aux.single_loss(head, images, truth, warmup_heads)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % log_every == 0 or step == image_steps - 1:
            _log("image", step + 1, image_steps, loss.item(), started, probe.heads(model, head) if probe else "")

    model.visual.eval()
    for p in visual:
        p.requires_grad_(False)
    text = [p for name, p in model.named_parameters() if not name.startswith("visual.")]
    opt = torch.optim.AdamW(text, lr=text_lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    pool = _encoded_pool(model, rng, size, text_pool, text_batch) if text_pool else None
    for step in range(text_steps):
        for group in opt.param_groups:
            group["lr"] = text_lr * _schedule(step, text_steps)
        if pool is None:
            examples = [training_example(rng, size) for _ in range(text_batch)]
            scenes = [e.scene for e in examples]
            with torch.no_grad():
                images = _encode_examples(model, examples)
        else:
            drawn = rng.choice(len(pool[0]), size=text_batch, replace=False)
            scenes, images = [pool[0][i] for i in drawn], pool[1][torch.from_numpy(drawn)]
        languages = ["en" if rng.random() < 0.5 else "zh" for _ in scenes]
        texts = [describe(scene, lang, rng) for scene, lang in zip(scenes, languages, strict=True)]
        for _ in range(negatives):
            texts += [
                describe(hard_negative(scene, rng, exclude_held_out), lang, rng)
                for scene, lang in zip(scenes, languages, strict=True)
            ]
        captions = _encode_rows(model, _token_rows(tokenizer, texts, rng))
        logit_scale = model.logit_scale.exp().clamp(max=100.0)
        target = torch.arange(text_batch)
        loss = 0.5 * (
            F.cross_entropy(logit_scale * images @ captions.T, target)
            + F.cross_entropy(logit_scale * captions[:text_batch] @ images.T, target)
        )
        truth = shapes_aux.targets(scenes, exclude_held_out=exclude_held_out)
        loss = loss + shapes_aux.loss(head, captions[:text_batch], truth)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % log_every == 0 or step == text_steps - 1:
            _log("text", step + 1, text_steps, loss.item(), started, probe(model, tokenizer) if probe else "")
    for p in visual:
        p.requires_grad_(True)
    return model.eval(), vocab


def save(model: Any, vocab: list[str], out: Path) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items() if v.is_floating_point()
    }
    state |= {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if not v.is_floating_point()}
    save_file(state, str(out / MODEL_FILE))
    arch = tiny_architecture(len(vocab), CONTEXT)
    (out / CONFIG_FILE).write_text(json.dumps(arch.to_json(), indent=2) + "\n", encoding="utf-8")
    (out / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-steps", type=int, default=2400, help="stage 1: supervised image tower")
    parser.add_argument("--text-steps", type=int, default=500, help="stage 2: locked-image text tuning")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--text-lr", type=float, default=2e-3)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--eval-scenes", type=int, default=200)
    parser.add_argument("--probe", action="store_true", help="log held-out pair accuracy while training")
    parser.add_argument("--recolour", type=float, default=0.0, help="stage 1: share of groups drawn in random colours")
    parser.add_argument("--negatives", type=int, default=1, help="stage 2: hard negative captions per clip")
    parser.add_argument(
        "--text-pool", type=int, default=0, help="stage 2: clips rendered and encoded once (0: fresh every step)"
    )
    parser.add_argument("--no-shape-colour-head", action="store_true", help="stage 1: no shape-colour conjunctions")
    parser.add_argument(
        "--exclude-held-out", action="store_true", help="no held-out pair as a competing class or hard negative"
    )
    parser.add_argument("--warmup", type=int, default=0, help="stage 0: steps on one-group scenes, warm-up heads only")
    parser.add_argument(
        "--warmup-heads",
        default="shape",
        help="comma-separated: shape, count, motion, speed, colour; present (two-group scenes too, shape presence)",
    )
    parser.add_argument("--warmup-weight", type=float, default=0.0, help="stage 1: extra weight of the warm-up heads")
    args = parser.parse_args(argv)
    started = time.process_time()
    probe = None
    if args.probe:
        from metrics.training.shapes_eval import Probe

        probe = Probe(seed=10_000 + args.seed)
    model, vocab = train(
        args.seed,
        args.image_steps,
        args.text_steps,
        lr=args.lr,
        text_lr=args.text_lr,
        probe=probe,
        recolour=args.recolour,
        negatives=args.negatives,
        shape_colour_head=not args.no_shape_colour_head,
        exclude_held_out=args.exclude_held_out,
        warmup=args.warmup,
        warmup_heads=tuple(args.warmup_heads.split(",")),
        warmup_weight=args.warmup_weight,
        text_pool=args.text_pool,
    )
    train_cpu = time.process_time() - started
    save(model, vocab, args.out)
    from metrics.encoders import get_spec
    from metrics.shapes_clip import load

    encoder = load(get_spec("shapes-clip"), args.out, "cpu")
    from metrics.training.shapes_eval import evaluate

    eval_started = time.process_time()
    figures = evaluate(encoder, scenes=args.eval_scenes)
    figures["training"] = {
        "command": "python -m metrics.training.shapes_clip " + " ".join(sys.argv[1:] if argv is None else argv),
        "seed": args.seed,
        "image_steps": args.image_steps,
        "text_steps": args.text_steps,
        "lr": args.lr,
        "text_lr": args.text_lr,
        "recolour": args.recolour,
        "negatives": args.negatives,
        "shape_colour_head": not args.no_shape_colour_head,
        "exclude_held_out": args.exclude_held_out,
        "warmup": args.warmup,
        "warmup_heads": args.warmup_heads,
        "warmup_weight": args.warmup_weight,
        "text_pool": args.text_pool,
        "cpu_minutes": round(train_cpu / 60, 2),
        "eval_cpu_minutes": round((time.process_time() - eval_started) / 60, 2),
        "parameters": sum(p.numel() for p in encoder.model.parameters()),
        "file_bytes": (args.out / MODEL_FILE).stat().st_size,
    }
    (args.out / FIGURES_FILE).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
