"""Prompt suites: the built-in suites are what they claim, and each prompt-file format loads (or fails clearly)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.errors import ConfigError
from adapters.language import guess_language
from arena.cli import build_app
from arena.suites import builtin_suites, load_suite, resolve_suite
from arena.suites.formats import guess_format

CORE_CATEGORIES = {
    "people",
    "animals",
    "vehicles",
    "scenery",
    "chinese_culture",
    "motion",
    "camera_motion",
    "style",
    "physics",
    "text",
    "multiple_objects",
    "counting",
    "spatial",
}


def test_core_suite_has_200_parallel_bilingual_prompts_in_every_category() -> None:
    suite = resolve_suite("core")
    assert suite.suite == "core" and len(suite.prompts) >= 200
    assert set(suite.categories()) == CORE_CATEGORIES
    assert min(suite.categories().values()) >= 10
    for p in suite.prompts:
        assert p.en and p.zh, p.id
        assert guess_language(p.zh) == "zh", p.id
        unquoted = re.sub(r'"[^"]*"', "", p.en)  # text-in-picture prompts quote what to draw, Chinese included
        assert guess_language(unquoted) == "en", p.id
    texts = [p.en for p in suite.prompts] + [p.zh for p in suite.prompts]
    assert len(set(texts)) == len(texts)  # no prompt written twice


def test_smoke_and_demo_suites_ship_as_package_data() -> None:
    builtins = builtin_suites()
    assert {"core", "smoke", "demo"} <= set(builtins)
    smoke = load_suite(builtins["smoke"])
    assert 3 <= len(smoke.prompts) <= 10 and smoke.languages() == ["en", "zh"]
    assert all(path.is_file() for path in builtins.values())
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"arena.suites" = ["data/*.yaml"]' in pyproject  # installed, not only in the source tree


def test_select_by_category_or_tag_and_unknown_category() -> None:
    core = resolve_suite("core")
    counting = core.select(["counting"])
    assert counting.prompts and all("counting" in (p.category, *p.tags) for p in counting.prompts)
    assert len(core.select(["people", "animals"], limit=5).prompts) == 5
    with pytest.raises(ConfigError, match="no prompt in nope"):
        core.select(["nope"])


def test_unknown_suite_names_the_built_ins() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'smoke'"):
        resolve_suite("smok")


def test_plain_text_guesses_languages_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "nightly prompts.txt"
    path.write_text("# my prompts\nA cat jumps\n\n一只猫在跳\nA cat jumps\n", encoding="utf-8")
    suite = load_suite(path)
    assert suite.suite == "nightly-prompts"
    assert [(p.en, p.zh) for p in suite.prompts] == [("A cat jumps", None), (None, "一只猫在跳")]
    assert suite.prompts[0].id.startswith("a-cat-jumps-")


def test_jsonl_bilingual_rows_and_translations_merged_by_id(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    rows = [
        {"id": "cat", "category": "animals", "tags": ["object_class"], "en": "A cat", "zh": "一只猫"},
        {"id": "dog", "prompt": "A dog runs"},
        {"id": "dog", "prompt": "一只狗在跑", "language": "zh"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    suite = load_suite(path)
    by_id = {p.id: p for p in suite.prompts}
    assert by_id["cat"].tags == ["object_class"] and by_id["cat"].zh == "一只猫"
    assert (by_id["dog"].en, by_id["dog"].zh) == ("A dog runs", "一只狗在跑")
    path.write_text('{"id": "x", "en": "a"}\n{"id": "x", "en": "b"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 2: prompt 'x' has two different en texts"):
        load_suite(path)
    path.write_text('{"id": "x", "en": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2: not JSON"):
        load_suite(path)


def test_csv_with_tags_and_a_row_without_text(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,category,tags,en,zh\nkite,people,human_action;color,A red kite,一只红风筝\n", encoding="utf-8")
    (prompt,) = load_suite(path).prompts
    assert (prompt.id, prompt.category, prompt.tags) == ("kite", "people", ["human_action", "color"])
    path.write_text("id,en\nkite,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2: no prompt text"):
        load_suite(path)


def test_vbench_per_dimension_folder_with_parallel_chinese(tmp_path: Path) -> None:
    english, chinese = tmp_path / "prompts_per_dimension", tmp_path / "prompts_per_dimension_chinese"
    english.mkdir()
    chinese.mkdir()
    (english / "color.txt").write_text("a red bicycle\na blue car\n", encoding="utf-8")
    (english / "object_class.txt").write_text("a blue car\na bear\n", encoding="utf-8")
    (chinese / "color.txt").write_text("一辆红色的自行车\n一辆蓝色的汽车\n", encoding="utf-8")
    (english / "notes.txt").write_text("not a dimension\n", encoding="utf-8")
    suite = load_suite(english)
    assert guess_format(english) == "vbench"
    by_en = {p.en: p for p in suite.prompts}
    assert set(by_en) == {"a red bicycle", "a blue car", "a bear"}
    assert by_en["a blue car"].category == "color" and by_en["a blue car"].tags == ["color", "object_class"]
    assert by_en["a red bicycle"].zh == "一辆红色的自行车" and by_en["a bear"].zh is None
    (chinese / "color.txt").write_text("一辆红色的自行车\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not parallel"):
        load_suite(english)


def test_vbench_all_dimension_list_and_full_info_json(tmp_path: Path) -> None:
    (tmp_path / "all_dimension.txt").write_text("In a still frame, a stop sign\na bird and a cat\n", encoding="utf-8")
    (tmp_path / "all_dimension_cn.txt").write_text("在静止的画面中，一个停车标志\n一只鸟和一只猫\n", encoding="utf-8")
    suite = load_suite(tmp_path / "all_dimension.txt")
    assert [(p.category, p.zh) for p in suite.prompts] == [
        ("vbench", "在静止的画面中，一个停车标志"),
        ("vbench", "一只鸟和一只猫"),
    ]
    info = [
        {"prompt_en": "In a still frame, a stop sign", "dimension": ["temporal_flickering"]},
        {"prompt_en": "a bird and a cat", "dimension": ["multiple_objects"], "auxiliary_info": {}},
        {"prompt_en": "a bird and a cat", "dimension": ["overall_consistency"]},
    ]
    (tmp_path / "VBench_full_info.json").write_text(json.dumps(info), encoding="utf-8")
    full = load_suite(tmp_path / "VBench_full_info.json")
    assert [(p.category, p.tags) for p in full.prompts] == [
        ("temporal_flickering", ["temporal_flickering"]),
        ("multiple_objects", ["multiple_objects", "overall_consistency"]),
    ]
    (tmp_path / "broken.json").write_text('[{"dimension": ["color"]}]', encoding="utf-8")
    with pytest.raises(ConfigError, match="entry 0: no prompt_en"):
        load_suite(tmp_path / "broken.json")


def test_yaml_errors_and_unknown_file_types_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("suite: x\nprompts:\n  - {id: a, en: one}\n  - {id: a, en: two}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"(?s)bad\.yaml.*duplicate prompt ids: a"):
        load_suite(bad)
    odd = tmp_path / "prompts.docx"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown prompt-file type '\.docx'"):
        load_suite(odd)
    with pytest.raises(ConfigError, match="not found"):
        load_suite(tmp_path / "missing.yaml")


def test_cli_suites_list_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(build_app(), ["suites", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["suite"]: r for r in json.loads(listed.output)}
    assert rows["core"]["prompts"] >= 200 and rows["core"]["languages"] == ["en", "zh"]
    shown = runner.invoke(build_app(), ["suites", "show", "smoke", "--json", "--language", "zh"])
    body = json.loads(shown.output)
    assert body["suite"] == "smoke" and all("zh" in p and "en" not in p for p in body["prompts"])
    text = tmp_path / "mine.txt"
    text.write_text("A kite\n", encoding="utf-8")
    plain = runner.invoke(build_app(), ["suites", "show", str(text)])
    assert plain.exit_code == 0 and "en: A kite" in plain.output
    missing = runner.invoke(build_app(), ["suites", "show", "nope"])
    assert missing.exit_code == 2 and "not a built-in suite" in missing.output
