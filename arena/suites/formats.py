"""One loader per prompt-file format, behind one interface (:class:`SuiteFormat`) and one registry.

* ``yaml``: our own format (``suite``, ``description``, ``prompts: [{id, category, tags, en, zh}]``);
* ``text``: one prompt per line (``#`` starts a comment); the language of each line is guessed;
* ``jsonl`` / ``csv``: one row per prompt, columns ``id``, ``category``, ``tags``, ``en``, ``zh``, or ``prompt``
  (or ``text``) with an optional ``language``; rows sharing an id are translations of one prompt;
* ``vbench``: VBench's prompt files: the all-dimension list (``all_dimension.txt``, with ``all_dimension_cn.txt``
  beside it read as the parallel Chinese), a per-dimension list (``color.txt``: the stem is the dimension), a
  folder of per-dimension lists (``prompts_per_dimension/``, with ``prompts_per_dimension_chinese/`` beside it),
  or ``VBench_full_info.json`` (``prompt_en`` + ``dimension`` list).

Every problem is a :class:`ConfigError` naming the file (and the line or row).
"""

from __future__ import annotations

import abc
import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from adapters.errors import ConfigError
from adapters.language import guess_language
from adapters.registry import Registry
from arena.jsonlines import parse_object
from arena.suites.model import LANGUAGES, Suite, SuitePrompt, prompt_id, suite_name

VBENCH_DIMENSIONS = frozenset(
    {
        "subject_consistency",
        "background_consistency",
        "temporal_flickering",
        "motion_smoothness",
        "dynamic_degree",
        "aesthetic_quality",
        "imaging_quality",
        "object_class",
        "multiple_objects",
        "human_action",
        "color",
        "spatial_relationship",
        "scene",
        "temporal_style",
        "appearance_style",
        "overall_consistency",
    }
)


class SuiteFormat(abc.ABC):
    """Reads one kind of prompt file into a :class:`Suite`. ``name`` defaults to one made from the file name."""

    @abc.abstractmethod
    def read(self, path: Path, name: str | None = None) -> Suite: ...


def _build(name: str, description: str, prompts: Iterable[Mapping[str, Any]], source: Path) -> Suite:
    try:
        return Suite(suite=name, description=description, prompts=[SuitePrompt.model_validate(p) for p in prompts])
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid prompt suite: {exc}") from exc


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the non-blank, non-comment lines."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#"):
            out.append((number, text))
    return out


class YamlFormat(SuiteFormat):
    def read(self, path: Path, name: str | None = None) -> Suite:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            suite = Suite.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: invalid prompt suite: {exc}") from exc
        return suite.model_copy(update={"suite": name}) if name else suite


class TextFormat(SuiteFormat):
    def read(self, path: Path, name: str | None = None) -> Suite:
        rows = [{"prompt": text, "line": number} for number, text in _lines(path)]
        return _from_rows(rows, name or suite_name(path.stem), path)


