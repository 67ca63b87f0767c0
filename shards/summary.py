"""What is in the clips, as mergeable counts: events and objects per clip, caption lengths,
vocabulary. Each shard's stats JSON carries its own summary, so the dataset card is
built from those without reading a shard again.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Mapping

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")  # numbers (times, counts) are not vocabulary
_HAN = re.compile(r"[\u3400-\u9fff]")


def tokens(text: str, language: str) -> list[str]:
    """Words for space-separated languages, characters for Chinese/Japanese."""
    if language in ("zh", "ja"):
        return _HAN.findall(text)
    return _WORD.findall(text.lower())


def summarize(meta: Mapping) -> dict:
    """The summary of one sample's KEY.json (same shape as `merge`'s result)."""
    captions = meta["captions"]
    lengths, vocab = {}, {}
    for lang, sentence in captions["short"].items():
        lengths[lang] = {str(len(tokens(sentence, lang))): 1}
        words = Counter(tokens(sentence, lang))
        dense = captions.get("dense", {}).get(lang)
        if isinstance(dense, str):
            words.update(tokens(dense, lang))
        vocab[lang] = dict(words)
    world = meta["scene"].get("world")
    worlds = {"floors": {world["floor"]: 1}, "environments": {world["environment"]: 1}} if world else {}
    return {
        "clips": 1,
        "families": {meta["family"]: 1},
        **worlds,  # only for clips in a world: the classic look keeps its summary
        "objects_per_clip": {str(len(meta["scene"].get("objects", ()))): 1},
        "events_per_clip": {str(len(meta["events"])): 1},
        "event_kinds": dict(Counter(e["kind"] for e in meta["events"])),
        "short_caption_tokens": lengths,
        "vocabulary": vocab,
    }


def merge(summaries: Iterable[Mapping]) -> dict:
    """Add summaries up (counters add, nested per-language counters too)."""
    out: dict = {}
    for s in summaries:
        for field, value in s.items():
            if isinstance(value, int):
                out[field] = out.get(field, 0) + value
            else:
                out[field] = _add(out.get(field, {}), value)
    return out


def _add(a: Mapping, b: Mapping) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _add(out.get(k, {}), v) if isinstance(v, Mapping) else out.get(k, 0) + v
    return out


def histogram_stats(hist: Mapping[str, int]) -> dict:
    """{value: count} -> mean, min, max (values are the str-encoded integers JSON needs)."""
    if not hist:
        return {"mean": 0.0, "min": 0, "max": 0}
    n = sum(hist.values())
    values = [int(v) for v in hist]
    return {"mean": sum(int(v) * c for v, c in hist.items()) / n, "min": min(values), "max": max(values)}
