"""Two videos of one prompt, a shared player, the vote and the reveal: the Battle tab (anonymous) and the
Side-by-side tab (named) are both built here.

The battle id lives in a gr.State (server side); the page only ever holds the random /media URLs. A battle whose
videos are generated live returns at once; a timer then polls it (queue position, progress bar) until both videos
are ready together, so no event holds a worker during a generation and arrival says nothing about which is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from arena.services.inputs import MAX_PROMPT_CHARS, check_db_int
from arena.services.sessions import Client
from arena.services.views import BattleMode, BattleView, Refusal
from arena.ui.common import LANGUAGE_CHOICES, Ui, client_ip, identify, prompt_choices, warn_failure
from arena.ui.i18n import request_language, t, text
from arena.ui.players import PLAYER_JS, empty_html, pair_html, progress_html, reveal_html

CHOICES = ("left", "right", "tie", "both_bad")
ASPECTS = ("text_alignment", "motion", "visual_quality")
ASPECT_CHOICES = [("A", "left"), ("B", "right"), ("A = B", "tie"), ("✗ ✗", "both_bad")]


@dataclass(kw_only=True)
class Duel:
    """The components of one duel tab (kept so the lead can wire more views onto them); built by keyword, as 16
    components in a row are easy to swap unseen."""

    named: bool
    battle: gr.State
    language: gr.Radio
    prompt: gr.Dropdown
    typed: gr.Textbox
    models: tuple[gr.Dropdown, gr.Dropdown] | None
    start: gr.Button
    prompt_text: gr.Textbox
    player: gr.HTML
    aspects: dict[str, gr.Radio]
    votes: dict[str, gr.Button]
    choice: gr.Textbox
    notice: gr.Markdown
    reveal: gr.HTML
    next: gr.Button
    timer: gr.Timer  # active while the battle is generating: polls its progress

    def api(self, name: str) -> str:
        """Event names: start_battle, vote, next_battle, videos_played, battle_progress (+ "_side_by_side")."""
        return f"{name}_side_by_side" if self.named else name

    def outputs(self) -> list[Any]:
        return [
            self.battle,
            self.notice,
            self.prompt_text,
            self.player,
            self.reveal,
            self.next,
            self.timer,
            self.prompt,
            self.typed,
            *self.votes.values(),
            *self.aspects.values(),
        ]

    def locked(self, interactive: bool) -> dict[Any, Any]:
        """Vote buttons and aspect radios: locked until both videos have played, and again after the vote."""
        updates: dict[Any, Any] = {b: gr.update(interactive=interactive) for b in self.votes.values()}
        updates.update({r: gr.update(interactive=interactive, value=None) for r in self.aspects.values()})
        return updates


def build_duel(ui: Ui, *, named: bool) -> Duel:
    live = ui.arena.settings.live_generation
    battle = gr.State(None)
    # Named battles take typed prompts only: the suite's prompts are the anonymous pool's (a named clip of one
    # would show a model's look on the very prompt its anonymous clips are voted on), so no suite list there.
    with gr.Row(equal_height=True, visible=not named):
        language = gr.Radio(LANGUAGE_CHOICES, value="any", label=t("prompt_language"), scale=1)
        label = t("suite_prompt_battle")  # a chosen prompt's votes are off the board
        prompt = gr.Dropdown([] if named else prompt_choices(ui.arena, "any"), value=None, label=label, scale=3)
    typed_label = t("typed_prompt_named" if named else "typed_prompt")
    typed = gr.Textbox(label=typed_label, placeholder=t("typed_placeholder"), max_length=MAX_PROMPT_CHARS, visible=live)
    models: tuple[gr.Dropdown, gr.Dropdown] | None = None
    if named:
        with gr.Row():
            # Filled when the tab opens; the service checks the ids.
            models = (
                gr.Dropdown([], label=t("model_a"), allow_custom_value=True),
                gr.Dropdown([], label=t("model_b"), allow_custom_value=True),
            )
    start = gr.Button(t("generate") if named else t("new_battle"), variant="primary")
    prompt_text = gr.Textbox(label=t("prompt"), interactive=False, elem_id=None if named else "arena-prompt")
    player = gr.HTML(empty_html(), js_on_load=PLAYER_JS, elem_classes="arena-player")
    with gr.Row():
        aspects = {a: gr.Radio(ASPECT_CHOICES, label=t(f"aspect_{a}"), interactive=False) for a in ASPECTS}
    with gr.Row():
        votes = {c: gr.Button(t(f"vote_{c}"), interactive=False) for c in CHOICES}
    choice = gr.Textbox(visible="hidden", label="choice")  # which button was pressed (not a secret)
    notice = gr.Markdown("", elem_classes="arena-message")  # the last refusal, also shown as a toast
    reveal = gr.HTML("")
    next_btn = gr.Button(t("next_battle"), variant="primary", visible=False)
    timer = gr.Timer(1.0, active=False)
    duel = Duel(
        named=named,
        battle=battle,
        language=language,
        prompt=prompt,
        typed=typed,
        models=models,
        start=start,
        prompt_text=prompt_text,
        player=player,
        aspects=aspects,
        votes=votes,
        choice=choice,
        notice=notice,
        reveal=reveal,
        next=next_btn,
        timer=timer,
    )
    _wire(ui, duel)
    return duel


def _start(
    ui: Ui,
    duel: Duel,
    *,
    language: str | None,
    prompt_id: int | None,
    typed: str | None,
    models: list[str | None] | None,
    who: Client,
    lang: str,
) -> dict[Any, Any]:
    """Start a battle; returns the updates of every duel component (names only in named mode)."""
    picked: list[str] | None = None
    if duel.named:
        if not models or None in models or models[0] == models[1]:
            raise Refusal("invalid", text("choose_two", lang), 400)
        picked = [m for m in models if m is not None]  # every one: a None was refused above
    typed = typed.strip() if isinstance(typed, str) else None
    ui.arena.gate.allow("battle", who)
    if typed:
        ui.arena.gate.allow("typed", who)
    view: BattleView = ui.arena.battles.start(
        who.session_id,
        prompt_id=None if typed else prompt_id,
        prompt_text=typed or None,
        language=None if typed or language in (None, "", "any") else language,
        mode=BattleMode.named if duel.named else BattleMode.anonymous,
        models=picked,
        ip_hash=who.ip_hash,
    )
    ui.arena.media.copy_times.hold(view.hand_over_at)  # its duration names neither clip (copy_times.py)
    message = f"{text('voided', lang)}: {view.reason or ''}" if view.status == "voided" else ""
    if message:
        gr.Warning(message)
    return {
        duel.battle: view.id,
        duel.notice: message,
        duel.prompt_text: view.prompt,
        duel.player: progress_html(view, lang) if view.status == "generating" else pair_html(view, lang),
        duel.reveal: "",
        duel.next: gr.update(visible=False),
        duel.timer: gr.Timer(active=view.status == "generating"),
        **duel.locked(False),
    }


def _poll(ui: Ui, duel: Duel, battle_id: str | None, session_id: str | None, lang: str) -> dict[Any, Any]:
    """One tick while a battle is generating: its progress, or both videos once ready (then the timer stops)."""
    if not battle_id or not session_id:
        return {duel.timer: gr.Timer(active=False)}
    try:
        view = ui.arena.battles.get(battle_id, session_id)
    except Refusal as exc:
        return {duel.timer: gr.Timer(active=False), duel.notice: warn_failure(exc, lang)}
    if view.status == "generating":
        return {duel.player: progress_html(view, lang)}
    message = f"{text('voided', lang)}: {view.reason or ''}" if view.status == "voided" else ""
    if message:
        gr.Warning(message)
    return {duel.timer: gr.Timer(active=False), duel.notice: message, duel.player: pair_html(view, lang)}


def _prompt_id(value: Any) -> int | None:
    """A suite prompt id from the dropdown; anything else (a client may send any JSON) is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Refusal("invalid", "choose a prompt from the list", 400)
    try:
        number = int(value)
    except (ValueError, OverflowError) as exc:
        raise Refusal("invalid", "choose a prompt from the list", 400) from exc
    return check_db_int(number, what="the prompt id")


