"""The values captioning hands downstream: claims, and texts that each keep their claims.

A `Claim` is one checkable statement about a clip (or about a re-simulated variant
of it: the clip run longer, or run without one object). Every sentence, event phrase
and answer carries the indices of the claims it states, so `captioning.check` can
verify any text against the ground truth without reading the text itself.

These are the only definitions the generator and the checker share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LANGUAGES = ("en", "zh")

# --- worlds: which trajectory a claim is about -------------------------------------
CLIP = "clip"
"""The clip itself (the trajectory passed to `describe`)."""
EXTENDED = "extended:"
"""Prefix; "extended:3.5" = the same scene simulated for 3.5 s (predictive questions)."""
WITHOUT = "without:"
"""Prefix; "without:obj1" = the scene re-simulated with object obj1 removed (counterfactuals)."""

PREDICATES = (
    # attributes (from the spec); object = the attribute word
    "colour", "shape", "size", "material",
    # counts; params n and optional filters shape/colour/material/size
    "count",
    "count_moved",  # number of objects that move during [t_start, t_end]; params n
    # layout at one instant (t_start == t_end)
    "left_of", "right_of", "in_front_of", "behind",  # relative to the camera at that moment
    "on_top_of", "above",  # object = another object
    "touches",  # object = an object or static it is in contact with at that instant
    "on_floor", "in_air",
    "screen_side",  # object = "left" | "centre" | "right" of the picture
    "in_view",
    # motion over [t_start, t_end]
    "moves",  # negated: stays still
    "moves_dir",  # object = "left" | "right" | "toward_camera" | "away_from_camera"
    "falls", "flies", "rolls", "slides", "topples",
    "descends",  # object = a static (down the ramp)
    "rests",  # stays at rest from t_start to t_end (the end of its world)
    "exits_view", "enters_view",
    "hits",  # object = the thing hit; the subject is the mover
    "collides",  # symmetric contact between two moving objects
    "lands_on",  # object = "floor", a static or another object
    "bounces",  # object = the surface bounced on
    "first_contact",  # object = the first thing the subject touches after the start
    # camera, light, setting
    "camera_static", "camera_orbits", "camera_tracks", "camera_dollies",  # object = direction
    "camera_angle",  # object = "high" | "low" | "level"
    "light_side",  # object = "left" | "right" | "front" | "back" (relative to the camera)
    "light_height",  # object = "high" | "low"
    "light_strength",  # object = "bright" | "soft"
    "shadows",
    "floor_colours",  # params colours=(name_a, name_b), checks="large" | "small"
    "background_colour",  # object = colour name
    "floor_kind",  # object = a scenes.worlds floor kind (worlds only)
    "environment",  # object = a scenes.worlds environment (worlds only)
)


@dataclass(frozen=True)
class Claim:
    """subject PREDICATE object, true over [t_start, t_end] seconds of `world`."""

    subject: str  # object name, a static's name, "floor", "camera", "light", "scene", "background"
    predicate: str  # one of PREDICATES
    object: str | None = None
    t_start: float = 0.0
    t_end: float = 0.0
    params: tuple[tuple[str, Any], ...] = ()
    negated: bool = False
    world: str = CLIP

    def __post_init__(self):
        if self.predicate not in PREDICATES:
            raise ValueError(f"unknown predicate {self.predicate!r}; known: {PREDICATES}")
        if self.t_end < self.t_start:
            raise ValueError(f"claim {self.predicate} ends ({self.t_end}) before it starts ({self.t_start})")

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "t_start": round(self.t_start, 4),
            "t_end": round(self.t_end, 4),
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params},
            "negated": self.negated,
            "world": self.world,
        }

    @staticmethod
    def from_dict(d: dict) -> "Claim":
        params = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in d.get("params", {}).items())
        return Claim(d["subject"], d["predicate"], d.get("object"), d["t_start"], d["t_end"], params,
                     d.get("negated", False), d.get("world", CLIP))


@dataclass(frozen=True, eq=False)
class Passage:
    """One piece of text per language and the claims (indices into Captions.claims) it states."""

    text: dict[str, str]  # language -> text; read-only by convention
    claims: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class EventPhrase:
    """A timestamped phrase, dense-video-captioning style."""

    start_s: float
    end_s: float
    passage: Passage


@dataclass(frozen=True, eq=False)
class QA:
    """A CLEVRER-style question: kind is descriptive | explanatory | predictive | counterfactual."""

    kind: str
    question: dict[str, str]
    answer: dict[str, str]
    claims: tuple[int, ...]  # what makes the answer true


@dataclass(frozen=True, eq=False)
class Reference:
    """How the captions name one object: the attributes used, and a spatial tie-breaker if needed.

    `spatial` is None, or (relation, rank) with relation one of "from_left", "from_right",
    "from_near", "from_far": the object is the rank-th (0 = first) among those sharing
    its attributes, counted that way in the camera view at frame 0.
    """

    name: str
    attributes: tuple[tuple[str, str], ...]  # (("colour", "red"), ("shape", "sphere")), in word order
    spatial: tuple[str, int] | None
    text: dict[str, str]  # language -> definite referring expression


QA_KINDS = ("descriptive", "explanatory", "predictive", "counterfactual")


@dataclass(frozen=True, eq=False)
class Captions:
    """Everything said about one clip. `short["en"]` is the one-sentence prompt."""

    languages: tuple[str, ...]
    claims: tuple[Claim, ...]
    short_passage: Passage
    dense_passages: tuple[Passage, ...]  # sentences in order
    events: tuple[EventPhrase, ...]
    qa: tuple[QA, ...]
    references: tuple[Reference, ...]

    @property
    def short(self) -> dict[str, str]:
        return dict(self.short_passage.text)

    @property
    def dense(self) -> dict[str, str]:
        sep = {"zh": ""}
        return {lang: sep.get(lang, " ").join(p.text[lang] for p in self.dense_passages) for lang in self.languages}

    def claims_of(self, indices: tuple[int, ...]) -> list[Claim]:
        return [self.claims[i] for i in indices]

    def all_claim_indices(self) -> set[int]:
        """Every claim some text states (the rest are support for a referring expression)."""
        out = set(self.short_passage.claims)
        for p in self.dense_passages:
            out.update(p.claims)
        for e in self.events:
            out.update(e.passage.claims)
        for q in self.qa:
            out.update(q.claims)
        return out

    def to_text(self) -> str:
        """A human-readable page: short and dense captions, timed events, questions."""
        lines = ["captions"]
        for title, texts in (("short", self.short), ("dense", self.dense)):
            for k, lang in enumerate(self.languages):
                lines.append(f"  {title if k == 0 else '':<6} [{lang}] {texts[lang]}")
        lines.append(f"events ({len(self.events)})")
        for e in self.events:
            lines.append(f"  {e.start_s:5.2f}-{e.end_s:5.2f}s  " + "  |  ".join(e.passage.text[lang] for lang in self.languages))
        lines.append(f"questions ({len(self.qa)})")
        for q in self.qa:
            for k, lang in enumerate(self.languages):
                lines.append(f"  {q.kind if k == 0 else '':<15} [{lang}] {q.question[lang]}  ->  {q.answer[lang]}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        langs = self.languages
        return {
            "short": self.short,
            "dense": self.dense,
            "events": {
                lang: [{"start_s": e.start_s, "end_s": e.end_s, "text": e.passage.text[lang],
                        "claims": list(e.passage.claims)} for e in self.events]
                for lang in langs
            },
            "qa": {
                lang: [{"kind": q.kind, "question": q.question[lang], "answer": q.answer[lang],
                        "claims": list(q.claims)} for q in self.qa]
                for lang in langs
            },
            "claims": [c.to_dict() for c in self.claims],
            "short_claims": list(self.short_passage.claims),
            "dense_sentences": [{"text": p.text, "claims": list(p.claims)} for p in self.dense_passages],
            # a list with the same fields in every entry (not a dict keyed by object, nor None for "no spatial
            # rank"): table readers such as Hugging Face datasets type a column from its first rows
            "references": [
                {"name": r.name, "text": r.text,
                 "attributes": {k: dict(r.attributes).get(k, "") for k in ("colour", "material", "shape", "size")},
                 "spatial": {"relation": r.spatial[0] if r.spatial else "", "rank": r.spatial[1] if r.spatial else -1}}
                for r in self.references
            ],
        }
