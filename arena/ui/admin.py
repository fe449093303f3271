"""The Admin tab: a separate Blocks mounted at /admin behind the admin secret (Gradio's login), never part of the
public page (an event of the public Blocks is callable by anyone, whatever the page shows). Off without a secret.

Models (switch on and off, retry a failed load), the generation queue, board exclusions, suspicious sessions,
rate-limit refusals, voiding a battle, the vote export and the integrity check. Every action goes through
:class:`arena.services.admin.AdminService`, as the admin API does.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from arena.services.container import Arena
from arena.services.views import Refusal


def _frame(rows: list[Any], empty: type | None = None) -> pd.DataFrame:
    if rows:
        return pd.DataFrame([asdict(r) for r in rows])
    return pd.DataFrame(columns=[f.name for f in fields(empty)] if empty else [])


def _safely(action: Callable[[], str]) -> str:
    try:
        return action()
    except Refusal as exc:
        gr.Warning(exc.reason)
        return f"Refused: {exc.reason}"


def build_admin(arena: Arena) -> gr.Blocks:
    admin = arena.admin
    from arena.services.admin import Exclusion, ModelRow, WaitingJob
    from arena.services.limits import LimitHit
    from arena.services.suspicious import SuspiciousSession

    with gr.Blocks(title="Video Arena · Admin", analytics_enabled=False) as blocks:
        gr.Markdown("# Video Arena · Admin")
        message = gr.Markdown("")
        with gr.Tab("Models"):
            models = gr.Dataframe(_frame(admin.models(), ModelRow), interactive=False, wrap=True)
            with gr.Row():
                model_id = gr.Textbox(label="Model id", scale=2)
                enable, disable, follow, retry = (
                    gr.Button("Enable"),
                    gr.Button("Disable"),
                    gr.Button("As the models file says"),
                    gr.Button("Retry loading now"),
                )
        with gr.Tab("Queue"):
            lines = gr.Dataframe(interactive=False)
            jobs = gr.Dataframe(_frame([], WaitingJob), interactive=False)
            refresh_queue = gr.Button("Refresh")
        with gr.Tab("Board exclusions"):
            exclusions = gr.Dataframe(_frame(admin.exclusions(), Exclusion), interactive=False)
            with gr.Row():
                kind = gr.Radio(["session", "ip_hash"], value="session", label="Kind")
                value = gr.Textbox(label="Session id or IP hash", scale=2)
                reason = gr.Textbox(label="Reason", scale=2)
            with gr.Row():
                exclude, lift = gr.Button("Keep off the board", variant="stop"), gr.Button("Count again")
        with gr.Tab("Suspicious sessions"):
            suspicious = gr.Dataframe(_frame([], SuspiciousSession), interactive=False, wrap=True)
            refresh_suspicious = gr.Button("Look again")
        with gr.Tab("Rate limits"):
            hits = gr.Dataframe(_frame([], LimitHit), interactive=False)
            refresh_hits = gr.Button("Refresh")
        with gr.Tab("Battles"):
            battle_id = gr.Textbox(label="Battle id")
            void_reason = gr.Textbox(label="Reason")
            void = gr.Button("Void this battle", variant="stop")
        with gr.Tab("Export and check"):
            export = gr.Button("Export every vote (JSONL)")
            export_file = gr.File(label="votes.jsonl", interactive=False)
            check = gr.Button("Run the integrity check")
            report = gr.JSON()

    def model_action(enabled: bool | None, retry_load: bool = False) -> Callable[[str], tuple[str, pd.DataFrame]]:
        def act(mid: str) -> tuple[str, pd.DataFrame]:
            def run() -> str:
                if retry_load:
                    admin.retry(mid.strip())
                    return f"{mid}: the next job tries to load it again"
                admin.set_enabled(mid.strip(), enabled)
                return f"{mid}: enabled = {enabled if enabled is not None else 'as the models file says'}"

            return _safely(run), _frame(admin.models(), ModelRow)

        return act

    def queue_view() -> tuple[pd.DataFrame, pd.DataFrame]:
        return pd.DataFrame([asdict(line) for line in arena.queue.lines()]), _frame(admin.waiting_jobs(), WaitingJob)

    def change_exclusion(add: bool) -> Callable[[str, str, str], tuple[str, pd.DataFrame]]:
        def act(k: str, v: str, why: str) -> tuple[str, pd.DataFrame]:
            def run() -> str:
                if add:
                    return f"{admin.exclude(k, v.strip(), why)} votes of {k} {v.strip()} are off the board"
                return f"{admin.include(k, v.strip())} votes of {k} {v.strip()} count again"

            return _safely(run), _frame(admin.exclusions(), Exclusion)

        return act

    def void_battle(bid: str, why: str) -> str:
        return _safely(lambda: f"battle {bid.strip()}: {admin.void(bid.strip(), why)}")

    def export_votes() -> str:
        path = Path(tempfile.mkdtemp(prefix="arena-export-")) / f"votes-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        admin.export(path)
        return str(path)

    def integrity() -> dict[str, Any]:
        found = admin.integrity()
        return json.loads(json.dumps({"ok": found.ok, "database": found.database, "problems": found.problems}))

    with blocks:  # named events: behind the login like the page (gradio_client with auth= can call them)
        for button, act, name in (
            (enable, model_action(True), "enable_model"),
            (disable, model_action(False), "disable_model"),
            (follow, model_action(None), "follow_models_file"),
            (retry, model_action(None, retry_load=True), "retry_model"),
        ):
            button.click(act, model_id, [message, models], api_name=name)
        refresh_queue.click(queue_view, None, [lines, jobs], api_name="queue")
        exclude.click(change_exclusion(True), [kind, value, reason], [message, exclusions], api_name="exclude")
        lift.click(change_exclusion(False), [kind, value, reason], [message, exclusions], api_name="include")
        refresh_suspicious.click(
            lambda: _frame(admin.suspicious(), SuspiciousSession), None, suspicious, api_name="suspicious"
        )
        refresh_hits.click(lambda: _frame(admin.rate_limit_hits(), LimitHit), None, hits, api_name="rate_limits")
        void.click(void_battle, [battle_id, void_reason], message, api_name="void_battle")
        export.click(export_votes, None, export_file, api_name="export_votes")
        check.click(integrity, None, report, api_name="integrity")
        blocks.load(queue_view, None, [lines, jobs], api_name=False)
    return blocks