def _from_rows(rows: Iterable[Mapping[str, Any]], name: str, source: Path) -> Suite:
    """Rows of JSONL/CSV/text into a suite: bilingual rows (en/zh) or one text per row merged by id."""
    merged: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows, 1):
        where = f"{source}: row {row.get('line', index)}"
        texts = {lang: str(row[lang]).strip() for lang in LANGUAGES if row.get(lang)}
        single = row.get("prompt") or row.get("text")
        if single:
            language = str(row.get("language") or guess_language(str(single)))
            if language not in LANGUAGES:
                raise ConfigError(f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}")
            texts[language] = str(single).strip()
        if not texts:
            raise ConfigError(f"{where}: no prompt text (columns en, zh, prompt or text)")
        key = str(row.get("id") or prompt_id(texts.get("en") or next(iter(texts.values()))))
        tags = row.get("tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.replace("|", ";").split(";") if t.strip()]
        entry = merged.setdefault(key, {"id": key, "category": row.get("category") or "general", "tags": tags})
        for language, text in texts.items():
            if entry.get(language) not in (None, text):
                raise ConfigError(f"{where}: prompt {key!r} has two different {language} texts")
            entry[language] = text
    return _build(name, "", merged.values(), source)


class JsonlFormat(SuiteFormat):
    def read(self, path: Path, name: str | None = None) -> Suite:
        rows = []
        for number, text in _lines(path):
            try:
                row = parse_object(text, f"{path}: line {number}")
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            rows.append({**row, "line": number})
        return _from_rows(rows, name or suite_name(path.stem), path)


class CsvFormat(SuiteFormat):
    def read(self, path: Path, name: str | None = None) -> Suite:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [{**row, "line": number} for number, row in enumerate(reader, 2)]
        return _from_rows(rows, name or suite_name(path.stem), path)


class VBenchFormat(SuiteFormat):
    def read(self, path: Path, name: str | None = None) -> Suite:
        if path.is_dir():
            return self._folder(path, name)
        if path.suffix == ".json":
            return self._full_info(path, name)
        return self._lists([path], name or suite_name(f"vbench-{path.stem}"), path)

    def _folder(self, folder: Path, name: str | None) -> Suite:
        files = sorted(p for p in folder.glob("*.txt") if p.stem in VBENCH_DIMENSIONS)
        if not files:
            raise ConfigError(f"{folder}: no VBench per-dimension lists (e.g. color.txt) in this folder")
        return self._lists(files, name or "vbench", folder)

    def _lists(self, files: list[Path], name: str, source: Path) -> Suite:
        prompts: dict[str, dict[str, Any]] = {}
        for path in files:
            english = [text for _, text in _lines(path)]
            chinese = self._parallel_chinese(path, len(english))
            dimension = path.stem if path.stem in VBENCH_DIMENSIONS else "vbench"
            for index, text in enumerate(english):
                language = "zh" if guess_language(text) == "zh" else "en"  # a Chinese list read on its own
                entry = prompts.setdefault(text, {"id": prompt_id(text), "category": dimension, "tags": []})
                entry[language] = text
                if chinese:
                    entry.setdefault("zh", chinese[index])
                if dimension != "vbench" and dimension not in entry["tags"]:
                    entry["tags"].append(dimension)
        return _build(name, f"VBench prompts from {source.name}", prompts.values(), source)

    @staticmethod
    def _parallel_chinese(path: Path, count: int) -> list[str]:
        """VBench's Chinese translations, line by line: `<stem>_cn.txt` beside, or `<folder>_chinese/<name>`."""
        for candidate in (path.with_name(f"{path.stem}_cn.txt"), path.parent.with_name(f"{path.parent.name}_chinese")):
            candidate = candidate / path.name if candidate.is_dir() else candidate
            if candidate.is_file():
                lines = [text for _, text in _lines(candidate)]
                if len(lines) != count:
                    raise ConfigError(f"{candidate}: {len(lines)} lines, but {path} has {count}: not parallel")
                return lines
        return []

    def _full_info(self, path: Path, name: str | None) -> Suite:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not JSON: {exc}") from exc
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a list of {{prompt_en, dimension}} objects")
        prompts: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(data):
            text = item.get("prompt_en") if isinstance(item, dict) else None
            if not text:
                raise ConfigError(f"{path}: entry {index}: no prompt_en")
            dims = [d for d in item.get("dimension") or [] if isinstance(d, str)]
            entry = prompts.setdefault(
                text, {"id": prompt_id(text), "category": dims[0] if dims else "vbench", "tags": [], "en": text}
            )
            if item.get("prompt_cn"):
                entry["zh"] = item["prompt_cn"]
            entry["tags"] += [d for d in dims if d not in entry["tags"]]
        return _build(name or "vbench", f"VBench prompts from {path.name}", prompts.values(), path)


def suite_formats() -> Registry[SuiteFormat]:
    """A fresh registry of every prompt-file format."""
    registry: Registry[SuiteFormat] = Registry("prompt-file format", SuiteFormat)
    for name, cls in (
        ("yaml", YamlFormat),
        ("text", TextFormat),
        ("jsonl", JsonlFormat),
        ("csv", CsvFormat),
        ("vbench", VBenchFormat),
    ):
        registry.register(name, cls)
    return registry


SUFFIXES: Mapping[str, str] = {".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl", ".csv": "csv", ".json": "vbench"}


def guess_format(path: Path) -> str:
    """The format of a prompt file from its name: VBench lists are `.txt` files named after a dimension or
    `all_dimension*`, or a folder of them."""
    if path.is_dir():
        return "vbench"
    if path.suffix == ".txt":
        return "vbench" if path.stem in VBENCH_DIMENSIONS or path.stem.startswith("all_dimension") else "text"
    if path.suffix in SUFFIXES:
        return SUFFIXES[path.suffix]
    known = ", ".join([*SUFFIXES, ".txt"])
    raise ConfigError(f"{path}: unknown prompt-file type {path.suffix!r} (known: {known}; or name a format)")
