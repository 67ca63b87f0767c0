"""What every language's realiser shares: per-clip word choices and clause chaining.

A language subclass supplies its lexicon (SHAPE, STATIC), its list punctuation
(COMMA, JOINERS) and the phrases themselves (definite, vp, ...).
"""
from __future__ import annotations

import numpy as np

from simreel.captioning.plan import Message


def pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


class Realiser:
    SHAPE: dict[str, tuple[str, ...]]
    STATIC: dict[str, tuple[str, ...]]
    COMMA: str
    JOINERS: tuple[str, ...]

    def __init__(self, spec, choices, rng: np.random.Generator):
        # noun phrases are fixed per object for the whole clip, so one object keeps one name
        self.things = {o.name: o for o in (*spec.objects, *spec.statics)}
        self.shape_word = {o.name: self.asset_word(o.asset.name) if o.asset else pick(rng, self.SHAPE[o.shape])
                           for o in spec.objects}
        self.static_word = {s.name: pick(rng, self.STATIC.get(s.name, (s.name,))) for s in spec.statics}
        self.refs = {name: self.definite(c.attributes, c.spatial, name) for name, c in choices.items()}

    def asset_word(self, name: str) -> str:
        """A mesh asset's noun ("teddy bear"): its name, which captions use in place of a shape word."""
        return name

    def vps(self, messages: list[Message], rng, other=None) -> list[str]:
        name = other or (lambda n: None)
        return [self.vp(m, rng, name(m.other) if m.other else None, messages[k - 1] if k else None)
                for k, m in enumerate(messages)]

    def clause_list(self, vps: list[str], rng) -> str:
        if len(vps) == 1:
            return vps[0]
        return self.COMMA.join(vps[:-1]) + pick(rng, self.JOINERS) + vps[-1]
