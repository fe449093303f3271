"""The simulated voters' eye: each defect shows up in its own error, a faithful clip in none."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.shapes import parse_prompt
from adapters.shapes.defects import Defects, draw
from adapters.shapes.inspect import compare, judge, look, truth_facts

PROMPTS = (
    "a red ball moves to the left",
    "两个蓝色的方块向上移动",
    "a green star spins on a black background",
    "a yellow heart falls while a purple ring moves right",
)
CASES = {
    "colour": Defects(colour=1.0),
    "shape": Defects(shape=1.0),
    "count": Defects(count=1.0),
    "stillness": Defects(frozen=1.0),
    "flicker": Defects(flicker=1.0),
    "blur": Defects(blur=0.012),
}


@pytest.fixture(scope="module")
def errors() -> dict[str, list[dict[str, float]]]:
    out: dict[str, list[dict[str, float]]] = {name: [] for name in (*CASES, "faithful", "motion")}
    for i, prompt in enumerate(PROMPTS):
        scene = parse_prompt(prompt)
        truth = truth_facts(scene, 12, 128, 128)
        for name, defects in {**CASES, "faithful": Defects(), "motion": Defects(direction=1.0)}.items():
            made = draw(scene, defects, seed=100 + i, num_frames=12, width=128, height=128)
            out[name].append(compare(look(made.frames), truth))
    return out


def test_a_faithful_clip_of_another_seed_looks_right(errors: dict[str, list[dict[str, float]]]) -> None:
    for e in errors["faithful"]:
        assert max(e.values()) < 0.45, e


@pytest.mark.parametrize("aspect", sorted(CASES))
def test_each_defect_shows_in_its_own_error(aspect: str, errors: dict[str, list[dict[str, float]]]) -> None:
    seen = [e[aspect] for e in errors[aspect]]
    faithful = [e[aspect] for e in errors["faithful"]]
    assert np.median(seen) > 0.5 and np.median(seen) > 3 * max(np.median(faithful), 0.05), (seen, faithful)


def test_a_wrong_direction_shows_in_the_motion_error(errors: dict[str, list[dict[str, float]]]) -> None:
    moving = [e["motion"] for e, p in zip(errors["motion"], PROMPTS, strict=True) if "spins" not in p]
    assert min(moving) > 0.5, moving


def test_judge_reads_a_prompt_and_any_clip_size() -> None:
    frames = draw(parse_prompt("a red ball moves left"), Defects(), seed=3, num_frames=5, width=160, height=96).frames
    errors = judge(frames, "a red ball moves left")
    assert set(errors) >= {"colour", "shape", "count", "motion", "stillness", "jerk", "flicker", "blur"}
    assert errors["colour"] < 0.2
    assert judge(frames, "a blue ball moves left")["colour"] > 0.8  # the same clip, judged against another prompt
