"""UI strings of the Leaderboard tab's verdict views (English and Chinese), merged into arena.ui.i18n.STRINGS."""

from __future__ import annotations

DECISION_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "decisions_md": "### In-house vs rivals",
        "no_in_house": "No in-house model has anonymous votes yet (mark one with `in_house: true` in the models file).",
        "promise": (
            "**What a verdict promises.** {method} is held at {alpha} % over the {m} verdicts on this page "
            "({rivals} rivals × {views} views), however often the page is looked at: the intervals are "
            "anytime-valid (a normal-mixture confidence sequence), so refreshing after every vote cannot manufacture "
            "a winner. *Better / worse*: the interval at the verdict's level excludes 0. *Equivalent*: it lies "
            "inside ±{margin} points. *Undecided*: neither yet; the votes-needed column is the plan for "
            "{power} % power against a {gap}-point gap. It does not promise that the gap is as large as its point "
            "estimate, nor anything about prompts unlike those asked."
        ),
        "shared_rank": (
            "Rank = 1 + the number of models whose 95 % interval lies entirely above this model's. Models share a "
            "rank while their intervals overlap: the data cannot yet order them. An open bound (≥ / ≤) means the "
            "model never lost (or never won) against the rest: its rating has only one finite bound. "
            '"insufficient" means no decisive vote yet.'
        ),
        "components_note": "These models form {n} groups that never met: ratings and ranks hold only within a group.",
        "hidden_note": "Left out for having fewer than {min_votes} votes (their battles are not fitted): {models}.",
        "break_down": "Verdicts also by",
        "split_none": "Overall only",
        "split_category": "Category",
        "split_language": "Language",
        "split_prompt": "Prompt",
        "col_verdict": "Verdict",
        "col_gap": "Gap (interval at the verdict's level)",
        "col_votes_needed": "Votes needed",
        "col_rival": "Rival",
        "col_group": "Group",
        "too_close": "too close to call",
        "forest_title": "Ratings with 95 % intervals",
        "versus_title": "{model} minus each rival (rating points), coloured by verdict",
        "bars_title": "{model} minus each rival, per {field}",
        "losses_md": "### Prompts where {model} loses most",
        "no_losses": "No prompt where the in-house model lost more battles than it won.",
        "clips_off": "Clips are hidden on this arena (a named clip of a pool video would unblind later battles).",
        "losses_record": "{wins} won, {losses} lost, {ties} tied",
        "style_md": (
            "### Style control\nRatings with what the blind cannot hide held fixed (as LMArena's style control): "
            "clip duration, pixels, frame rate, aspect ratio and the screen side. Effects in rating points per unit "
            "of normalised difference (± se): {effects}. Fitted on {battles} battles."
        ),
        "col_style_controlled": "With style held fixed",
        "col_shift": "Shift",
    },
    "zh": {
        "decisions_md": "### 自研模型对比各对手",
        "no_in_house": "自研模型还没有匿名投票（在模型文件中用 `in_house: true` 标记）。",
        "promise": (
            "**结论的承诺。** 本页共 {m} 个结论（{rivals} 个对手 × {views} 个视图），用 {method} 把错误率控制在 "
            "{alpha} %，无论查看多少次都成立：区间在任何时刻都有效（正态混合置信序列），每票之后刷新也不会制造"
            "赢家。*更好 / 更差*：结论水平下的区间不含 0。*相当*：区间落在 ±{margin} 分以内。*未定*：尚未满足；"
            "“还需票数”是按 {power} % 的把握检出 {gap} 分差距的计划。它不保证差距与点估计一样大，也不适用于与"
            "已测提示词不同的提示词。"
        ),
        "shared_rank": (
            "排名 = 1 + 区间完全高于本模型区间的模型数。区间重叠的模型共享名次：数据还无法区分它们。开区间"
            "（≥ / ≤）表示该模型从未输过（或从未赢过）其余模型，评分只有一侧有界。“数据不足”表示还没有分出胜负的投票。"
        ),
        "components_note": "这些模型分成 {n} 组，组与组之间从未对战：评分和排名只在组内有效。",
        "hidden_note": "票数少于 {min_votes} 的模型未计入（其对战不参与拟合）：{models}。",
        "break_down": "结论同时按",
        "split_none": "仅总体",
        "split_category": "类别",
        "split_language": "语言",
        "split_prompt": "提示词",
        "col_verdict": "结论",
        "col_gap": "差距（结论水平下的区间）",
        "col_votes_needed": "还需票数",
        "col_rival": "对手",
        "col_group": "分组",
        "too_close": "难分高下",
        "forest_title": "评分及 95 % 区间",
        "versus_title": "{model} 减各对手（评分差），按结论着色",
        "bars_title": "{model} 减各对手，按{field}",
        "losses_md": "### {model} 输得最多的提示词",
        "no_losses": "没有自研模型输多赢少的提示词。",
        "clips_off": "本竞技场不显示视频片段（公开具名的候选池视频会让之后的对战失去匿名性）。",
        "losses_record": "赢 {wins}，输 {losses}，平 {ties}",
        "style_md": (
            "### 风格控制\n固定匿名也藏不住的因素（同 LMArena 的风格控制）后的评分："
            "视频时长、像素数、帧率、宽高比和屏幕左右位置。"
            "各因素的影响（每单位归一化差异的评分点，± 标准误）：{effects}。基于 {battles} 场对战。"
        ),
        "col_style_controlled": "固定风格后",
        "col_shift": "变化",
    },
}
