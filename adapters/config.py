"""The models file: YAML declaring every model of the arena, validated with pydantic.

A bad entry gives a :class:`ConfigError` naming the file, the entry and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.base import VideoAdapter
from adapters.errors import ConfigError
from adapters.kinds import adapter_kinds
from adapters.registry import Registry, UnknownNameError


class ModelSpec(BaseModel):
    """One model of the arena, as declared in the models file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    display_name: str
    organisation: str = "unknown"
    licence: str = "unknown"
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    description: str = ""
    in_house: bool = False

    @field_validator("display_name", "organisation", "licence")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelSpec]


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


class ModelCatalog:
    """The validated models of one file, and a factory for their adapters."""

    def __init__(
        self,
        specs: list[ModelSpec],
        source: str,
        kinds: Registry[VideoAdapter] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.source = source
        self.base_dir = base_dir or Path.cwd()
        self.kinds = kinds or adapter_kinds()
        self._specs = {s.id: s for s in specs}

    @property
    def specs(self) -> list[ModelSpec]:
        return list(self._specs.values())

    def enabled(self) -> list[ModelSpec]:
        return [s for s in self._specs.values() if s.enabled]

    def get(self, model_id: str) -> ModelSpec:
        if model_id not in self._specs:
            raise KeyError(f"no model {model_id!r} in {self.source}; known: {', '.join(sorted(self._specs))}")
        return self._specs[model_id]

    def build(self, model_id: str) -> VideoAdapter:
        """Instantiate the adapter of ``model_id`` (cheap: weights load on first generate)."""
        spec = self.get(model_id)
        cls = self.kinds.get(spec.kind)
        try:
            return cls.from_config(spec.id, spec.params, base_dir=self.base_dir)
        except ValidationError as exc:
            raise _config_error(self.source, spec.id, exc, prefix=("params",)) from exc


def _config_error(source: str, entry: str, exc: ValidationError, prefix: tuple[Any, ...] = ()) -> ConfigError:
    lines = [f"{source}: model {entry!r}:"]
    for err in exc.errors():
        lines.append(f"  field {_where(prefix + tuple(err['loc']))}: {err['msg']}")
    return ConfigError("\n".join(lines))


def parse_models(
    data: Any, source: str, kinds: Registry[VideoAdapter] | None = None, base_dir: Path | None = None
) -> ModelCatalog:
    """Validate parsed YAML data into a catalog; every problem names ``source``, the entry and the field."""
    kinds = kinds or adapter_kinds()
    if not isinstance(data, dict) or "models" not in data:
        raise ConfigError(f"{source}: expected a mapping with a 'models' list at the top level")
    raw_models = data["models"]
    if not isinstance(raw_models, list):
        raise ConfigError(f"{source}: 'models' must be a list")
    specs: list[ModelSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_models):
        entry = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
        try:
            spec = ModelSpec.model_validate(raw)
        except ValidationError as exc:
            raise _config_error(source, str(entry), exc) from exc
        if spec.id in seen:
            raise ConfigError(f"{source}: model {spec.id!r}: field id: duplicate id")
        seen.add(spec.id)
        if spec.kind not in kinds:
            try:
                kinds.get(spec.kind)
            except UnknownNameError as exc:
                raise ConfigError(f"{source}: model {spec.id!r}: field kind: {exc}") from exc
        try:
            cls = kinds.get(spec.kind)
        except ImportError:  # the kind's module cannot load here: `build`/`check` report it for this model only
            specs.append(spec)
            continue
        try:
            cls.Params.model_validate(spec.params)
        except ValidationError as exc:
            raise _config_error(source, spec.id, exc, prefix=("params",)) from exc
        specs.append(spec)
    in_house = [s.id for s in specs if s.in_house]
    if len(in_house) > 1:
        raise ConfigError(
            f"{source}: field in_house: only one model may be the in-house model, but {', '.join(map(repr, in_house))}"
            " all set in_house: true (keep it on one, or set ARENA_IN_HOUSE_MODEL)"
        )
    return ModelCatalog(specs, source, kinds, base_dir)


def load_models_file(path: str | Path, kinds: Registry[VideoAdapter] | None = None) -> ModelCatalog:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: models file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_models(data, str(path), kinds, base_dir=path.resolve().parent)
