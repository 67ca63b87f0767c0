"""The dataset card: README.md with a Hugging Face YAML header, schema, statistics, preview."""
from __future__ import annotations

from typing import Mapping

import yaml

from simreel.shards import schema
from simreel.shards.features import yaml_features
from simreel.shards.summary import histogram_stats

MARK = "<!-- simreel dataset card: simreel generate rewrites this file -->"
"""How a run tells its own card from a README.md a user put in the directory (which it never overwrites)."""

_SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M")]


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZE_CATEGORIES if n < limit), "10M<n<100M")


def _hist_line(hist: Mapping[str, int]) -> str:
    s = histogram_stats(hist)
    bars = ", ".join(f"{k}: {hist[k]}" for k in sorted(hist, key=int))
    return f"mean {s['mean']:.2f}, min {s['min']}, max {s['max']} (counts: {bars})"


def render_card(manifest: Mapping, summary: Mapping, *, languages: list[str], license: str,
                preview: str | None = "preview.png", top_words: int = 25) -> str:
    totals, config = manifest["totals"], manifest["config"]
    header = {
        "pretty_name": manifest["name"],
        "license": license,
        "language": list(languages),
        "task_categories": ["text-to-video"],
        "tags": ["synthetic", "physics", "video", "webdataset", "simreel"],
        "size_categories": [size_category(totals["samples"])],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "shard-*.tar"}]}],
    }
    if manifest.get("features"):  # every column's type over the whole dataset, not a guess from its first rows
        header["dataset_info"] = {"config_name": "default", "features": yaml_features(manifest["features"])}
    gen = manifest["generator"]
    out = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).strip(), "---", MARK, "",
           f"# {manifest['name']}", "",
           f"Synthetic physics video clips with captions checked against the simulation, made by "
           f"{gen['name']} {gen['version']} (config hash `{manifest['config_hash']}`, seed {config.get('seed')}). "
           f"{totals['samples']} clips in {totals['shards']} webdataset shards, "
           f"{totals['bytes'] / 1e6:.1f} MB.", ""]
    if preview:
        out += [f"![first clips of the dataset]({preview})", ""]
    out += ["## Loading", "", "```python",
            "from simreel import shards",
            "ds = shards.ClipDataset(\"DATASET_DIR\", shuffle=1000)  # torch IterableDataset",
            "rays = shards.ray_dataset(\"DATASET_DIR\")               # ray.data.Dataset",
            "```", "",
            "Any webdataset reader takes the shards as they are; `index.wids.json` serves wids, and "
            "`manifest.json` lists every shard with its sample count, size and sha256.", "",
            "## Sample schema", "", schema.markdown(), "", "## Statistics", ""]
    out += ["| family | clips |", "| --- | --- |"]
    out += [f"| {f} | {n} |" for f, n in sorted(summary.get("families", {}).items())]
    for field in ("floors", "environments"):  # clips in worlds (scenes.worlds)
        if summary.get(field):
            out += ["", f"- {field}: " + ", ".join(f"{k} {n}" for k, n in sorted(summary[field].items()))]
    out += ["", f"- objects per clip: {_hist_line(summary.get('objects_per_clip', {}))}",
            f"- events per clip: {_hist_line(summary.get('events_per_clip', {}))}",
            "- events by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(summary.get("event_kinds", {}).items()))]
    for lang in languages:
        unit = "characters" if lang in ("zh", "ja") else "words"
        lengths = summary.get("short_caption_tokens", {}).get(lang, {})
        vocab = summary.get("vocabulary", {}).get(lang, {})
        top = sorted(vocab.items(), key=lambda kv: (-kv[1], kv[0]))[:top_words]
        out += [f"- short caption length ({lang}, {unit}): {_hist_line(lengths)}",
                f"- vocabulary ({lang}, short and dense captions): {len(vocab)} distinct {unit}; most frequent: "
                + ", ".join(f"{w} ({n})" for w, n in top)]
    if manifest.get("assets"):
        out += ["", "## Assets", "", "Every mesh asset the clips show (the primitives are generated and carry none):", "",
                "| asset | category | sha256 | source | licence |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {a['name']} | {a['category']} | `{a['sha256'][:16]}` | `{a['source']}` | {a['licence'] or 'unknown'} |"
                for a in manifest["assets"]]
    if manifest.get("assets_rejected"):
        out += ["", f"Mesh files rejected: {len(manifest['assets_rejected'])} (reasons in `manifest.json`)."]
    seconds, clips = totals.get("seconds", {}), max(totals["samples"], 1)
    out += ["", "## Generation", "",
            "Seconds of one worker per clip, by stage: "
            + ", ".join(f"{stage} {s / clips:.3f}" for stage, s in seconds.items()) + ".",
            "Scenes rejected and resampled: "
            + (", ".join(f"{reason} {n}" for reason, n in totals.get("rejections", {}).items()) or "none") + ".", ""]
    held_assets = (config.get("assets") or {}).get("holdout")
    if config.get("holdout") or held_assets:
        out += _holdout_lines(config.get("holdout") or {}, held_assets, config.get("split", "train"))
    return "\n".join(out)


def _holdout_lines(holdout: Mapping, held_assets, split: str) -> list[str]:
    """The card's record of what is held out (regions of the scene space, assets), and which side of it
    this split is: the dataset's one `split` governs both."""
    side = {"train": "nothing held out (draws in a held-out region are rejected as `held_out`; held-out assets "
                     "are never drawn)",
            "heldout": "only what is held out (draws outside the held-out regions are rejected as `not_held_out`; "
                       "only held-out assets are drawn)",
            "all": "held-out and other clips alike (nothing is screened)"}[split]
    out = ["## Held-out split", "", f"This is the `{split}` split: {side}.", ""]
    if isinstance(held_assets, list):
        out.append("- held-out assets: " + ", ".join(held_assets))
    elif held_assets:
        out.append(f"- held-out assets: a fraction {held_assets:g} of the asset names, chosen by a hash of each name "
                   "(`scenes.assets.heldout_names`)")
    out += [f"- out of range: `{name}` in [{b.get('min', '-inf')}, {b.get('max', 'inf')}]"
            for name, b in holdout.get("ranges", {}).items()]
    out += ["- combination: " + ", ".join(f"{k} = {v}" for k, v in combo.items()) + " (one object; `family`: the scene's)"
            for combo in holdout.get("combinations", [])]
    return out + [""]
