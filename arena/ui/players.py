"""HTML for the players and the reveal panel, and the small script that drives the two players.

Videos are plain <video> tags pointing at our own /media routes (random per-battle names), never files handed to
Gradio, whose cache would expose basenames and content hashes. Nothing here carries a battle id.
"""

from __future__ import annotations

from html import escape
from typing import Any

from arena.services.views import BattleView, Reveal, SideReveal
from arena.ui.i18n import text

# Runs once per player component (gr.HTML js_on_load): "play both" restarts both videos together, and when both
# have reached their end the component fires its `end` event, which unlocks the vote buttons.
PLAYER_JS = """
let sentFor = null;
const ended = new Set();
const videos = () => [...element.querySelectorAll('video')];
const key = () => videos().map((v) => v.getAttribute('src')).join(' ');
element.addEventListener('click', (event) => {
  if (!event.target.closest('.arena-play')) return;
  for (const v of videos()) { v.currentTime = 0; v.play().catch(() => {}); }
});
element.addEventListener('ended', (event) => {
  if (!(event.target instanceof HTMLVideoElement)) return;
  ended.add(event.target.getAttribute('src'));
  const all = videos();
  if (all.length === 2 && sentFor !== key() && all.every((v) => ended.has(v.getAttribute('src')))) {
    sentFor = key();
    trigger('end');
  }
}, true);
"""


def relative(url: str) -> str:
    """Service URLs start with '/'; a relative one also works under a reverse proxy's path prefix."""
    return url.lstrip("/")


def _video(url: str) -> str:
    return f'<video src="{escape(relative(url))}" muted playsinline preload="auto"></video>'


def empty_html(message: str = "") -> str:
    return f'<div class="arena-empty">{escape(message)}</div>'


def progress_html(view: BattleView, lang: str) -> str:
    """A live battle being made: its place in the queue, then a progress bar (the slower video's progress)."""
    fraction = max(0.0, min(1.0, view.progress or 0.0))
    if view.queue_position:
        label = text("queue_waiting", lang, ahead=view.queue_position)
    else:
        label = text("queue_running", lang, percent=round(100 * fraction))
    return (
        f'<div class="arena-empty arena-progress"><div>{escape(label)}'
        f'<progress max="1" value="{fraction:.3f}"></progress></div></div>'
    )


def pair_html(view: BattleView, lang: str) -> str:
    """The two videos side by side with one shared play/replay control; names only in named mode."""
    if not (view.left_url and view.right_url):
        return empty_html(f"{text('voided', lang)}: {view.reason or ''}")
    named = view.mode == "named"
    sides = []
    for letter, url, name in (("A", view.left_url, view.left_name), ("B", view.right_url, view.right_name)):
        caption = f"{letter} · {name}" if named and name else letter
        sides.append(f'<figure class="arena-side"><figcaption>{escape(caption)}</figcaption>{_video(url)}</figure>')
    return (
        f'<div class="arena-pair">{"".join(sides)}</div>'
        f'<div class="arena-controls"><button type="button" class="arena-play">{escape(text("play_both", lang))}'
        f'</button><span class="arena-hint">{escape(text("play_hint", lang))}</span></div>'
    )


def single_html(url: str, caption: str) -> str:
    return (
        f'<figure class="arena-side arena-single"><figcaption>{escape(caption)}</figcaption>'
        f'<video src="{escape(relative(url))}" controls muted playsinline autoplay loop></video></figure>'
    )


def _settings_line(settings: dict[str, Any]) -> str:
    size = f"{settings.get('width')}×{settings.get('height')}" if settings.get("width") else None
    parts = [
        f"{settings['num_frames']} frames" if settings.get("num_frames") else None,
        size,
        f"{settings['fps']:g} fps" if settings.get("fps") else None,
        f"{settings['steps']} steps" if settings.get("steps") else None,
        f"guidance {settings['guidance']:g}" if settings.get("guidance") is not None else None,
        f"seed {settings['seed']}" if settings.get("seed") is not None else None,
    ]
    return " · ".join(p for p in parts if p)


def _side_html(letter: str, side: SideReveal, chosen: bool, lang: str) -> str:
    latency = f"{text('generated_in', lang)} {side.latency_s:.2f} s" if side.latency_s is not None else ""
    meta = " · ".join(p for p in (side.organisation, side.licence, latency) if p)
    adjustments = f"<div class='meta'>{escape(str(side.adjustments))}</div>" if side.adjustments else ""
    return (
        f'<div class="side{" chosen" if chosen else ""}"><div class="meta">{letter}</div>'
        f'<div class="name">{escape(side.display_name)}</div><div class="meta">{escape(meta)}</div>'
        f'<div class="meta">{escape(_settings_line(side.settings))}</div>{adjustments}</div>'
    )


def reveal_html(reveal: Reveal, lang: str) -> str:
    """Names, organisations, generation times and settings, with the voted side highlighted."""
    choice_label = {
        "left": "A",
        "right": "B",
        "tie": text("choice_tie", lang),
        "both_bad": text("choice_both_bad", lang),
        None: "—",
    }[reveal.choice]
    head = f"{text('revealed', lang)} · {text('your_vote', lang)}: {choice_label}"
    if reveal.status == "voided":
        head = f"{text('voided', lang)}: {reveal.reason or ''}"
    sides = _side_html("A", reveal.left, reveal.choice == "left", lang) + _side_html(
        "B", reveal.right, reveal.choice == "right", lang
    )
    return f'<div class="arena-notice">{escape(head)}</div><div class="arena-reveal">{sides}</div>'
