"""Pre-generated clips of a model we cannot run (Sora, Kling, Vidu, ...), read from a folder.

Two layouts:

* ``naming: vbench``: VBench's ``{prompt}-{index}.mp4`` (the prompt is the file stem minus ``-index``).
* ``naming: manifest``: a JSONL or CSV file with ``prompt``, ``file`` (relative to ``folder``) and optional
  ``seed`` and ``language``. Default: ``manifest.jsonl`` or ``manifest.csv`` inside the folder.

Prompts match exactly after Unicode NFC and whitespace normalisation. Of several clips for one prompt, the
one whose manifest seed equals the request's seed wins, else clip ``seed % count``. A prompt without a
clip raises :class:`MissingClipError`: a clip is never made up.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from adapters.base import AdapterParams, Availability, Capabilities, RawVideo, ResolvedRequest, VideoAdapter
from adapters.errors import AdapterUnavailableError, ConfigError, GenerationError

MANIFEST_NAMES = ("manifest.jsonl", "manifest.csv")


class MissingClipError(GenerationError):
    """The folder has no clip for the requested prompt (or the manifest names a file that is missing)."""


def normalise_prompt(text: str) -> str:
    """NFC, whitespace runs collapsed to one space, ends stripped. Case and punctuation are kept."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Clip:
    prompt: str  # as written in the file name or manifest
    path: Path
    index: int
    seed: int | None = None
    language: str | None = None


class ImportedClipsParams(AdapterParams):
    folder: str = Field(description="Folder of the clips (relative paths: relative to the models file)")
    naming: Literal["vbench", "manifest"] = "vbench"
    manifest: str | None = Field(default=None, description="JSONL or CSV; default: manifest.jsonl/.csv in folder")

    @model_validator(mode="after")
    def _manifest_needs_naming(self) -> ImportedClipsParams:
        if self.manifest is not None and self.naming != "manifest":
            raise ValueError("manifest is only read with naming: manifest")
        return self


def _scan_vbench(folder: Path) -> tuple[list[Clip], list[str]]:
    clips, ignored = [], []
    for path in sorted(folder.glob("*.mp4")):
        prompt, sep, index = path.stem.rpartition("-")
        if sep and index.isdigit() and prompt.strip():
            clips.append(Clip(prompt=prompt, path=path, index=int(index)))
        else:
            ignored.append(path.name)
    return clips, ignored


def _manifest_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of a JSONL or CSV manifest."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return [(i + 2, dict(row)) for i, row in enumerate(csv.DictReader(io.StringIO(text, newline="")))]
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}: line {lineno}: not valid JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise ConfigError(f"{path}: line {lineno}: expected a JSON object")
        rows.append((lineno, row))
    return rows


def _read_manifest(path: Path, folder: Path) -> list[Clip]:
    clips: list[Clip] = []
    counts: dict[str, int] = {}
    for lineno, row in _manifest_rows(path):
        where = f"{path}: line {lineno}"
        prompt, file = row.get("prompt"), row.get("file")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConfigError(f"{where}: field prompt: missing or empty")
        if not isinstance(file, str) or not file.strip():
            raise ConfigError(f"{where}: field file: missing or empty")
        seed: int | None = None
        if row.get("seed") not in (None, ""):
            try:
                seed = int(row["seed"])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: field seed: not an integer: {row['seed']!r}") from exc
        language = row.get("language") or None
        key = normalise_prompt(prompt)
        clip_path = Path(file).expanduser()
        clips.append(
            Clip(
                prompt=prompt,
                path=clip_path if clip_path.is_absolute() else folder / clip_path,
                index=counts.get(key, 0),
                seed=seed,
                language=str(language) if language else None,
            )
        )
        counts[key] = counts.get(key, 0) + 1
    return clips


