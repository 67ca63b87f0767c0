"""The loop's report: one static HTML page (OUT/report/index.html) and metrics.json.

Self-contained and relative: videos (H.264 yuv420p mp4, even sizes, so browsers play
them), charts (matplotlib PNGs) and the page sit in one folder that can be copied or
served as it is. A small script marks each video once it has loaded a frame and the
page once every video and image has, which is what the browser test waits for.
"""
from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simreel import ablations
from simreel.shards.video import VideoCodec, encode_video

DISPLAY = 192  # videos are upscaled (nearest) to about this height so 32-px clips are visible
CODEC = VideoCodec("h264", crf=18, preset="medium")


@dataclass(frozen=True, eq=False)
class Shown:
    """A clip to show: one or more videos of equal frame count side by side, with words."""

    videos: tuple[np.ndarray, ...]  # each uint8 [T, H, W, 3]
    caption: str
    labels: tuple[str, ...] = ()  # one per video, drawn under the player
    fps: int = 8


@dataclass(frozen=True, eq=False)
class ReportInputs:
    title: str
    metrics: dict
    gallery: list[Shown]  # dataset clips
    pairs: list[Shown]  # real | generated for one caption
    continuations: list[Shown]  # real | model | baselines from the first k frames
    dataset_stats: dict[str, dict[str, int]]  # chart title -> {value: count}
    training_log: list[dict]  # the trainer's JSON lines
    configs: dict[str, str]  # name -> YAML text
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    study: dict[str, list[dict]] = field(default_factory=dict)  # axis (training field) -> judged points


def upscale(video: np.ndarray, height: int = DISPLAY) -> np.ndarray:
    """Nearest-neighbour upscale by an integer factor, padded to even sizes."""
    f = max(1, round(height / video.shape[1]))
    v = video.repeat(f, axis=1).repeat(f, axis=2)
    pad_h, pad_w = v.shape[1] % 2, v.shape[2] % 2
    return np.pad(v, ((0, 0), (0, pad_h), (0, pad_w), (0, 0))) if pad_h or pad_w else v


def side_by_side(videos: tuple[np.ndarray, ...], gap: int = 4) -> np.ndarray:
    """Videos of equal length, upscaled to one height, joined left to right with a white gap."""
    ups = [upscale(v) for v in videos]
    height = max(u.shape[1] for u in ups)
    T = len(ups[0])
    parts = []
    for i, u in enumerate(ups):
        if len(u) != T:
            raise ValueError(f"videos shown side by side need equal frame counts, got {len(u)} and {T}")
        parts.append(np.pad(u, ((0, 0), (0, height - u.shape[1]), (0, 0), (0, 0))))
        if i < len(ups) - 1:
            parts.append(np.full((T, height, gap, 3), 255, np.uint8))
    return np.concatenate(parts, axis=2)


def _video(path: Path, shown: Shown) -> str:
    path.write_bytes(encode_video(side_by_side(shown.videos), shown.fps, CODEC))
    labels = "".join(f"<span>{html.escape(lab)}</span>" for lab in shown.labels)
    return (f'<figure><video src="{path.parent.name}/{path.name}" autoplay muted loop playsinline preload="auto">'
            f"</video><div class=labels>{labels}</div><figcaption>{html.escape(shown.caption)}</figcaption></figure>")


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return "–" if not math.isfinite(v) else f"{v:.3f}"
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return f"[{v[0]:.2f}, {v[1]:.2f}]"  # a 95% interval
    return html.escape(str(v))


def _with_ci(value, ci) -> str:
    """0.512 [0.41, 0.62]: a figure and its 95% interval in one cell."""
    return _fmt(value) if value is None or ci is None else f"{_fmt(value)} <small>{_fmt(ci)}</small>"


HEADLINE_COLUMNS = (("generated", "ci95", "generated for the caption"),
                    ("ceiling", "ceiling_ci95", "ceiling: real clips"),
                    ("floor", "floor_ci95", "floor: other captions' videos"),
                    ("gain", "gain_ci95", "caption following: generated − floor"))


