"""The web server: the JSON API and media routes (arena.api) with the Gradio UI mounted at "/", under uvicorn.

Behind a reverse proxy: pass ``root_path`` (the public path prefix); uvicorn trusts X-Forwarded-* only from the
peers in ``FORWARDED_ALLOW_IPS`` (default: loopback; addresses or networks, never ``*``: see trusted_proxies).
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from arena.api import create_api
from arena.api_errors import error_response
from arena.services.container import Arena
from arena.settings import Settings
from arena.ui import build_ui, mount_options

log = logging.getLogger(__name__)

SHARE_TIMEOUT_S = 8.0
QUEUE_POLL_S = 0.02  # how often an idle Gradio queue looks for new events
PROGRESS_POLL_S = 0.05  # ... and for progress updates to send


def create_app(arena: Arena, *, root_path: str = "") -> FastAPI:
    """FastAPI app: /api/*, /media/*, /healthz, the Admin tab at /admin (behind the admin secret; off without
    one), and the Gradio Blocks at "/"."""
    app = create_api(arena)
    mount_admin(app, arena, root_path)
    blocks = build_ui(arena)
    blocks.queue(default_concurrency_limit=arena.settings.workers, max_size=arena.settings.queue_size)
    app.state.gradio_events = {**getattr(app.state, "gradio_events", {}), "": frozenset(blocks.fns)}  # EventGuard
    return gr.mount_gradio_app(app, calm_queue(blocks), path="/", root_path=root_path or None, **mount_options())


def calm_queue(blocks: gr.Blocks) -> gr.Blocks:
    """Gradio's queue looks for new events every 1 ms while idle, and for progress every 10 ms (on Linux; 50 and
    100 ms on Windows): measured, ~8 % of a core per Blocks doing nothing, on the event loop that also answers the
    API. Look every ``QUEUE_POLL_S`` / ``PROGRESS_POLL_S`` instead (a UI event may start that much later)."""
    queue = getattr(blocks, "_queue", None)
    if queue is None or not hasattr(queue, "sleep_when_free"):
        log.warning("Gradio's queue has no sleep_when_free any more: its idle polling is left as it is")
        return blocks
    queue.sleep_when_free = max(queue.sleep_when_free, QUEUE_POLL_S)
    queue.progress_update_sleep_when_free = max(getattr(queue, "progress_update_sleep_when_free", 0.0), PROGRESS_POLL_S)
    return blocks


def mount_admin(app: FastAPI, arena: Arena, root_path: str = "") -> None:
    """The Admin Blocks at /admin with Gradio's login (mounted before "/", which would otherwise answer), or, with
    no admin secret, a refusal there."""
    if not arena.admin.auth.enabled:

        @app.get("/admin", include_in_schema=False)
        @app.get("/admin/{rest:path}", include_in_schema=False)
        def admin_off(rest: str = "") -> JSONResponse:
            return error_response("admin_off", "the admin is off on this arena (no admin password is set)", 403)

        return
    from arena.ui.admin import build_admin

    admin = build_admin(arena)
    app.state.gradio_events = {**getattr(app.state, "gradio_events", {}), "/admin": frozenset(admin.fns)}
    gr.mount_gradio_app(
        app,
        calm_queue(admin),
        path="/admin",
        root_path=f"{root_path}/admin" if root_path else None,
        auth=lambda _user, password: arena.admin.auth.password_ok(password),
        auth_message="The admin secret (ARENA_ADMIN_PASSWORD); any user name.",
        show_error=False,
        enable_monitoring=False,
        footer_links=[],
    )


def start_prefill(arena: Arena, then: Callable[[], None] | None = None) -> threading.Thread | None:
    """Fill the demo pool in the background (stored videos are skipped), then score the unscored videos, then
    call ``then`` (the demo crowd); battles start as soon as some videos exist."""
    if not arena.settings.pool_prefill:
        return None

    def work() -> None:
        try:
            report = arena.pool_videos.fill()
            log.info("demo pool ready: %d of %d videos", report.stored, report.jobs)
        except Exception:
            log.exception("prefilling the demo pool failed")
            return
        if arena.settings.score_on_start:
            try:
                from arena.services.scoring import ScoringService

                scored, _ = ScoringService.configured(arena.factory, arena.settings).score_all()
                log.info("metric scores: %d videos scored", scored)
            except Exception:
                log.exception("scoring the pool failed (see `arena score`)")
        if then is not None:
            try:
                then()
            except Exception:
                log.exception("the demo crowd failed (its board stays as it is)")

    thread = threading.Thread(target=work, name="arena-prefill", daemon=True)
    thread.start()
    return thread


def start_spares(
    arena: Arena, idle_s: float = 2.0, pass_s: float = 60.0, stop: threading.Event | None = None
) -> threading.Thread:
    """Keep re-encoded copies of the pool's clips ready, so battles rarely re-encode on their request: the copies
    battles take are replaced as they are taken, and every ``pass_s`` seconds every clip's are counted (new clips,
    copies a crashed process took). Runs until ``stop`` is set (default: for the process's life)."""
    halt = stop or threading.Event()

    def work() -> None:
        next_pass = 0.0
        while not halt.is_set():
            try:
                if time.monotonic() >= next_pass:
                    arena.spares.fill()
                    next_pass = time.monotonic() + pass_s
                arena.spares.refill(timeout=idle_s)
            except Exception:
                log.exception("preparing spare copies failed")
                halt.wait(idle_s)

    thread = threading.Thread(target=work, name="arena-spares", daemon=True)
    thread.start()
    return thread


def start_pruning(arena: Arena, every_s: float = 600.0) -> threading.Thread:
    """Delete served battle copies once they outlive the battle TTL, every ``every_s`` seconds."""

    def work() -> None:
        while True:
            try:
                removed = arena.media.prune_served(arena.settings.battle_ttl_s)
                if removed:
                    log.info("pruned %d served battle copies", removed)
            except OSError:
                log.exception("pruning served copies failed")
            time.sleep(every_s)

    thread = threading.Thread(target=work, name="arena-prune", daemon=True)
    thread.start()
    return thread


def open_share_link(port: int, timeout_s: float = SHARE_TIMEOUT_S) -> tuple[str | None, str]:
    """Ask Gradio's share server for a public link, giving up after ``timeout_s``; returns (url, message)."""
    from gradio import networking

    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["url"] = networking.setup_tunnel("127.0.0.1", port, secrets.token_urlsafe(32), None, None)
        except Exception as exc:  # no internet, no frpc binary, share server down
            result["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=work, name="arena-share", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if result.get("url"):
        return str(result["url"]), f"Public share link: {result['url']}"
    why = result.get("error") or f"no answer within {timeout_s:g} s"
    return None, (
        "SHARE LINK UNAVAILABLE: could not reach Gradio's share server (is this machine offline?). "
        f"Still serving locally only. Details: {why}"
    )


def trusted_proxies(value: str | None) -> str:
    """uvicorn's ``forwarded_allow_ips`` from ``FORWARDED_ALLOW_IPS`` (default loopback). ``*`` is refused: uvicorn
    then takes the leftmost X-Forwarded-For entry, which the client writes itself (a proxy appends the real
    address after it), so every client could choose its IP hash and step around the per-IP limits. Name the
    proxy's addresses or networks instead; uvicorn then takes the rightmost address no trusted proxy has."""
    value = (value or "").strip() or "127.0.0.1"
    if "*" in (part.strip() for part in value.split(",")):
        raise SystemExit(
            "FORWARDED_ALLOW_IPS=* would let any client choose its own address for the rate limits: set it to the "
            "reverse proxy's addresses or networks (e.g. 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16), see docs/hosting.md"
        )
    return value


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = ""
    share: bool = False


def serve(settings: Settings, options: ServeOptions) -> None:
    """Build the arena, start the pool prefill, and run uvicorn until interrupted."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from the cache or a folder: never the network
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    arena = Arena.create(settings)
    root_path = options.root_path.rstrip("/")
    app = create_app(arena, root_path=root_path)
    arena.start_workers()
    start_spares(arena)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        root_path=root_path,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies(os.environ.get("FORWARDED_ALLOW_IPS")),
        log_level="warning",
    )
    server = uvicorn.Server(config)

    def crowd() -> None:  # simulated votes through this server's own API, once it is up
        from arena.simulation.demo import demo_crowd

        while not server.started and not server.should_exit:
            threading.Event().wait(0.2)
        host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
        if server.started and arena.settings.demo_crowd_votes:
            demo_crowd(arena, f"http://{host}:{options.port}", arena.settings.demo_crowd_votes)

    start_prefill(arena, then=crowd)
    start_pruning(arena)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if not server.started:
            return
        print(f"Video Arena running at http://{options.host}:{options.port}{root_path}/", flush=True)
        if options.share:
            _, message = open_share_link(options.port)
            print(message, flush=True)

    threading.Thread(target=announce, name="arena-announce", daemon=True).start()
    # The ~280k objects of the loaded app (gradio, torch, the arena) never die: kept out of the collector, a full
    # collection no longer stalls every request for ~160 ms (votes-only load: p99 416-446 -> 350-364 ms).
    gc.freeze()
    try:
        server.run()
    finally:
        arena.close()