class ImportedClipsAdapter(VideoAdapter):
    kind: ClassVar[str] = "imported_clips"
    Params: ClassVar[type[AdapterParams]] = ImportedClipsParams
    live: ClassVar[bool] = False  # only the clips of known prompts: never drawn for a typed prompt
    params: ImportedClipsParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: dict[str, list[Clip]] | None = None
        self._ignored: list[str] = []

    @property
    def folder(self) -> Path:
        return self.resolve_path(self.params.folder)

    def manifest_path(self) -> Path | None:
        if self.params.naming != "manifest":
            return None
        if self.params.manifest is not None:
            return self.resolve_path(self.params.manifest)
        for name in MANIFEST_NAMES:
            if (self.folder / name).is_file():
                return self.folder / name
        return self.folder / MANIFEST_NAMES[0]

    def index(self) -> dict[str, list[Clip]]:
        """Normalised prompt -> its clips in order (built once). No folder or a bad manifest: unavailable."""
        if self._index is None:
            folder = self.folder
            if not folder.is_dir():
                raise AdapterUnavailableError(self.model_id, f"clip folder {folder} does not exist")
            manifest = self.manifest_path()
            if manifest is None:
                clips, self._ignored = _scan_vbench(folder)
            elif not manifest.is_file():
                raise AdapterUnavailableError(self.model_id, f"manifest {manifest} not found")
            else:
                try:
                    clips = _read_manifest(manifest, folder)
                except (ConfigError, OSError, UnicodeDecodeError) as exc:
                    raise AdapterUnavailableError(self.model_id, f"bad manifest: {exc}") from exc
            index: dict[str, list[Clip]] = {}
            for clip in sorted(clips, key=lambda c: c.index):
                index.setdefault(normalise_prompt(clip.prompt), []).append(clip)
            self._index = index
        return self._index

    def available_prompts(self, language: str | None = None) -> list[str]:
        """Prompts with at least one clip on disk (as first written), optionally of one manifest language."""
        out = []
        for clips in self.index().values():
            present = [c for c in clips if c.path.is_file() and (language is None or c.language == language)]
            if present:
                out.append(present[0].prompt)
        return sorted(out)

    def check(self) -> Availability:
        try:
            index = self.index()
        except AdapterUnavailableError as exc:
            return Availability(ok=False, detail=exc.reason)
        clips = [c for cs in index.values() for c in cs]
        missing = sum(not c.path.is_file() for c in clips)
        found = len(clips) - missing
        notes = [f"{missing} listed file(s) missing"] if missing else []
        if self._ignored:
            notes.append(f"{len(self._ignored)} file(s) not named {{prompt}}-{{index}}.mp4 ignored")
        detail = f"{found} clip(s) for {len(self.available_prompts())} prompt(s) in {self.folder}"
        return Availability(ok=found > 0, detail=detail + (f" ({'; '.join(notes)})" if notes else ""))

    def capabilities(self) -> Capabilities:
        # Clips come as they are: size and length are whatever the files hold (recorded in provenance).
        return Capabilities(max_concurrency=4)

    def pick(self, prompt: str, seed: int) -> Clip:
        """The clip for ``prompt``: the one with manifest seed ``seed``, else clip ``seed % count``."""
        key = normalise_prompt(prompt)
        clips = self.index().get(key)
        if not clips:
            close = difflib.get_close_matches(key, list(self.index()), n=1)
            hint = f"; closest prompt with clips: {close[0]!r}" if close else ""
            raise MissingClipError(
                self.model_id, f"no clip for prompt {prompt!r} in {self.folder} ({len(self.index())} prompts){hint}"
            )
        by_seed = [c for c in clips if c.seed == seed]
        clip = by_seed[0] if by_seed else clips[seed % len(clips)]
        if not clip.path.is_file():
            raise MissingClipError(self.model_id, f"clip file {clip.path} for prompt {prompt!r} is missing")
        return clip

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        from adapters.video_io import content_hash, decode_mp4

        clip = self.pick(request.prompt, request.seed)
        data = clip.path.read_bytes()
        try:
            frames, fps = decode_mp4(data)
        except ValueError as exc:
            raise GenerationError(self.model_id, f"clip {clip.path} is not a readable video: {exc}") from exc
        actual = {
            "num_frames": int(frames.shape[0]),
            "width": int(frames.shape[2]),
            "height": int(frames.shape[1]),
            "fps": fps or request.fps,
            "steps": None,
            "guidance": None,
            "clip_file": clip.path.name,
            "clip_index": clip.index,
            "clip_seed": clip.seed,
            "clip_sha256": content_hash(data),
        }
        return RawVideo(frames=frames, layout="FHWC", fps=fps or None, details={"params": actual})
