"""`arena models list|check` and `arena generate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from adapters.config import ModelCatalog, load_models_file
from adapters.errors import AdapterError, ConfigError


def _catalog(models_file: Path | None) -> ModelCatalog:
    from arena.settings import get_settings

    path = models_file or get_settings().models_file
    try:
        return load_models_file(path)
    except ConfigError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc


ModelsFileOpt = Annotated[Path | None, typer.Option("--models-file", help="Models YAML (default: settings)")]


def _parse_size(size: str | None) -> tuple[int | None, int | None]:
    if not size:
        return None, None
    try:
        w, h = size.lower().split("x")
        return int(w), int(h)
    except ValueError as exc:
        raise typer.BadParameter("size must look like 320x192 (width x height)") from exc


def register(app: typer.Typer) -> None:
    models = typer.Typer(no_args_is_help=True, help="The models of the arena.")
    app.add_typer(models, name="models")

    @models.command("list")
    def list_models(models_file: ModelsFileOpt = None, as_json: bool = typer.Option(False, "--json")) -> None:
        """Every model in the models file."""
        catalog = _catalog(models_file)
        rows = [
            s.model_dump(include={"id", "display_name", "organisation", "licence", "kind", "enabled"})
            for s in catalog.specs
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        typer.echo(f"{'id':<24} {'kind':<15} {'enabled':<8} {'organisation':<18} display name")
        for r in rows:
            typer.echo(
                f"{r['id']:<24} {r['kind']:<15} {'yes' if r['enabled'] else 'no':<8} "
                f"{r['organisation']:<18} {r['display_name']}"
            )

    @models.command("check")
    def check_models(models_file: ModelsFileOpt = None, as_json: bool = typer.Option(False, "--json")) -> None:
        """Whether each model can run here (weights found? server reachable?)."""
        catalog = _catalog(models_file)
        results = []
        for spec in catalog.specs:
            try:
                availability = catalog.build(spec.id).check()
                ok, detail = availability.ok, availability.detail
            except (AdapterError, ConfigError, ImportError, TypeError, KeyError) as exc:
                ok, detail = False, str(exc)
            results.append({"id": spec.id, "kind": spec.kind, "enabled": spec.enabled, "ok": ok, "detail": detail})
        if as_json:
            typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
            return
        for r in results:
            mark = typer.style("ok  ", fg="green") if r["ok"] else typer.style("FAIL", fg="red")
            typer.echo(f"{mark} {r['id']:<24} {r['kind']:<15} {r['detail']}")

    @app.command("generate")
    def generate(
        model_id: str,
        prompt: str,
        out: Annotated[Path, typer.Option("--out", "-o", help="Output MP4 path")] = Path("clip.mp4"),
        seed: int | None = typer.Option(None, "--seed"),
        frames: int | None = typer.Option(None, "--frames"),
        size: str | None = typer.Option(None, "--size", help="WIDTHxHEIGHT"),
        steps: int | None = typer.Option(None, "--steps"),
        models_file: ModelsFileOpt = None,
    ) -> None:
        """Make one video with one model and write it as MP4."""
        from adapters.base import GenerationRequest
        from adapters.video_io import encode_mp4

        catalog = _catalog(models_file)
        width, height = _parse_size(size)
        request = GenerationRequest(
            prompt=prompt, seed=seed, num_frames=frames, width=width, height=height, steps=steps
        )
        try:
            adapter = catalog.build(model_id)
        except (KeyError, ConfigError, ImportError, TypeError) as exc:
            typer.secho(str(exc).strip('"'), fg="red", err=True)
            raise typer.Exit(2) from exc
        try:
            video = adapter.generate(request)
        except AdapterError as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(1) from exc
        finally:
            adapter.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(encode_mp4(video.frames, video.fps))
        p = video.provenance
        changed = ", ".join(f"{k} {a}->{b}" for k, (a, b) in p.adjustments.items()) or "none"
        typer.echo(
            f"wrote {out}: {video.num_frames} frames {video.size[0]}x{video.size[1]} @ {video.fps:g} fps, "
            f"seed {video.seed}, {p.latency_s:.2f} s; snapped: {changed}"
        )
