"""describe(spec, trajectory) -> Captions: claims first, then text in every language.

Randomness comes only from the spec's seed: one stream plans the content (which
details, which order, which questions), and one stream per language and text part
picks wordings, so dropping a sentence to fit the length budget does not reword the
others, and English and Chinese always say the same claims.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from simreel.captioning import refer
from simreel.captioning.chinese import Chinese
from simreel.captioning.english import English
from simreel.captioning.facts import Clip, happenings
from simreel.captioning.plan import (
    ClaimBook, Message, camera_message, compact_intro, intro_messages, light_message, main_messages,
    motion_messages, setting_message,
)
from simreel.captioning.questions import questions
from simreel.captioning.types import LANGUAGES, QA, Captions, EventPhrase, Passage, Reference
from simreel.scenes.types import SceneSpec, Trajectory

REALISERS = {"en": English, "zh": Chinese}
DENSE_WORDS = 150  # at most this many English words; Chinese follows the same plan
PART = {"refs": 0, "dense": 1, "short": 2, "events": 3, "qa": 4}
KINDS = ("setting", "intro", "intros", "static", "motion", "camera", "light")
DROP_ORDER = {  # what goes first when the paragraph is too long (higher first); unlisted never goes
    "light": 9, "rest": 8, "still": 8, "bounce": 7, "setting": 6, "travel": 6, "intro_detail": 5.5, "land": 5,
    "camera": 4, "static": 3.5, "exit": 3, "enter": 3, "fall": 2, "fly": 2, "descend": 1,
    "hit": 0.5, "collide": 0.5, "topple": 0.5,
}


@dataclass(frozen=True)
class Sentence:
    kind: str  # one of KINDS
    messages: tuple[Message, ...]
    connective: str | None = None

    @property
    def claims(self) -> tuple[int, ...]:
        return tuple(sorted({c for m in self.messages for c in m.claims}))

    def key(self, names: tuple[str, ...]) -> tuple[int, int, int]:
        """Identifies the sentence by content, so its wording survives other sentences being dropped."""
        m = self.messages[0]
        return KINDS.index(self.kind), names.index(m.subject) if m.subject in names else len(names), m.f0


def _rng(spec: SceneSpec, *stream: int) -> np.random.Generator:
    return np.random.default_rng([spec.seed % 2**63, *stream])


def _motion_sentences(motion: list[Message], rng: np.random.Generator) -> list[Sentence]:
    """Consecutive messages about one subject share a sentence (up to three); connectives
    follow the timing: "meanwhile" only when the next starts before the last one ended."""
    groups: list[list[Message]] = []
    for m in motion:
        if groups and groups[-1][0].subject == m.subject and len(groups[-1]) < 3:
            groups[-1].append(m)
        else:
            groups.append([m])
    out = []
    for k, group in enumerate(groups):
        connective = None
        if k > 0:
            previous_end = max(m.f1 for m in groups[k - 1])
            if group[0].f0 < previous_end:
                connective = "meanwhile" if rng.random() < 0.3 and out[-1].connective != "meanwhile" else None
            elif k == len(groups) - 1 and len(groups) > 2 and rng.random() < 0.5:
                connective = "finally"
            elif rng.random() < 0.6:
                connective = "then"
        out.append(Sentence("motion", tuple(group), connective))
    return out


def _merged_intros(intros: list[Message]) -> list[Sentence]:
    """Objects that start the same way (on the floor, in the air) introduced in one sentence."""
    shared: dict[tuple, list[Message]] = {}
    for m in intros:
        where = m.slot("where")
        if len(where) == 1 and where[0][0] in ("floor", "air") and not m.slot("moving"):
            shared.setdefault(where[0], []).append(m)
    out = []
    for m in intros:
        group = next((g for g in shared.values() if m in g and len(g) > 1), None)
        if group is None:
            out.append(Sentence("intro", (m,)))
        elif m is group[0]:
            out.append(Sentence("intros", tuple(group)))
    return out


def _render(realiser, s: Sentence, rng: np.random.Generator) -> str:
    if s.kind in ("motion", "intros"):
        return getattr(realiser, s.kind)(list(s.messages), s.connective, rng)
    return getattr(realiser, s.kind)(s.messages[0], rng)


def _dense_plan(spec: SceneSpec, parts: dict[str, list[Message]], keep: list[Message], words) -> list[Sentence]:
    """Sentences in one of three orders; optional content dropped (DROP_ORDER) until `words` fits."""
    order = ([["setting"], ["static", "intro"], ["motion"], ["camera"], ["light"]],
             [["camera"], ["setting"], ["static", "intro"], ["motion"], ["light"]],
             [["setting"], ["light"], ["static", "intro"], ["motion"], ["camera"]])[int(_rng(spec, 2).integers(3))]
    optional = [(DROP_ORDER[k], 0, k) for k in ("light", "setting", "camera", "intro_detail")]
    optional += [(DROP_ORDER[m.kind], m.f0, m) for m in parts["motion"] if m.kind in DROP_ORDER and m not in keep]
    optional += [(DROP_ORDER["static"], 0, m) for m in parts["static"]]
    optional.sort(key=lambda x: (-x[0], -x[1]))
    dropped: list = []

    def build() -> list[Sentence]:
        out = []
        for group in order:
            for kind in group:
                if kind in dropped:
                    continue
                if kind == "motion":
                    kept = [m for m in parts["motion"] if m not in dropped]
                    out += _motion_sentences(kept, _rng(spec, 3))
                    continue
                if kind == "intro" and "intro_detail" in dropped:
                    out += _merged_intros([compact_intro(m) for m in parts[kind]])
                    continue
                out += [Sentence(kind, (m,)) for m in parts[kind] if m not in dropped]
        return [s for s in out if s.claims]

    sentences = build()
    while words(sentences) > DENSE_WORDS and optional:
        dropped.append(optional.pop(0)[2])
        sentences = build()
    return sentences


def describe(spec: SceneSpec, trajectory: Trajectory, languages: tuple[str, ...] = LANGUAGES, *,
             qa: bool = True, simulate: Callable[[SceneSpec], Trajectory] | None = None) -> Captions:
    """Captions, event phrases and questions for one clip, each kept with the claims it states.

    `qa=False` skips the questions (and the two extra simulations they need);
    `simulate` defaults to `scenes.simulate`.
    """
    languages = tuple(languages)
    unknown = [lang for lang in languages if lang not in REALISERS]
    if unknown or not languages:
        raise ValueError(f"unknown languages {unknown or languages!r}; choose from {tuple(REALISERS)}")
    if simulate is None:
        from simreel.scenes import simulate
    clip = Clip(spec, trajectory)
    found = happenings(clip)
    plan = _rng(spec, 0)
    choices = refer.choose(clip)
    langs = tuple(dict.fromkeys(("en", *languages)))  # English always: it measures the length budget
    stream = lambda lang, part, *key: _rng(spec, 1, tuple(REALISERS).index(lang), PART[part], *key)  # noqa: E731
    realisers = {lang: REALISERS[lang](spec, choices, stream(lang, "refs")) for lang in langs}

    def say(part: str, key: tuple, fn) -> dict[str, str]:
        """fn(realiser, rng) in every language, each with its own wording stream."""
        return {lang: fn(realisers[lang], stream(lang, part, *key)) for lang in languages}

    book = ClaimBook()
    motion = motion_messages(clip, book, plan, found)
    intros = intro_messages(clip, book, plan)
    setting, camera, light = setting_message(clip, book), camera_message(clip, book), light_message(clip, book)
    main = main_messages(motion)

    # dense: plan sentences, then drop optional content until it fits
    parts = {"setting": [setting], "intro": [m for m in intros if m.kind == "intro"],
             "static": [m for m in intros if m.kind == "static"], "motion": motion, "camera": [camera], "light": [light]}
    names = clip.traj.names
    english: dict[Sentence, int] = {}  # words per sentence, measured once

    def words(x: Sentence) -> int:
        if x not in english:
            english[x] = len(_render(realisers["en"], x, stream("en", "dense", *x.key(names))).split())
        return english[x]

    sentences = _dense_plan(spec, parts, main, lambda ss: sum(words(x) for x in ss))
    dense = tuple(Passage(say("dense", x.key(names), lambda r, g, x=x: _render(r, x, g)), x.claims) for x in sentences)

    # short: the main happening and its participants in full, sometimes the camera or floor
    extras = [m for m, p in ((camera, 0.3), (setting, 0.2)) if plan.random() < p and m.claims]
    if main:
        named = sorted({main[0].subject, *(m.other for m in main if m.other in names)})
        claims = {c for m in (*main, *extras) for c in m.claims}
        claims.update(c for n in named for c in book.attributes(spec, n))
        short = Passage(say("short", (0,), lambda r, g: r.short(main, extras, g)), tuple(sorted(claims)))
    else:  # nothing happens: name an object and where it is (or, with no objects, the setting)
        first = (parts["intro"] or [setting])[0]
        short = Passage(say("short", (0,), lambda r, g: getattr(r, first.kind)(first, g)), first.claims)

    # events: one timestamped phrase per happening, without stated times
    events = tuple(
        EventPhrase(m.f0 / clip.fps, m.f1 / clip.fps, Passage(say("events", (i,), lambda r, g, m=m: r.event(m, g)), m.claims))
        for i, m in enumerate(motion_messages(clip, book, None, found))
    )

    asked = questions(clip, found, plan, simulate) if qa else []
    qas = []
    for i, q in enumerate(asked):
        texts = say("qa", (i,), lambda r, g, q=q: r.qa(q, g))
        qas.append(QA(q.kind, {k: t[0] for k, t in texts.items()}, {k: t[1] for k, t in texts.items()},
                      tuple(book.add(c) for c in q.claims)))

    references = [Reference(name, c.attributes, c.spatial, {lang: realisers[lang].refs[name] for lang in languages})
                  for name, c in choices.items()]
    for q in asked:  # questions that name an object by other attributes ("the sphere", "the red object")
        attrs = dict(q.slots).get("attributes") or ((("colour", dict(q.slots)["colour"]),) if q.qtype == "shape" else None)
        if attrs:
            references.append(Reference(q.subject, attrs, None, {lang: realisers[lang].definite(attrs, None)
                                                                 for lang in languages}))
    return _pruned(Captions(languages, tuple(book.claims), short, dense, events, tuple(qas), tuple(references)))


def _pruned(caps: Captions) -> Captions:
    """Drop claims no text states (planned, then cut for length) and renumber the rest."""
    used = sorted(caps.all_claim_indices())
    new = {old: k for k, old in enumerate(used)}
    renumber = lambda p: Passage(p.text, tuple(new[c] for c in p.claims))  # noqa: E731
    return Captions(
        caps.languages, tuple(caps.claims[c] for c in used), renumber(caps.short_passage),
        tuple(renumber(p) for p in caps.dense_passages),
        tuple(EventPhrase(e.start_s, e.end_s, renumber(e.passage)) for e in caps.events),
        tuple(QA(q.kind, q.question, q.answer, tuple(new[c] for c in q.claims)) for q in caps.qa),
        caps.references,
    )
