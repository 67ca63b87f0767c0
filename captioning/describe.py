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

from captioning import refer
from captioning.chinese import Chinese
from captioning.english import English
from captioning.facts import Clip, happenings
from captioning.plan import (
    ClaimBook, Message, camera_message, intro_messages, light_message, main_messages, motion_messages,
    setting_message,
)
from captioning.questions import questions
from captioning.types import LANGUAGES, QA, Captions, EventPhrase, Passage, Reference
from scenes.types import SceneSpec, Trajectory

REALISERS = {"en": English, "zh": Chinese}
DENSE_WORDS = (40, 150)  # English words; Chinese follows the same plan
PART = {"refs": 0, "dense": 1, "short": 2, "events": 3, "qa": 4}


@dataclass(frozen=True)
class Sentence:
    kind: str  # setting | intro | static | motion | camera | light
    messages: tuple[Message, ...]
    connective: str | None = None
    priority: int = 0  # 0 = always kept; higher numbers are dropped first when too long

    @property
    def claims(self) -> tuple[int, ...]:
        return tuple(sorted({c for m in self.messages for c in m.claims}))


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
                connective = "meanwhile" if rng.random() < 0.3 else None
            elif k == len(groups) - 1 and len(groups) > 2 and rng.random() < 0.5:
                connective = "finally"
            elif rng.random() < 0.6:
                connective = "then"
        minor = all(m.kind in ("rest", "still", "bounce") for m in group)
        out.append(Sentence("motion", tuple(group), connective, 1 if minor else 0))
    return out


def _render(realiser, s: Sentence, rng: np.random.Generator) -> str:
    if s.kind == "motion":
        return realiser.motion(list(s.messages), s.connective, rng)
    return getattr(realiser, s.kind)(s.messages[0], rng)


def describe(spec: SceneSpec, trajectory: Trajectory, languages: tuple[str, ...] = LANGUAGES, *,
             qa: bool = True, simulate: Callable[[SceneSpec], Trajectory] | None = None) -> Captions:
    """Captions, event phrases and questions for one clip, each kept with the claims it states.

    `qa=False` skips the questions (and the two extra simulations they need);
    `simulate` defaults to `scenes.simulate`.
    """
    unknown = [lang for lang in languages if lang not in REALISERS]
    if unknown or not languages:
        raise ValueError(f"unknown languages {unknown or languages!r}; choose from {tuple(REALISERS)}")
    if simulate is None:
        from scenes import simulate
    clip = Clip(spec, trajectory)
    found = happenings(clip)
    plan = _rng(spec, 0)
    choices = refer.choose(clip)
    langs = tuple(dict.fromkeys(("en", *languages)))  # English always: it measures the length budget
    realisers = {lang: REALISERS[lang](spec, choices, _rng(spec, 1, k, PART["refs"])) for k, lang in enumerate(langs)}
    lang_rng = lambda lang, part, i: _rng(spec, 1, langs.index(lang), PART[part], i)  # noqa: E731
    book = ClaimBook()

    # --- dense: plan sentences, then drop optional ones until it fits -------------------------
    motion = motion_messages(clip, book, plan, found=found)
    intros = [Sentence(m.kind, (m,), priority=0 if m.kind == "intro" else 1) for m in intro_messages(clip, book, plan)]
    setting = Sentence("setting", (setting_message(clip, book, plan),), priority=2)
    camera = Sentence("camera", (camera_message(clip, book),), priority=1)
    light = Sentence("light", (light_message(clip, book),), priority=2)
    story = _motion_sentences(motion, plan)
    order = int(plan.integers(3))
    if order == 0:
        sentences = [setting, *intros, *story, camera, light]
    elif order == 1:
        sentences = [camera, setting, *intros, *story, light]
    else:
        sentences = [setting, light, *intros, *story, camera]
    sentences = [s for s in sentences if s.claims]
    numbered = list(enumerate(sentences))  # wording streams follow the planned position, not the kept one

    def words(kept) -> int:
        return sum(len(_render(realisers["en"], s, lang_rng("en", "dense", i)).split()) for i, s in kept)

    while words(numbered) > DENSE_WORDS[1] and any(s.priority for _, s in numbered):
        worst = max(numbered, key=lambda x: (x[1].priority, x[0]))
        numbered.remove(worst)
    dense = tuple(
        Passage({lang: _render(realisers[lang], s, lang_rng(lang, "dense", i)) for lang in languages}, s.claims)
        for i, s in numbered
    )

    # --- short: the main happening, its participants in full ---------------------------------
    main = main_messages(motion)
    extras = [m for m, p in ((camera.messages[0], 0.3), (setting.messages[0], 0.2)) if plan.random() < p and m.claims]
    named = {main[0].subject, *(m.other for m in main if m.other and m.other != "floor")} if main else set()
    short_claims = {c for m in (*main, *extras) for c in m.claims}
    for name in sorted(named):
        short_claims.update(book.attributes(spec, name))
    if not main:  # nothing moves: name the objects and where they are
        main = [m for s in intros for m in s.messages][:1]
    short = Passage({lang: realisers[lang].short(main, extras, lang_rng(lang, "short", 0)) if main[0].kind != "intro"
                     else realisers[lang].intro(main[0], lang_rng(lang, "short", 0)) for lang in languages},
                    tuple(sorted(short_claims | {c for m in main for c in m.claims})))

    # --- events: one timestamped phrase per happening ----------------------------------------
    events = tuple(
        EventPhrase(m.f0 / clip.fps, m.f1 / clip.fps,
                    Passage({lang: realisers[lang].event(m, lang_rng(lang, "events", i)) for lang in languages}, m.claims))
        for i, m in enumerate(motion_messages(clip, book, None, found=found))
    )

    # --- questions ------------------------------------------------------------------------
    asked = questions(clip, found, plan, simulate) if qa else []
    qas = []
    for i, q in enumerate(asked):
        texts = {lang: realisers[lang].qa(q, lang_rng(lang, "qa", i)) for lang in languages}
        qas.append(QA(q.kind, {lang: t[0] for lang, t in texts.items()}, {lang: t[1] for lang, t in texts.items()},
                      tuple(book.add(c) for c in q.claims)))

    references = [Reference(name, c.attributes, c.spatial, {lang: realisers[lang].refs[name] for lang in languages})
                  for name, c in choices.items()]
    for q in asked:  # questions that name an object by other attributes ("the sphere", "the red object")
        attrs = dict(q.slots).get("attributes") or ((("colour", dict(q.slots)["colour"]),) if q.qtype == "shape" else None)
        if attrs:
            references.append(Reference(q.subject, attrs, None,
                                        {lang: realisers[lang].definite(attrs, None) for lang in languages}))
    return Captions(tuple(languages), tuple(book.claims), short, dense, events, tuple(qas), tuple(references))