def answer(head: dict) -> str:
    """One sentence answering "did the model learn the data?" from the headline row,
    read against its intervals, never against the figures' last digits."""
    if not head.get("decided"):
        return ("<b>Undecided.</b> No attribute was stated by enough prompts and real clips, in a way the "
                "probe can read, to judge the model; generate for more prompts (sample.prompts).")
    gain, gain_ci = head["gain"], head["gain_ci95"]
    said = f"generated − floor = {_with_ci(gain, gain_ci)} over {', '.join(head['attributes'])}"
    if gain_ci is None or gain_ci[0] <= 0:
        return (f"<b>No.</b> Its videos match their own captions no better than videos made for other captions "
                f"({said}: the 95% interval does not lie above zero).")
    if head["ci95"] is not None and head["ceiling_ci95"] is not None and head["ci95"][1] >= head["ceiling_ci95"][0]:
        return f"<b>Yes.</b> Its videos follow their own captions ({said}) about as well as the real clips do."
    return (f"<b>In part.</b> Its videos follow their own captions ({said}, above zero with 95% confidence), "
            f"but stay below the real clips' ceiling.")


def headline(m: dict) -> str:
    """The report's first section: the answer, then one table of the decided attributes and
    their mean (generated, ceiling, floor, caption following, each with its 95% interval)."""
    rows, head = m.get("faithfulness", {}), m.get("headline", {})
    decided = {a: r for a, r in rows.items() if r.get("decided")}
    if head.get("decided"):
        decided[f"mean of the {len(head['attributes'])} decided"] = head
    cells = "".join(f"<th>{html.escape(title)}</th>" for _, _, title in HEADLINE_COLUMNS)
    body = "".join(f"<tr><th>{html.escape(name)}</th><td>{r['n']}</td><td>{r['ceiling_n']}</td>"
                   + "".join(f"<td>{_with_ci(r[v], r[ci])}</td>" for v, ci, _ in HEADLINE_COLUMNS) + "</tr>"
                   for name, r in decided.items())
    skipped = [f"{html.escape(a)} ({html.escape(r.get('reason', ''))})" for a, r in rows.items()
               if not r.get("decided")]
    return ("<h2 id=answer>Did the model learn the data?</h2>"
            f"<p class=answer>{answer(head)}</p>"
            "<table class=headline><caption>caption faithfulness: the probe's reading of each video scored "
            "against what its prompt states, 95% bootstrap intervals in brackets</caption>"
            f"<tr><th>attribute</th><th>prompts</th><th>real clips</th>{cells}</tr>{body}</table>"
            + (f"<p class=note>Not decided (no figure given): {'; '.join(skipped)}.</p>" if skipped else ""))


def table(rows: dict[str, dict], columns: list[str] | None = None, caption: str = "") -> str:
    columns = columns or sorted({c for r in rows.values() for c in r})
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr><th>{html.escape(name)}</th>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in columns) + "</tr>"
        for name, r in rows.items()
    )
    return f"<table><caption>{html.escape(caption)}</caption><tr><th></th>{head}</tr>{body}</table>"


def _chart(path: Path, draw) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 2.8), dpi=100)
    draw(ax)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f'<img class=chart src="{path.parent.name}/{path.name}" alt="{html.escape(path.stem)}">'


