"""`arena pool fill|status`: pre-generate the battle pool (every model, every suite prompt, identical settings)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    pool = typer.Typer(no_args_is_help=True, help="The pre-generated pool that battles are served from.")
    app.add_typer(pool, name="pool")

    @pool.command("fill")
    def fill(
        model: Annotated[list[str] | None, typer.Option("--model", "-m", help="Model id (repeatable)")] = None,
        prompts: Annotated[int | None, typer.Option("--prompts", min=1, help="Only the first N suite prompts")] = None,
        seeds: Annotated[
            int | None,
            typer.Option("--seeds", min=1, help="Seeds per (model, prompt) (default: ARENA_DEFAULT_SEED_COUNT)"),
        ] = None,
    ) -> None:
        """Generate every missing pool video (resumable: stored videos are skipped). Default: all enabled models."""
        from tqdm import tqdm

        from arena.services.container import Arena
        from arena.settings import get_settings

        arena = Arena.create(get_settings())
        try:
            models = model or [s.id for s in arena.catalog.enabled()]
            unknown = sorted(set(models) - {s.id for s in arena.catalog.enabled()})
            if unknown:
                typer.secho(f"unknown or disabled model(s): {', '.join(unknown)}", fg="red", err=True)
                raise typer.Exit(2)
            with tqdm(desc="pool", unit="video") as bar:

                def step(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                report = arena.pool_videos.fill(models=models, limit_prompts=prompts, seeds=seeds, progress=step)
        finally:
            arena.close()
        typer.echo(f"{report.stored} of {report.jobs} pool videos are stored")
        for model_id in report.skipped_models:
            reason = next(r for m, _, r in report.failures if m == model_id)
            typer.secho(f"skipped {model_id}: {reason}", fg="yellow")
        failed = [f for f in report.failures if f[0] not in report.skipped_models]
        for model_id, prompt_id, reason in failed[:20]:
            typer.secho(f"failed {model_id} on prompt {prompt_id}: {reason}", fg="red")
        if report.failures:
            raise typer.Exit(1)

    @pool.command("status")
    def status(as_json: bool = typer.Option(False, "--json")) -> None:
        """Stored videos per model and how many suite prompts they cover."""
        from arena.services.container import Arena
        from arena.settings import get_settings

        arena = Arena.create(get_settings())
        try:
            rows = arena.pool_videos.status()
        finally:
            arena.close()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        typer.echo(f"{'model':<24} {'kind':<15} {'enabled':<8} {'videos':>7} {'prompts covered':>16}")
        for r in rows:
            covered = f"{r['prompts']}/{r['suite_prompts']}"
            typer.echo(
                f"{r['model']:<24} {r['kind']:<15} {'yes' if r['enabled'] else 'no':<8} {r['videos']:>7} {covered:>16}"
            )
