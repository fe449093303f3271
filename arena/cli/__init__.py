"""The `arena` command. Each command group lives in its own module; heavy libraries load inside commands."""

from __future__ import annotations

import os

import typer

from arena.cli import bench as bench_cmd
from arena.cli import calibrate as calibrate_cmd
from arena.cli import metrics as metrics_cmd
from arena.cli import models as models_cmd
from arena.cli import pool as pool_cmd
from arena.cli import ratings as ratings_cmd
from arena.cli import serve as serve_cmd
from arena.cli import suites as suites_cmd
from arena.cli import votes as votes_cmd


def build_app() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False, help="The video arena.")
    models_cmd.register(app)
    bench_cmd.register(app)
    calibrate_cmd.register(app)
    pool_cmd.register(app)
    ratings_cmd.register(app)
    metrics_cmd.register(app)
    serve_cmd.register(app)
    suites_cmd.register(app)
    votes_cmd.register(app)
    return app


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub loads: never reach for the network
    build_app()()
