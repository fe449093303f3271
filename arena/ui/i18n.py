"""Every string of the UI in English and Chinese.

Static labels go to the browser through ``gr.I18n`` (the browser picks the language); messages built on the
server (warnings, the reveal panel) use :func:`text` with the language of the request's Accept-Language.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.i18n import I18nData

from arena.ui.strings_decisions import DECISION_STRINGS

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "header_md": "# Video Arena\nTwo anonymous text-to-video models, one prompt. Watch both clips, then vote.",
        "tab_battle": "Battle",
        "tab_side_by_side": "Side-by-side",
        "tab_playground": "Playground",
        "tab_leaderboard": "Leaderboard",
        "tab_simulated": "Simulated board",
        "simulated_md": (
            "### Simulated voters, not people\n"
            "This board comes from the arena's own **simulated crowd**: programs that watch each battle's two "
            "clips, compare them with what the prompt asks in the offline shapes world, and vote through the same "
            "API as people (some of them carelessly, to test the gold-pair checks). The server marks their votes "
            "as simulated: the human Leaderboard, exports and decisions never count them. It shows what the arena "
            "makes of votes whose right answer is known. A demo voter meets only a few gold checks, so a careless "
            "one sometimes passes them; `arena calibrate` checks the gold checks on more votes."
        ),
        "sim_votes": "{votes} votes on this board (any human votes are counted here too; the extra gold-pair checks "
        "are kept off it, as on the Leaderboard).",
        "sim_no_votes": "No simulated votes yet: `make demo` casts a few hundred once the demo pool is scored, and `arena calibrate` runs the full check.",
        "tab_about": "About",
        "prompt_language": "Prompt language",
        "suite_prompt_battle": "Suite prompt (empty: a random one; votes on a prompt you choose are not counted)",
        "typed_prompt": "…or type your own prompt (generated live)",
        "typed_placeholder": "A green ball bounces on a white background",
        "typed_prompt_named": "Type a prompt (generated live; the suite's prompts are kept for anonymous battles)",
        "err_pool_prompt": (
            "This is one of the arena's suite prompts, kept for anonymous battles: named battles and the Playground "
            "take other prompts (in a battle, choose it from the prompt list)."
        ),
        "new_battle": "New battle",
        "next_battle": "Next battle",
        "generate": "Generate",
        "play_hint": "Watch both videos to the end, then vote.",
        "play_both": "▶ Play both",
        "vote_left": "A is better",
        "vote_right": "B is better",
        "vote_tie": "Tie",
        "vote_both_bad": "Both are bad",
        "aspects": "Optional: which is better for…",
        "aspect_text_alignment": "Text alignment",
        "aspect_motion": "Motion",
        "aspect_visual_quality": "Visual quality",
        "choice_tie": "Tie",
        "choice_both_bad": "Both bad",
        "model_a": "Model A",
        "model_b": "Model B",
        "model": "Model",
        "seed": "Seed",
        "provenance": "Provenance (settings, versions, timing)",
        "prompt": "Prompt",
        "refresh": "Refresh",
        "prompt_category": "Prompt category",
        "heatmap": "Win fraction (row model beats column model, ties excluded)",
        "about_md": (
            "## About the arena\n"
            "The Video Arena compares text-to-video models by human preference. Each battle shows two videos made "
            "from the same prompt by two models chosen at random, with the **same settings** (frames, size, seed).\n\n"
            "### The blind rules\n"
            "- The models stay anonymous until you vote: the page, the video addresses and the video files carry "
            "no model name; every battle serves its clips under fresh random names with fresh bytes.\n"
            "- Vote once per battle, after watching both clips. Names are shown only after the vote is stored; a "
            "vote cast after the names are shown is refused.\n"
            "- If a model fails, the battle is void and nobody scores.\n\n"
            "### How votes are used\n"
            "Anonymous votes feed a Bradley–Terry model (the method of Chatbot Arena), with 95 % confidence "
            "intervals from the bootstrap. Side-by-side votes, where names are visible, are stored but left out of "
            "the leaderboard. A model appears on the board once it has enough votes. We keep a salted hash of "
            "your IP address, never the address itself."
        ),
        "live_progress": "Generating both videos…",
        "queue_waiting": "Waiting in the generation queue: {ahead} ahead of this battle.",
        "queue_running": "Generating both videos: {percent} % (they appear together when both are ready).",
        "revealed": "The models were",
        "your_vote": "Your vote",
        "generated_in": "generated in",
        "voided": "This battle is void",
        "no_votes": "No votes yet: play a few battles and the leaderboard appears here (the Simulated board tab shows a simulated crowd's board meanwhile).",
        "votes_summary": "{votes} votes; models need at least {min_votes} to be ranked.",
        "too_few": "{votes} votes so far; no model has the {min_votes} votes needed to be ranked yet.",
        "choose_two": "Choose two different models.",
        "choose_model": "Choose a model.",
        "empty_prompt": "Type a prompt.",
        "start_first": "Start a battle first.",
        "error": "Something went wrong; please try again.",
        "err_already_voted": "This battle already has a vote.",
        "err_too_early": "Watch both videos to the end before voting.",
        "err_expired": "This battle expired before the vote; start a new one.",
        "err_revealed": "The names were already revealed, so a vote would not be blind.",
        "err_wrong_session": "This battle belongs to another session.",
        "err_unknown_battle": "No such battle in this session.",
        "err_not_ready": "The videos of this battle are not ready yet.",
        "err_live_disabled": "Typed prompts are turned off on this arena.",
        "col_rank": "Rank",
        "col_model": "Model",
        "col_organisation": "Organisation",
        "col_licence": "Licence",
        "col_rating": "Rating",
        "col_ci": "95 % CI",
        "col_votes": "Votes",
        "col_win_rate": "Win rate",
        "tab_metrics": "Metrics",
        "bias_summary": "Position bias: the left video won {p} % of {n} decisive votes (95 % CI {lo}–{hi} %).",
        "counts_heatmap": "Battles between each pair of models",
        "raters_summary": "Raters: {n} sessions agree with the consensus on {agree} % of their decisive votes (an ideal voter would: {expected} %); {failed} of {gold} sessions checked on gold pairs failed them.",
        "boards_md": "### Boards by prompt category and language",
        "board_by": "Boards by",
        "col_h2h": "Head to head (W–L–T)",
        "metrics_md": "### Automatic scores per model (mean, 95 % CI over videos)",
        "agreement_md": "### How far each metric agrees with the votes",
        "agreement_help": "Pair accuracy: share of decisive votes where the metric prefers the clip people chose (ties left out). Spearman ρ: rank correlation of the per-model means with the ratings.",
        "uncalibrated": "These scores come from an untrained offline encoder: they are uncalibrated and only show the pipeline at work.",
        "shapes_world_only": "Text alignment and the other CLIP scores come from `{encoder}`, a tiny CLIP trained in this project on the shapes world: calibrated for the shapes world only (on other video they mean nothing).",
        "no_scores": "No metric scores yet: run `arena score --all` (the app also scores the pool at start).",
        "col_metric": "Metric",
        "col_pairs": "Voted pairs",
        "col_pair_accuracy": "Pair accuracy",
        "col_spearman": "Spearman ρ vs ratings",
        "col_models": "Models",
        "vbench_md": "### VBench view: VBench's dimensions, raw → normalised as on its leaderboard",
        "vbench_help": "Raw values pooled as VBench pools them (consistency over every frame pair, temporal flickering on static videos only, dynamic degree as a share of videos); normalised = (raw − Min) / (Max − Min) with VBench's constants. † = not the model VBench uses, so not comparable with published entries.",
        "vbench_not_computed": "Not computed here: {dims}.",
        "vbench_unavailable": "Unavailable: {items}.",
    },
    "zh": {
        "header_md": "# 视频竞技场\n同一个提示词，两个匿名的文生视频模型。看完两个视频后投票。",
        "tab_battle": "对战",
        "tab_side_by_side": "并排对比",
        "tab_playground": "试用",
        "tab_leaderboard": "排行榜",
        "tab_simulated": "模拟投票榜",
        "simulated_md": (
            "### 模拟投票者，不是真人\n"
            "这个榜单来自竞技场自带的**模拟投票群体**：程序观看每场对战的两段视频，在离线的形状世界里把它们与提示词"
            "要求的内容比较，再通过与真人相同的 API 投票（其中一些故意随意投票，用来检验金标准对的检查）。服务器把这些"
            "票标记为模拟票：真人排行榜、导出和结论都不会计入。它展示了竞技场如何处理答案已知的投票。演示中每个投票者"
            "只遇到少数几次金标准检查，所以随意投票者有时会通过；"
            "`arena calibrate` 会用更多投票检验金标准检查。"
        ),
        "sim_votes": "本榜共 {votes} 票（如有真人投票，这里也一并计入；额外的金标对照检验与排行榜一样不计入本榜）。",
        "sim_no_votes": "还没有模拟票：`make demo` 在演示视频池评分后会投出几百票，`arena calibrate` 会运行完整检查。",
        "tab_about": "关于",
        "prompt_language": "提示词语言",
        "suite_prompt_battle": "题库提示词（留空：随机；指定提示词的投票不计入排行榜）",
        "typed_prompt": "……或输入你自己的提示词（实时生成）",
        "typed_placeholder": "一个绿色的球在白色背景上弹跳",
        "typed_prompt_named": "输入提示词（实时生成；题库提示词只用于匿名对战）",
        "err_pool_prompt": "这是竞技场题库中的提示词，只用于匿名对战：指定模型对战和试玩区请用其他提示词（匿名对战可在题库列表中选择它）。",
        "new_battle": "新对战",
        "next_battle": "下一场",
        "generate": "生成",
        "play_hint": "请把两个视频都看完，然后投票。",
        "play_both": "▶ 同时播放",
        "vote_left": "A 更好",
        "vote_right": "B 更好",
        "vote_tie": "平局",
        "vote_both_bad": "都不好",
        "aspects": "可选：哪个在以下方面更好……",
        "aspect_text_alignment": "与文本一致",
        "aspect_motion": "运动",
        "aspect_visual_quality": "画面质量",
        "choice_tie": "平局",
        "choice_both_bad": "都不好",
        "model_a": "模型 A",
        "model_b": "模型 B",
        "model": "模型",
        "seed": "随机种子",
        "provenance": "来源信息（设置、版本、用时）",
        "prompt": "提示词",
        "refresh": "刷新",
        "prompt_category": "提示词类别",
        "heatmap": "胜率（行模型胜列模型的比例，不计平局）",
        "about_md": (
            "## 关于竞技场\n"
            "视频竞技场通过人类偏好比较文生视频模型。每场对战展示两个随机选出的模型用同一提示词、**相同设置**"
            "（帧数、尺寸、随机种子）生成的视频。\n\n"
            "### 盲评规则\n"
            "- 投票前模型保持匿名：页面、视频地址和视频文件中都没有模型名称；每场对战的视频都使用新的随机文件名和"
            "新的文件字节。\n"
            "- 每场对战只能投一次票，请先看完两个视频。名称只在投票保存后公布；公布名称后的投票会被拒绝。\n"
            "- 如果某个模型生成失败，本场对战作废，不计分。\n\n"
            "### 投票如何使用\n"
            "匿名投票用于 Bradley–Terry 模型（Chatbot Arena 的方法），并用自助法给出 95 % 置信区间。并排对比中的"
            "投票（名称可见）会保存，但不计入排行榜。模型获得足够票数后才会上榜。我们只保存加盐哈希后的 IP，"
            "从不保存 IP 地址本身。"
        ),
        "live_progress": "正在生成两个视频……",
        "queue_waiting": "正在排队等待生成：前面还有 {ahead} 个任务。",
        "queue_running": "正在生成两个视频：{percent} %（两个都完成后一起显示）。",
        "revealed": "两个模型是",
        "your_vote": "你的投票",
        "generated_in": "生成用时",
        "voided": "本场对战作废",
        "no_votes": "还没有投票：玩几场对战后，排行榜会显示在这里（在此之前，“模拟投票榜”标签页展示模拟投票群体的榜单）。",
        "votes_summary": "共 {votes} 票；模型至少需要 {min_votes} 票才会排名。",
        "too_few": "目前共 {votes} 票；还没有模型达到排名所需的 {min_votes} 票。",
        "choose_two": "请选择两个不同的模型。",
        "choose_model": "请选择一个模型。",
        "empty_prompt": "请输入提示词。",
        "start_first": "请先开始一场对战。",
        "error": "出错了，请重试。",
        "err_already_voted": "这场对战已经投过票了。",
        "err_too_early": "请先看完两个视频再投票。",
        "err_expired": "这场对战在投票前已过期，请开始新的对战。",
        "err_revealed": "名称已经公布，投票将不再是盲评。",
        "err_wrong_session": "这场对战属于另一个会话。",
        "err_unknown_battle": "当前会话中没有这场对战。",
        "err_not_ready": "这场对战的视频还没有准备好。",
        "err_live_disabled": "本竞技场已关闭自定义提示词。",
        "col_rank": "排名",
        "col_model": "模型",
        "col_organisation": "机构",
        "col_licence": "许可证",
        "col_rating": "评分",
        "col_ci": "95 % 置信区间",
        "col_votes": "票数",
        "col_win_rate": "胜率",
        "tab_metrics": "指标",
        "bias_summary": "位置偏差：在 {n} 次有明确结果的投票中，左侧视频胜出 {p} %（95 % 置信区间 {lo}–{hi} %）。",
        "counts_heatmap": "各模型两两对战的次数",
        "raters_summary": "评审：{n} 个会话在有明确结果的投票中与共识一致的比例为 {agree} %（理想投票者：{expected} %）；在金标准对上受检的 {gold} 个会话中有 {failed} 个未通过。",
        "boards_md": "### 按提示词类别和语言的排行榜",
        "board_by": "分组方式",
        "col_h2h": "直接对战（胜–负–平）",
        "metrics_md": "### 各模型的自动评分（均值，视频间 95 % 置信区间）",
        "agreement_md": "### 各指标与投票的一致程度",
        "agreement_help": "成对准确率：在有明确结果的投票中，指标偏好与人选择一致的比例（不计平局）。Spearman ρ：各模型均值与评分的秩相关。",
        "uncalibrated": "这些分数来自未经训练的离线编码器：未经校准，仅用于演示流程。",
        "shapes_world_only": "文本对齐等 CLIP 分数来自 `{encoder}`：本项目在形状世界上训练的小型 CLIP，仅针对形状世界校准（用于其他视频时没有意义）。",
        "no_scores": "还没有指标分数：运行 `arena score --all`（应用启动时也会为视频池评分）。",
        "col_metric": "指标",
        "col_pairs": "已投票的对",
        "col_pair_accuracy": "成对准确率",
        "col_spearman": "与评分的 Spearman ρ",
        "col_models": "模型数",
        "vbench_md": "### VBench 视图：VBench 的各维度，原始值 → 按其排行榜方式归一化",
        "vbench_help": "原始值按 VBench 的方式汇总（一致性在所有帧对上汇总，时间闪烁只计静态视频，动态程度为视频占比）；归一化 = (原始值 − Min) / (Max − Min)，使用 VBench 的常数。† = 不是 VBench 所用的模型，不能与公开榜单直接比较。",
        "vbench_not_computed": "此处未计算：{dims}。",
        "vbench_unavailable": "不可用：{items}。",
    },
}

for _lang, _extra in DECISION_STRINGS.items():
    STRINGS[_lang] = {**STRINGS[_lang], **_extra}

LANGUAGES = ("en", "zh")


def make_i18n() -> gr.I18n:
    return gr.I18n(**{lang: dict(strings) for lang, strings in STRINGS.items()})


def t(key: str) -> Any:
    """A translatable label for a component (translated in the browser)."""
    if key not in STRINGS["en"]:
        raise KeyError(f"no UI string {key!r}")
    return I18nData(key)


def text(key: str, lang: str, **fmt: object) -> str:
    """A string translated on the server (for messages and HTML built by handlers)."""
    value = STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"][key]
    return value.format(**fmt) if fmt else value


def request_language(request: gr.Request | None) -> str:
    """The UI language of a request: the first of its Accept-Language tags we speak, else English."""
    header = request.headers.get("accept-language", "") if request is not None else ""
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return "en"
