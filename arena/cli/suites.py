"""`arena suites list|show`: the built-in prompt suites, and any prompt file (YAML, VBench, text, JSONL, CSV)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

FormatOption = Annotated[
    str | None, typer.Option("--format", help="yaml | vbench | text | jsonl | csv (default: from the file name)")
]


def register(app: typer.Typer) -> None:
    suites = typer.Typer(no_args_is_help=True, help="Prompt suites: built-in ones and prompt files.")
    app.add_typer(suites, name="suites")

    @suites.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """The built-in suites: prompts, languages and categories."""
        from arena.suites import builtin_suites, load_suite

        rows: list[dict[str, Any]] = []
        for name, path in builtin_suites().items():
            suite = load_suite(path, "yaml")
            rows.append(
                {
                    "suite": name,
                    "prompts": len(suite.prompts),
                    "languages": suite.languages(),
                    "categories": suite.categories(),
                    "description": suite.description,
                }
            )
        if as_json:
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        typer.echo(f"{'suite':<10} {'prompts':>7}  {'languages':<9}  categories")
        for r in rows:
            categories = ", ".join(f"{c} {n}" for c, n in r["categories"].items())
            typer.echo(f"{r['suite']:<10} {r['prompts']:>7}  {'+'.join(r['languages']):<9}  {categories}")

    @suites.command("show")
    def show(
        ref: Annotated[str, typer.Argument(help="a built-in suite name or a prompt file (or VBench folder)")],
        file_format: FormatOption = None,
        category: Annotated[list[str] | None, typer.Option("--category", "-c", help="only these (repeatable)")] = None,
        language: Annotated[str | None, typer.Option("--language", help="en | zh: only this language")] = None,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Every prompt of a suite with its category, tags and texts."""
        from adapters.errors import ConfigError
        from arena.suites import resolve_suite

        try:
            suite = resolve_suite(ref, file_format).select(category)
        except (ConfigError, KeyError) as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(2) from exc
        prompts = [p.model_dump(exclude_none=True) for p in suite.prompts]
        if language:
            prompts = [{k: v for k, v in p.items() if k not in ("en", "zh") or k == language} for p in prompts]
            prompts = [p for p in prompts if language in p]
        if as_json:
            body = {"suite": suite.suite, "description": suite.description, "prompts": prompts}
            typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
            return
        typer.echo(f"{suite.suite}: {len(prompts)} prompts; {suite.description}".rstrip("; "))
        for p in prompts:
            tags = f" [{', '.join(p['tags'])}]" if p.get("tags") else ""
            typer.echo(f"- {p['id']} ({p['category']}){tags}")
            for lang in ("en", "zh"):
                if lang in p:
                    typer.echo(f"    {lang}: {p[lang]}")