def _wire(ui: Ui, duel: Duel) -> None:
    arena, session = ui.arena, ui.session
    # Anonymous battles have no model pickers: two empty states keep one signature for both tabs.
    model_inputs = list(duel.models) if duel.models else [gr.State(None), gr.State(None)]

    def start(
        language: str | None,
        prompt_id: int | None,
        typed: str | None,
        model_a: str | None,
        model_b: str | None,
        session_id: str | None,
        request: gr.Request,
    ) -> dict[Any, Any]:
        lang = request_language(request)
        models = [model_a, model_b] if duel.named else None
        try:
            who = identify(arena, session_id, request)
        except Refusal as exc:
            return {duel.notice: warn_failure(exc, lang)}
        try:
            updates = _start(
                ui,
                duel,
                language=language,
                prompt_id=_prompt_id(prompt_id),
                typed=typed,
                models=models,
                who=who,
                lang=lang,
            )
        except Exception as exc:
            updates = {duel.notice: warn_failure(exc, lang)}
        return {session: who.session_id, **updates}

    def next_battle(
        language: str | None,
        model_a: str | None,
        model_b: str | None,
        session_id: str | None,
        request: gr.Request,
    ) -> dict[Any, Any]:
        if duel.named:  # named battles run typed prompts only: the page waits for the next one (kept in the box)
            return {duel.player: empty_html(), duel.reveal: "", duel.notice: "", duel.next: gr.update(visible=False)}
        updates = start(language, None, None, model_a, model_b, session_id, request)
        return {duel.prompt: gr.update(value=None), duel.typed: "", **updates}

    def vote(
        choice: str,
        text_alignment: str | None,
        motion: str | None,
        visual_quality: str | None,
        battle_id: str | None,
        session_id: str | None,
        request: gr.Request,
    ) -> dict[Any, Any]:
        lang = request_language(request)
        choice = choice.partition(":")[0] if isinstance(choice, str) else ""  # buttons send "<choice>:<time>"
        if not choice:
            return gr.skip()
        if not battle_id or not session_id:
            gr.Warning(text("start_first", lang))
            return {duel.notice: text("start_first", lang)}
        aspects = {"text_alignment": text_alignment, "motion": motion, "visual_quality": visual_quality}
        try:
            who = identify(arena, session_id, request)
            arena.gate.allow("vote", who)
            reveal = arena.votes.vote(battle_id, who.session_id, choice, aspects, ip=client_ip(request))
        except Exception as exc:
            return {duel.notice: warn_failure(exc, lang)}
        return {
            duel.notice: "",
            duel.reveal: reveal_html(reveal, lang),
            duel.next: gr.update(visible=True),
            **duel.locked(False),
        }

    def played(battle_id: str | None, session_id: str | None) -> dict[Any, Any]:
        """Both videos reached their end in the browser: unlock the vote if the battle still awaits one."""
        if not battle_id or not session_id:
            return gr.skip()
        try:
            status = arena.battles.get(battle_id, session_id).status
        except Refusal:
            return gr.skip()
        return duel.locked(True) if status == "shown" else gr.skip()

    outputs = [session, *duel.outputs()]
    duel.start.click(
        start,
        [duel.language, duel.prompt, duel.typed, *model_inputs, session],
        outputs,
        api_name=duel.api("start_battle"),
    )
    duel.next.click(next_battle, [duel.language, *model_inputs, session], outputs, api_name=duel.api("next_battle"))
    for choice, button in duel.votes.items():  # client side only: put the choice in the box, which fires the vote
        button.click(None, None, duel.choice, js=f"() => '{choice}:' + Date.now()", api_visibility="private")
    vote_outputs = [duel.notice, duel.reveal, duel.next, *duel.votes.values(), *duel.aspects.values()]
    duel.choice.change(
        vote,
        [duel.choice, *duel.aspects.values(), duel.battle, session],
        vote_outputs,
        api_name=duel.api("vote"),
    )
    duel.player.end(played, [duel.battle, session], vote_outputs, api_name=duel.api("videos_played"))

    def poll(battle_id: str | None, session_id: str | None, request: gr.Request) -> dict[Any, Any]:
        return _poll(ui, duel, battle_id, session_id, request_language(request))

    duel.timer.tick(
        poll,
        [duel.battle, session],
        [duel.timer, duel.notice, duel.player],
        api_name=duel.api("battle_progress"),
        concurrency_limit=None,  # a quick read: never queued behind other events
        show_progress="hidden",
    )
    duel.language.change(
        lambda language: gr.update(choices=[] if duel.named else prompt_choices(arena, language), value=None),
        duel.language,
        duel.prompt,
        api_name=duel.api("prompts_for_language"),
    )