def _bars(title: str, counts: dict[str, int]):
    def draw(ax):
        if all(k.lstrip("-").isdigit() for k in counts):  # a histogram: numbers on a number line
            ax.bar([int(k) for k in counts], list(counts.values()), color="#4a7bd0", width=0.8)
        else:
            keys = sorted(counts)
            crowded = len(keys) > 6
            ax.bar(range(len(keys)), [counts[k] for k in keys], color="#4a7bd0")
            ax.set_xticks(range(len(keys)), keys, rotation=45 if crowded else 0, ha="right" if crowded else "center",
                          fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("count", fontsize=8)
    return draw


def _curve(log: list[dict]):
    def draw(ax):
        steps = [r["step"] for r in log if "loss" in r]
        ax.plot(steps, [r["loss"] for r in log if "loss" in r], lw=1, label="train loss")
        held = [r for r in log if "heldout" in r]
        if held:
            ax.plot([r["step"] for r in held], [r["heldout"] for r in held], "o-", ms=3, label="held-out loss")
            swapped = [r for r in held if "heldout_swapped_captions" in r]
            if swapped:  # above the held-out loss by as much as the captions tell the model
                ax.plot([r["step"] for r in swapped], [r["heldout_swapped_captions"] for r in swapped], "x--", ms=3,
                        label="held-out loss, captions swapped between clips")
        noise = [r for r in held if "1" in r.get("heldout_by_t", {})]
        if noise:  # where sampling starts: a model above the mean clip there paints flat samples
            ax.plot([r["step"] for r in noise], [r["heldout_by_t"]["1"] for r in noise], "s-", ms=3,
                    label="held-out loss at t = 1 (pure noise)")
            ax.axhline(noise[-1]["heldout_mean_clip"], ls="--", lw=1, color="grey", label="the mean clip at t = 1")
        ax.set_yscale("log")
        ax.set_xlabel("step", fontsize=8)
        ax.set_title("training curve", fontsize=9)
        ax.legend(fontsize=7)
    return draw


AXES = {"clips": "training clips", "steps": "training steps", "dim": "model width", "depth": "blocks"}


def _study_following(axis: str, rows: list[dict]):
    def draw(ax):
        x = [r["value"] for r in rows]
        for key, label, colour in (("following", "caption following (headline)", "#4a7bd0"),
                                   ("colours", "colours", "#d0704a")):
            _with_intervals(ax, x, [r[key]["gain"] for r in rows], [r[key]["gain_ci95"] for r in rows],
                            color=colour, label=label)
        _main_and_axis(ax, axis, rows)
        ax.axhline(0, lw=1, color="grey")
        ax.set_ylabel("generated − floor (95% CI)", fontsize=8)
        ax.set_title(f"caption following against {AXES.get(axis, axis)}", fontsize=9)
        ax.legend(fontsize=7)
    return draw


def _study_dynamics(axis: str, rows: list[dict]):
    def draw(ax):
        x = [r["value"] for r in rows]
        pos = [r["position_error"] for r in rows]
        model = _with_intervals(ax, x, [p["model"] for p in pos], [p["ci95"] for p in pos], label="model")
        if np.isnan(model).all():
            ax.text(0.5, 0.5, "too few continuations to decide", transform=ax.transAxes, ha="center", fontsize=8)
        for base, style in (("copy_last", "--"), ("linear", ":")):
            ax.plot(x, [p[base] for p in pos], style, color="grey", lw=1, label=base.replace("_", " "))
        _main_and_axis(ax, axis, rows)
        ax.set_ylabel("position error (frame widths)", fontsize=8)
        ax.set_title(f"dynamics against {AXES.get(axis, axis)}", fontsize=9)
        ax.legend(fontsize=7)
    return draw


def _with_intervals(ax, x, figures, intervals, **style) -> np.ndarray:
    """Points with their 95% intervals as error bars; an undecided figure (None) is left out."""
    y = np.array([np.nan if v is None else v for v in figures], float)
    ci = np.array([ci or (np.nan, np.nan) for ci in intervals], float)
    ax.errorbar(x, y, yerr=[y - ci[:, 0], ci[:, 1] - y], marker="o", ms=4, capsize=3, **style)
    return y


def _main_and_axis(ax, axis: str, rows: list[dict]) -> None:
    main = [r["value"] for r in rows if r["main"]]
    ax.axvline(main[0], lw=6, color="#eee", zorder=0)  # the main model's place on the axis
    numbers = [r["value"] for r in rows]
    if min(numbers) > 0 and max(numbers) / min(numbers) >= 4:
        ax.set_xscale("log", base=2)
    ax.set_xticks(numbers, [f"{v:g}" for v in numbers], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel(f"{AXES.get(axis, axis)} (shaded: the main model)", fontsize=8)


def study(charts: Path, axes: dict[str, list[dict]]) -> list[str]:
    """The study's charts and tables, one pair of charts per axis."""
    parts = ["<h2 id=study>Does more data help?</h2>", _STUDY_NOTE, "<div class='grid charts'>"]
    for axis, rows in axes.items():
        parts.append(_chart(charts / f"study-{axis}.png", _study_following(axis, rows)))
        parts.append(_chart(charts / f"study-{axis}-dynamics.png", _study_dynamics(axis, rows)))
    parts.append("</div>")
    for axis, rows in axes.items():
        parts.append(table({f"{r['value']}{' (main)' if r['main'] else ''}": {
            "following gain": r["following"]["gain"], "following gain_ci95": r["following"]["gain_ci95"],
            "colours gain": r["colours"]["gain"], "colours gain_ci95": r["colours"]["gain_ci95"],
            "position error": r["position_error"]["model"], "position error ci95": r["position_error"]["ci95"],
            "copy last": r["position_error"]["copy_last"], "linear": r["position_error"]["linear"]} for r in rows},
            None, f"{AXES.get(axis, axis)}: every other training setting as the main model's"))
    return parts


_STUDY_NOTE = """<p class=note>Each point is a model trained like the main one with one setting changed
(more or fewer training clips at equal steps, fewer steps, another width), then sampled and judged
with the same prompts, continuations and probe. Caption following is generated − floor (0: the
videos ignore their captions); for position error, lower is better, and a model below the copy-last
and linear lines predicts motion.</p>"""


KIND_NAMES = {"in_distribution": "in distribution", "combinatorial": "combinatorial (unseen combination)",
              "out_of_range": "out of range"}


def generalisation(charts: Path, kinds: dict[str, dict], axes: dict[str, list[dict]]) -> list[str]:
    """One row per kind of clip (faithfulness and dynamics, each on that kind's clips, with
    intervals), a reading of its shape against Kang et al. 2024, and the study's charts per kind."""
    rows = {}
    for kind in (k for k in KIND_NAMES if k in kinds):
        f, p = kinds[kind]["following"], kinds[kind]["dynamics"]["position_error"]
        rows[KIND_NAMES.get(kind, kind)] = (
            f"<td>{f['n']}</td><td>{_with_ci(f['generated'], f['ci95'])}</td><td>{_with_ci(f['gain'], f['gain_ci95'])}"
            f"</td><td>{_with_ci(f['ceiling'], f['ceiling_ci95'])} <small>n={f['ceiling_n']}</small></td>"
            f"<td>{p['n']}</td><td>{_with_ci(p['model'], p['ci95'])}</td>"
            f"<td>{_with_ci(p['copy_last'], p['copy_last_ci95'])}</td><td>{_with_ci(p['linear'], p['linear_ci95'])}</td>")
    head = ("<tr><th>kind of clip</th><th>prompts</th><th>following: generated</th><th>gain over the floor</th>"
            "<th>ceiling: real clips</th><th>continuations</th><th>position error: model</th><th>copy last</th>"
            "<th>linear</th></tr>")
    body = "".join(f"<tr><th>{html.escape(name)}</th>{cells}</tr>" for name, cells in rows.items())
    parts = ["<h2 id=generalisation>Does it generalise?</h2>",
             "<table class='headline generalisation'><caption>each kind of clip judged on its own: caption "
             "faithfulness (the main headline's attributes) and position error of continuations (frame widths, "
             f"lower is better), 95% bootstrap intervals in brackets; – : too few clips</caption>{head}{body}</table>",
             f"<p class=note>{generalisation_reading(kinds, axes)}</p>"]
    scaled = {axis: rs for axis, rs in axes.items() if all("generalisation" in r for r in rs)}
    if scaled:
        parts.append("<div class='grid charts'>")
        for axis, rs in scaled.items():
            parts.append(_chart(charts / f"generalisation-{axis}.png", _kinds_against(axis, rs, "following")))
            parts.append(_chart(charts / f"generalisation-{axis}-dynamics.png",
                                _kinds_against(axis, rs, "position_error")))
        parts.append("</div>")
    return parts


def _versus(ci, ref_ci, lower_is_better: bool) -> str:
    """'worse', 'better' or 'no different' than the reference, read against both 95% intervals
    (they must not overlap); 'undecided' when either has none (too few clips)."""
    if ci is None or ref_ci is None:
        return "undecided"
    above, below = ci[0] > ref_ci[1], ci[1] < ref_ci[0]
    if not (above or below):
        return "no different"
    return "worse" if above == lower_is_better else "better"


def generalisation_reading(kinds: dict[str, dict], axes: dict[str, list[dict]]) -> str:
    """The table's shape in words, against Kang et al. 2024: in distribution near perfect,
    combinatorial improving with scale, out of range failing."""
    f, p = kinds["in_distribution"]["following"], kinds["in_distribution"]["dynamics"]["position_error"]
    said = [f"In distribution, caption following against the real clips' ceiling: "
            f"{_versus(f['ci95'], f['ceiling_ci95'], False)}; position error against copying the last frame: "
            f"{_versus(p['ci95'], p['copy_last_ci95'], True)}."]
    for kind in ("combinatorial", "out_of_range"):
        g = kinds[kind]
        said.append(f"{KIND_NAMES[kind].capitalize()} against in distribution: caption following "
                    f"{_versus(g['following']['gain_ci95'], f['gain_ci95'], False)}, position error "
                    f"{_versus(g['dynamics']['position_error']['ci95'], p['ci95'], True)}.")
    for axis, rows in axes.items():
        if len(rows) < 2 or not all("generalisation" in r for r in rows):
            continue
        for kind in ("combinatorial", "out_of_range"):
            first, last = rows[0]["generalisation"][kind], rows[-1]["generalisation"][kind]
            said.append(f"{KIND_NAMES[kind].split(' (')[0].capitalize()}, {AXES.get(axis, axis)} {rows[0]['value']:g} "
                        f"→ {rows[-1]['value']:g}: caption following "
                        f"{_versus(last['following']['gain_ci95'], first['following']['gain_ci95'], False)}, "
                        f"position error {_versus(last['position_error']['ci95'], first['position_error']['ci95'], True)}.")
    return ("Kang et al. 2024 (&ldquo;How Far is Video Generation from World Model: A Physical Law Perspective&rdquo;) "
            "found three regimes: in distribution near perfect, unseen combinations of seen values improving with "
            "scale, out of range failing. Here, each read against 95% intervals (no different: they overlap; "
            "undecided: too few clips): " + " ".join(html.escape(x) for x in said)
            + " The probe that judges was trained in distribution as well: a ceiling that drops for a kind says that "
            "the judge, not only the model, reads that kind less well.")


def _kinds_against(axis: str, rows: list[dict], figure: str):
    """One study axis: a figure (caption following gain, or position error) per kind of clip."""
    key, ci = ("gain", "gain_ci95") if figure == "following" else ("model", "ci95")

    def draw(ax):
        x = [r["value"] for r in rows]
        for kind, colour in zip(KIND_NAMES, ("#4a7bd0", "#d0704a", "#6a6a6a")):
            got = [r["generalisation"][kind][figure] for r in rows]
            _with_intervals(ax, x, [g[key] for g in got], [g[ci] for g in got], color=colour,
                            label=KIND_NAMES[kind].split(" (")[0])
        _main_and_axis(ax, axis, rows)
        ax.set_ylabel("generated − floor" if figure == "following" else "position error (frame widths)", fontsize=8)
        ax.set_title(f"{'caption following' if figure == 'following' else 'dynamics'} per kind against "
                     f"{AXES.get(axis, axis)}", fontsize=9)
        ax.legend(fontsize=7)
    return draw


def _error_curves(curves: dict[str, dict[str, list[float]]]):
    def draw(ax):
        for method, ys in curves.get("position", {}).items():
            if ys:
                ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, label=method)
        ax.set_xlabel("frames after the given ones", fontsize=8)
        ax.set_ylabel("position error (frame widths)", fontsize=8)
        ax.set_title("dynamics: tracked position error", fontsize=9)
        ax.legend(fontsize=7)
    return draw


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h2{margin-top:2em;border-bottom:1px solid #ccc}
.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;width:min-content}
figcaption{font-size:12px;min-width:180px}
.labels{display:flex;justify-content:space-around;font-size:11px;color:#666}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
caption{text-align:left;font-weight:bold;padding:4px 0}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
.note{color:#555;font-size:13px;max-width:900px}
.answer{font-size:16px;max-width:900px}
table.headline td{white-space:nowrap}
"""

READY = """
<script>
(function () {
  const media = Array.from(document.querySelectorAll('video'));
  const images = Array.from(document.querySelectorAll('img'));
  function check() {
    const videos = media.filter(v => v.dataset.loaded === '1').length;
    const imgs = images.filter(i => i.complete && i.naturalWidth > 0).length;
    const errors = media.filter(v => v.dataset.error).length
      + images.filter(i => i.complete && i.naturalWidth === 0).length;
    const root = document.documentElement.dataset;
    root.videos = videos; root.images = imgs; root.errors = errors;
    if (videos + imgs + errors === media.length + images.length) root.ready = '1';
  }
  media.forEach(v => {
    const done = () => { v.dataset.loaded = '1'; check(); };
    if (v.readyState >= 2) done(); else v.addEventListener('loadeddata', done);
    v.addEventListener('error', () => { v.dataset.error = '1'; check(); });
  });
  images.forEach(i => i.complete ? check() : (i.addEventListener('load', check), i.addEventListener('error', check)));
  check();
})();
</script>
"""


def write(out: Path, inputs: ReportInputs) -> Path:
    """Write OUT/report/{index.html, metrics.json, media/, charts/}; returns index.html's path."""
    out = Path(out)
    media, charts = out / "media", out / "charts"
    media.mkdir(parents=True, exist_ok=True)
    charts.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(plain(inputs.metrics), indent=2, sort_keys=True, allow_nan=False))
    m = inputs.metrics
    parts = [f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(inputs.title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(inputs.title)}</h1>"]
    parts.append(headline(m))  # the answer first, then the clips it rests on, then the details
    parts.append("<h2 id=generated>Generated beside real, same caption</h2><div class='grid pairs'>")
    parts += [_video(media / f"pair{i:03d}.mp4", s) for i, s in enumerate(inputs.pairs)]
    parts.append("</div>")
    if inputs.timings:
        parts.append(table({k: {"seconds": v} for k, v in inputs.timings.items()}, ["seconds"], "wall time per stage"))

    parts.append("<h2 id=gallery>Dataset clips</h2><div class='grid gallery'>")
    parts += [_video(media / f"clip{i:03d}.mp4", s) for i, s in enumerate(inputs.gallery)]
    parts.append("</div><h2 id=charts>Dataset statistics</h2><div class='grid charts'>")
    parts += [_chart(charts / f"stat{i:02d}.png", _bars(t, c)) for i, (t, c) in enumerate(inputs.dataset_stats.items())]
    parts.append("</div>")

    parts.append("<h2 id=training>Training</h2>")
    if inputs.training_log:
        parts.append(_chart(charts / "training.png", _curve(inputs.training_log)))

    parts.append("<h2 id=evaluation>Evaluation</h2>")
    parts.append(_EVAL_NOTE)
    if "probe" in m:
        parts.append(table(m["probe"], ["accuracy", "ci95", "chance", "margin_ci95", "n", "readable"],
                           "probe on held-out real clips (the judge's ceiling)"))
    if "faithfulness" in m:
        parts.append(table(m["faithfulness"], ["generated", "ci95", "ceiling", "ceiling_ci95", "floor", "floor_ci95",
                                               "gain", "gain_ci95", "n", "ceiling_n", "readable", "reason"],
                           "caption faithfulness per attribute the prompt states"))
    if "plausibility" in m:
        parts.append(table(m["plausibility"], None, "physical plausibility from tracked pixels"))
    if "dynamics" in m:
        parts.append(table(m["dynamics"], None, "dynamics: continuing the first frames of held-out clips"))
        if m.get("dynamics_curves"):
            parts.append(_chart(charts / "dynamics.png", _error_curves(m["dynamics_curves"])))
    if "probe_frechet" in m:
        parts.append(table({"probe Fréchet distance": m["probe_frechet"]}, None,
                           "probe Fréchet distance (probe features, not I3D: not comparable with FVD)"))
    if inputs.continuations:
        parts.append("<h3>Continuations</h3><div class='grid continuations'>")
        parts += [_video(media / f"cont{i:03d}.mp4", s) for i, s in enumerate(inputs.continuations)]
        parts.append("</div>")

    if inputs.study:
        parts += study(charts, inputs.study)
    if "generalisation" in m:
        parts += generalisation(charts, m["generalisation"], inputs.study)

    parts.append("<h2 id=ablations>Appendix: levers tried</h2>")
    parts.append(table(ablations.DEMO, None, ablations.DEMO_SCALE))
    parts.append(table(ablations.SCREENED, ["gain", "minutes"], ablations.SCREEN))
    parts.append(table(ablations.SCALING, None, ablations.SCALING_SCALE))

    parts.append("<h2 id=configs>Configs used</h2>")
    parts += [f"<h3>{html.escape(k)}</h3><pre>{html.escape(v)}</pre>" for k, v in inputs.configs.items()]
    parts.append(READY + "</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


_EVAL_NOTE = """<p class=note>The judge is trained here on factory clips whose truth is known. <b>ceiling</b>:
the probe reading real clips it never saw (<b>ceiling_n</b> of them), each scored against its own caption;
<b>floor</b>: the probe reading the videos generated for every other caption, scored against this
caption; <b>gain</b>: generated − floor, paired per prompt (caption following); <b>chance</b>: the best
constant guess; <b>readable</b>: the probe beats chance by 0.1, and by more than zero with 95%
confidence, on held-out real clips. <b>n</b>: the clips a row rests on; <b>ci95</b>: the 95% bootstrap
interval of the row's first figure (X_ci95: of figure X), resampling clips. A row on fewer than 8
clips, or one the probe cannot read, is not decided: its figures are left out (–) and
<b>reason</b> says why.
<b>objects_seen</b>: the share of expected objects a video shows at all; the other plausibility
statistics only speak of objects that are seen.
Plausibility columns other than generated/real are clips made implausible on purpose, to show the
statistics can tell. Positions are in frame widths; IoU columns marked normalised are divided by the
overlap of two real takes of the same scene with a tiny perturbation.</p>"""


def plain(v):
    """Metrics as strict JSON values: numpy scalars to Python, NaN and infinities to null."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def count(values) -> dict[str, int]:
    return {str(k): v for k, v in Counter(values).items()}
