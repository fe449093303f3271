"""`arena calibrate [--json]`: a smoke run of the demo generators through the whole arena, against a known order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("calibrate")
    def calibrate(
        as_json: Annotated[bool, typer.Option("--json", help="The report as JSON (kendall_tau at the top)")] = False,
        quick: Annotated[
            bool, typer.Option("--quick", help="Fewer voters, votes and prompts (about 3x faster)")
        ] = False,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated voters")] = 0,
        encoder: Annotated[str | None, typer.Option("--encoder", help="Metrics encoder (default: shapes-clip)")] = None,
        matchmaking: Annotated[
            str, typer.Option("--matchmaking", help="uniform (every pair gets votes) or adaptive (the arena's default)")
        ] = "uniform",
        keep: Annotated[Path | None, typer.Option("--keep", help="Keep the run's database and media here")] = None,
    ) -> None:
        """Generate a pool of demo generators with known defects, score it, let simulated voters vote through the
        JSON API of a real server on 127.0.0.1, and report what the arena recovered. Exit 1 when a check fails."""
        from dataclasses import replace

        from arena.simulation.calibrate import Plan
        from arena.simulation.calibrate import calibrate as run
        from arena.simulation.report import render

        if matchmaking not in ("uniform", "adaptive"):
            typer.secho(f"--matchmaking: 'uniform' or 'adaptive', not {matchmaking!r}", fg="red", err=True)
            raise typer.Exit(2)
        plan = Plan(seed=seed, matchmaking="uniform" if matchmaking == "uniform" else "adaptive")
        plan = plan.quick() if quick else plan
        if encoder:
            plan = replace(plan, encoder=encoder)
        say = None if as_json else (lambda msg: typer.secho(f"... {msg}", fg="cyan", err=True))
        report = run(plan, workdir=keep, progress=say)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        else:
            typer.echo(render(report))
        if not report.passed:
            raise typer.Exit(1)
