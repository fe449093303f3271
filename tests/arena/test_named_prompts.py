"""Named routes never run the anonymous pool's prompts (red-team finding 7): a named battle or Playground clip of
a suite prompt showed a model's look on the very prompt its anonymous clips are voted on. Named battles take
typed prompts only, and a typed text that is a suite prompt once normalised (NFKC, casefold, invisible marks and
punctuation dropped, whitespace collapsed) is refused with a reason, on every route."""

from __future__ import annotations

import pytest

from arena.services.container import Arena
from arena.services.inputs import prompt_key
from arena.services.views import BattleMode, Refusal

PAIR = ["alpha-7b", "beta-v2"]
SUITE_TEXT = "a red ball rolls left"  # a prompt of the test suite (tests/arena/conftest.py)
DISGUISES = [
    SUITE_TEXT,
    "  A RED Ball rolls   left. ",
    "a red\u200b ball rolls left",  # a zero-width space
    "ａ ｒｅｄ ｂａｌｌ ｒｏｌｌｓ ｌｅｆｔ",  # full-width letters (NFKC)
    "a red ball, rolls left!",
    "一个红色的球向左滚动",  # the suite's Chinese text of it
]


def test_prompt_key_folds_what_a_reader_would_call_the_same_prompt() -> None:
    assert {prompt_key(t) for t in DISGUISES[:-1]} == {SUITE_TEXT}
    assert prompt_key("a red ball rolls right") != SUITE_TEXT


def test_named_battles_take_typed_prompts_outside_the_suite_only(arena: Arena) -> None:
    for kwargs in ({}, {"prompt_id": 1}):  # no prompt (a random suite prompt before) or a chosen suite prompt
        with pytest.raises(Refusal) as refused:
            arena.battles.start("s1", mode=BattleMode.named, models=PAIR, **kwargs)  # type: ignore[arg-type]
        assert (refused.value.code, refused.value.status) == ("pool_prompt", 403)
    for text in DISGUISES:
        with pytest.raises(Refusal) as refused:
            arena.battles.start("s1", prompt_text=text, mode=BattleMode.named, models=PAIR)
        assert refused.value.code == "pool_prompt" and "anonymous battle prompts" in refused.value.reason
        with pytest.raises(Refusal) as refused:
            arena.playground.generate("alpha-7b", text, seed=1)
        assert refused.value.code == "pool_prompt"
        with pytest.raises(Refusal) as refused:  # an anonymous typed battle would name it after the vote
            arena.battles.start("s1", prompt_text=text)
        assert refused.value.code == "pool_prompt" and "choose it from the prompt list" in refused.value.reason
    view = arena.battles.start("s1", prompt_text="a red ball rolls right", mode=BattleMode.named, models=PAIR)
    assert view.status == "generating" and {view.left_name, view.right_name} == {"Alpha Seven", "Beta Two"}
    assert arena.playground.generate("alpha-7b", "a red ball rolls right", seed=1)["url"]
    assert arena.battles.start("s2", prompt_id=1).status == "shown"  # the pool prompt in an anonymous battle
