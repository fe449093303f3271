"""The shapes-world CLIP: the shipped weights, what they measure on fresh held-out scenes, the grammar tokenizer,
frame stacks, and a training run that is reproducible from its seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from adapters.shapes.captions import describe
from adapters.shapes.defects import Defects, draw
from adapters.shapes.lexicon import SHAPES
from adapters.shapes.render import render_scene
from metrics.encoders import ENCODERS, EncoderNotFound, get_spec, load_encoder
from metrics.shapes_clip import (
    FIGURES_FILE,
    MODEL_FILE,
    STACK,
    UNK,
    WEIGHTS_DIR,
    GrammarTokenizer,
    stack_indices,
)
from metrics.training.shapes_data import HELD_OUT, held_out_scenes
from metrics.training.shapes_eval import clip_feature


@pytest.fixture(scope="module")
def encoder():  # type: ignore[no-untyped-def]
    return load_encoder("shapes-clip", device="cpu")


def test_the_shipped_encoder_is_registered_small_and_labelled() -> None:
    spec = ENCODERS["shapes-clip"]
    assert spec.languages == {"en", "zh"} and spec.calibrated
    assert spec.scope == "calibrated for the shapes world only"
    assert (WEIGHTS_DIR / MODEL_FILE).stat().st_size <= 20 * 2**20
    figures = json.loads((WEIGHTS_DIR / FIGURES_FILE).read_text(encoding="utf-8"))
    assert figures["training"]["command"].startswith("python -m metrics.training.shapes_clip")
    assert figures["training"]["cpu_minutes"] < 20  # the goal; the shipped run measured 15.02 (README)
    for language in ("en", "zh"):
        assert set(figures["pairs"][language]) >= {"shape", "colour", "count", "motion", "background"}
        assert figures["retrieval"][language]["image_to_text_top1"] > 0.5
        one_group = figures["pairs_by_groups"][language]["1"]
        assert min(one_group[a]["accuracy"] for a in ("shape", "colour", "count")) >= 0.99, one_group


def test_on_fresh_held_out_scenes_clipsim_prefers_the_faithful_clip(encoder) -> None:  # type: ignore[no-untyped-def]
    """Scenes drawn with a seed the figures did not use: the faithful clip outscores the clip with the wrong colour
    and the clip with the wrong object for most prompts in both languages (the shapes of held-out pairs are read
    since the warm-up: 32 of 32 here, against 25 of 32 with the weights trained without it)."""
    rng = np.random.default_rng(12345)
    scenes = held_out_scenes(rng, 16)
    assert all(any((o.shape, o.colour) in HELD_OUT for o in s.objects) for s in scenes)
    wins: dict[str, list[bool]] = {"colour": [], "shape": []}
    for i, scene in enumerate(scenes):
        faithful = clip_feature(encoder, render_scene(scene, seed=i, num_frames=8, width=128, height=128))
        texts = encoder.encode_texts([describe(scene, lang, rng) for lang in ("en", "zh")])
        for name, defect in (("colour", Defects(colour=1.0)), ("shape", Defects(shape=1.0))):
            wrong = clip_feature(encoder, draw(scene, defect, seed=i, num_frames=8, width=128, height=128).frames)
            wins[name] += [bool(faithful @ t > wrong @ t) for t in texts]
    assert np.mean(wins["colour"]) >= 0.9, wins
    assert np.mean(wins["shape"]) >= 0.9, wins


def test_a_single_frame_reads_as_a_still_stack(encoder) -> None:  # type: ignore[no-untyped-def]
    frames = render_scene(held_out_scenes(np.random.default_rng(1), 1)[0], num_frames=1, width=64, height=64)
    x = encoder.preprocess(frames)  # (1, 3, 64, 64): what frame-by-frame callers (VBench's transform) send
    with torch.inference_mode():
        single = encoder.model.encode_image(x, normalize=True).numpy()
    assert np.allclose(single, encoder.encode_images(frames), atol=1e-5)


def test_stack_indices_span_a_share_of_the_clip_inside_it() -> None:
    assert stack_indices(1, 0) == [0] * STACK
    for frames in (2, 8, 16, 49, 128):
        for i in range(frames):
            idx = stack_indices(frames, i)
            assert len(idx) == STACK and idx == sorted(idx) and idx[0] >= 0 and idx[-1] < frames
            assert min(idx) <= i <= max(idx) or frames < STACK
    assert stack_indices(16, 8) == [5, 7, 9, 11] and stack_indices(49, 0) == [0, 5, 10, 15]


def test_grammar_tokenizer() -> None:
    tok = GrammarTokenizer(["<pad>", "<sot>", "<eot>", "<unk>", "a", "red", "ball", "红", "色", "球"], 8)
    ids = tok(["A red ball!", "红色的球", "a red ball a red ball a red ball"])
    assert ids.tolist()[0] == [1, 4, 5, 6, 2, 0, 0, 0]
    assert ids.tolist()[1] == [1, 7, 8, UNK, 9, 2, 0, 0]  # 的 is not in this vocabulary
    assert ids.tolist()[2][-1] == 2 and len(ids.tolist()[2]) == 8  # cut to the context, <eot> kept
    with pytest.raises(ValueError):
        GrammarTokenizer(["a", "b"], 8)


def test_a_missing_checkpoint_names_the_folder_and_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(EncoderNotFound, match=r"metrics\.training\.shapes_clip") as err:
        load_encoder("shapes-clip", checkpoint=tmp_path, device="cpu")
    assert str(tmp_path) in str(err.value)
    assert get_spec("shapes-clip").loader == "metrics.shapes_clip:load"


def test_training_is_reproducible_from_its_seed_and_saves_a_loadable_model(tmp_path: Path) -> None:
    from metrics.training.shapes_clip import save, train

    runs = []
    for n in range(2):
        model, vocab = train(3, 2, 2, image_batch=4, text_batch=4, log_every=10, vocab_samples=200)
        runs.append(model.state_dict())
        save(model, vocab, tmp_path / str(n))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    loaded = load_encoder("shapes-clip", checkpoint=tmp_path / "0", device="cpu")
    frames = render_scene(held_out_scenes(np.random.default_rng(2), 1)[0], num_frames=5, width=64, height=64)
    assert loaded.encode_images(frames).shape == (5, 128) and loaded.encode_texts(["一个红色的球"]).shape == (1, 128)


def test_a_stage_2_pool_is_drawn_from_reproducibly_and_leaves_the_image_tower_as_it_was() -> None:
    """``text_pool``: stage 2 draws its clips from clips encoded once; the run stays reproducible, the locked image
    tower (batch-norm statistics included) ends as without the pool, and the text tower learns from other clips."""
    from metrics.training.shapes_clip import train

    small = {"image_batch": 4, "text_batch": 4, "vocab_samples": 200}
    fresh = train(3, 2, 2, **small)[0].state_dict()  # type: ignore[arg-type]
    pooled = [train(3, 2, 2, text_pool=6, **small)[0].state_dict() for _ in range(2)]  # type: ignore[arg-type]
    assert all(torch.equal(pooled[0][k], pooled[1][k]) for k in fresh)
    visual = [k for k in fresh if k.startswith("visual.")]
    assert visual and all(torch.equal(fresh[k], pooled[0][k]) for k in visual)
    assert not all(torch.equal(fresh[k], pooled[0][k]) for k in fresh if not k.startswith("visual."))
    with pytest.raises(ValueError, match="smaller than a stage-2 batch"):
        train(3, 0, 1, text_pool=3, **small)  # type: ignore[arg-type]


def test_the_default_encoder_separates_faithful_from_wrong_colour_on_the_demo_suite() -> None:
    """The metrics' default encoder (no encoder named) is the shapes-world CLIP, and its CLIPSIM scores the
    faithful demo generator above one that always draws a wrong colour, on the demo suite in both languages."""
    import yaml

    from adapters.demo import defects_for, draw_prompt
    from arena.settings import ROOT, Settings
    from metrics.scorer import Scorer

    assert Settings().metrics_encoder == "shapes-clip"
    scorer = Scorer(device="cpu", metrics=["clipsim"])
    assert scorer.encoder_id == "shapes-clip" and scorer.scope_note and "shapes world only" in scorer.scope_note
    suite = yaml.safe_load((ROOT / "arena" / "suites" / "data" / "demo.yaml").read_text(encoding="utf-8"))
    gaps = []
    for i, prompt in enumerate(suite["prompts"]):
        videos = {
            name: draw_prompt(prompt["en"], defects_for(name, colour=c), seed=i, num_frames=16).frames
            for name, c in (("faithful", None), ("wrong_colour", 1.0))
        }
        for language in ("en", "zh"):
            value = {
                name: scorer.score_frames(frames, 8.0, prompt[language], language, f"{name}-{i}").by_name()["clipsim"]
                for name, frames in videos.items()
            }
            assert value["faithful"].status == "ok" and value["faithful"].calibrated
            gaps.append(float(value["faithful"].value) - float(value["wrong_colour"].value))  # type: ignore[arg-type]
    report = scorer.score_frames(videos["faithful"], 8.0, prompt["zh"], "zh", f"faithful-{i}")
    assert report.scope == "calibrated for the shapes world only" and report.to_dict()["scope"] == report.scope
    wins = np.mean([g > 0 for g in gaps])
    print(f"CLIPSIM faithful - wrong colour over {len(gaps)} prompt-languages: mean {np.mean(gaps):.4f}, wins {wins}")
    assert wins >= 0.9 and np.mean(gaps) > 0, gaps


def test_random_colours_of_training_keep_the_held_out_pairs_unseen_and_drop_their_colour_targets() -> None:
    """Stage 1 draws some groups in random colours (so colour says nothing of shape): none of them is nearest to a
    colour word that makes a held-out pair with its shape, each shows on its background, and a recoloured clip's
    colour targets are left out while its shape targets stay."""
    from adapters.shapes.captions import random_scene
    from adapters.shapes.lexicon import luminance
    from adapters.shapes.render import background_rgb
    from metrics.training import shapes_aux
    from metrics.training.shapes_data import is_training_object, nearest_colour, random_rgb, training_example

    rng = np.random.default_rng(4)
    drawn = 0
    for _ in range(300):
        scene = random_scene(rng, allow=is_training_object)
        for obj in scene.objects:
            rgb = random_rgb(scene, obj, rng)
            if rgb is None:
                continue
            drawn += 1
            bg = background_rgb(scene)
            assert (obj.shape, nearest_colour(rgb)) not in HELD_OUT
            assert float(np.linalg.norm(np.subtract(rgb, bg))) > 90 and abs(luminance(rgb) - luminance(bg)) > 10
    assert drawn > 300
    examples = [training_example(rng, 32, recolour=0.5) for _ in range(40)]
    assert {e.recoloured for e in examples} == {True, False}
    plain = training_example(np.random.default_rng(9), 32)
    assert not plain.recoloured and np.array_equal(plain.frames, training_example(np.random.default_rng(9), 32).frames)
    truth = shapes_aux.targets(
        [e.scene for e in examples], [e.recoloured for e in examples], [e.drawn for e in examples]
    )
    for i, e in enumerate(examples):
        assert float(truth["colour_known"][i]) == (0.0 if e.recoloured else 1.0)
        if len(e.scene.objects) == 1:
            assert int(truth["single_shape"][i]) >= 0
            assert (int(truth["single_colour"][i]) == -100) == e.recoloured
    head = shapes_aux.heads(128, shape_colour=False)
    assert "shape_colour" not in head and "shape_count" in head and "single_shape" in head
    loss = shapes_aux.loss(head, torch.nn.functional.normalize(torch.randn(len(examples), 128), dim=-1), truth)
    assert torch.isfinite(loss)


def test_training_never_pits_a_shape_against_a_held_out_pair_of_its_colour() -> None:
    """A single purple group's shape classes leave out circle ((circle, purple) is held out), its colour classes
    leave out what is held out with its shape; a recoloured group is judged by the colour word nearest its drawn
    colour; and hard negative captions of training never name a held-out pair."""
    from adapters.shapes.captions import random_scene
    from adapters.shapes.lexicon import COLOURS, SHAPES
    from adapters.shapes.scene import Scene, SceneObject
    from metrics.training import shapes_aux
    from metrics.training.shapes_data import hard_negative, has_held_out, is_training_object

    purple_star = Scene((SceneObject(shape="star", colour="purple"),))
    assert bool(shapes_aux.targets([purple_star])["single_shape_allowed"].all())  # only when asked
    truth = shapes_aux.targets([purple_star, purple_star], [False, True], [("purple",), ("blue",)], True)
    allowed = truth["single_shape_allowed"].numpy()
    assert [s for s, ok in zip(SHAPES, allowed[0], strict=True) if not ok] == ["circle"]
    assert [s for s, ok in zip(SHAPES, allowed[1], strict=True) if not ok] == ["heart"]  # drawn blue-ish
    colours = truth["single_colour_allowed"].numpy()[0]
    assert [c for c, ok in zip(COLOURS, colours, strict=True) if not ok] == ["green"]  # (star, green) is held out
    logits = torch.zeros(2, len(SHAPES), requires_grad=True)
    target = {"single_shape": truth["single_shape"], "single_shape_allowed": truth["single_shape_allowed"]}
    head = torch.nn.ModuleDict({"single_shape": torch.nn.Identity()})
    shapes_aux.loss(head, logits, target).backward()
    assert float(logits.grad[0, SHAPES.index("circle")]) == 0.0 and float(logits.grad[0, SHAPES.index("square")]) > 0
    rng = np.random.default_rng(3)
    for _ in range(300):
        assert not has_held_out(hard_negative(random_scene(rng, allow=is_training_object), rng, True))


def test_the_warm_up_trains_only_its_heads_on_one_group_training_scenes() -> None:
    """Stage 0 draws one-group scenes of training pairs only, and its loss moves the heads it names and no other
    (so shape is learned before any colour-bound head exists); a run with a warm-up is reproducible too."""
    from metrics.training import shapes_aux
    from metrics.training.shapes_clip import train
    from metrics.training.shapes_data import has_held_out, single_group_example

    rng = np.random.default_rng(5)
    examples = [single_group_example(rng, 32) for _ in range(60)]
    assert all(len(e.scene.objects) == 1 and not has_held_out(e.scene) for e in examples)
    assert all(e.frames.shape == (STACK, 32, 32, 3) for e in examples)
    head = shapes_aux.heads(128, shape_colour=False)
    features = torch.nn.functional.normalize(torch.randn(len(examples), 128), dim=-1)
    shapes_aux.single_loss(
        head, features, shapes_aux.targets([e.scene for e in examples]), ("shape", "motion")
    ).backward()
    moved = {
        name for name, layer in head.items() if layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    }
    assert moved == {"single_shape", "single_motion"}
    runs = [
        train(
            3, 1, 1, image_batch=4, text_batch=4, vocab_samples=200, warmup=2, warmup_heads=("shape",), warmup_weight=2
        )[0]
        for _ in range(2)
    ]
    first, second = (r.state_dict() for r in runs)
    assert all(torch.equal(first[k], second[k]) for k in first)
    plain = train(3, 1, 1, image_batch=4, text_batch=4, vocab_samples=200)[0].state_dict()
    assert not all(torch.equal(first[k], plain[k]) for k in first)


def test_the_shape_presence_head_reads_which_shapes_a_scene_has_whatever_their_colour() -> None:
    """A colour-free head over every scene: which shapes are present (multi-hot), trained with BCE."""
    from adapters.shapes.scene import Scene, SceneObject
    from metrics.training import shapes_aux

    scenes = [
        Scene((SceneObject(shape="star", colour="red"), SceneObject(shape="ring", colour="blue"))),
        Scene((SceneObject(shape="circle", colour="green", count=3),)),
    ]
    truth = shapes_aux.targets(scenes)
    assert truth["shape_present"].tolist() == [
        [float(s in ("star", "ring")) for s in SHAPES],
        [float(s == "circle") for s in SHAPES],
    ]
    head = shapes_aux.heads(128, shape_colour=False)
    features = torch.nn.functional.normalize(torch.randn(2, 128), dim=-1)
    shapes_aux.loss(head, features, truth).backward()
    assert head["shape_present"].weight.grad is not None and head["shape_present"].weight.grad.abs().sum() > 0
