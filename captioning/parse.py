"""Prompt -> claims: the caption language read back, with the realisers' own phrase tables.

The parser keeps no phrases of its own. It walks every wording a realiser (English,
Chinese) can produce for each message (`_every`: an rng stand-in that takes each choice
in turn) and keeps those texts as templates with holes for a noun phrase and a time,
so whatever a short caption can say, a prompt can say. Noun phrases are read with the
realisers' word tables and `scenes.vocabulary`.

A prompt names objects ("a small red rubber ball": entity p0, then "the ball" is p0
again), the ramp and the floor; it yields claims about them in the claim language
`captioning.check` speaks, each a group of alternatives where a wording is ambiguous
("collides with" is said of a hit and of a collision). Objects are bound to a scene's
bodies later (`captioning.enact`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from simreel.captioning import chinese, english
from simreel.captioning.plan import Message
from simreel.captioning.types import Claim
from simreel.scenes import vocabulary

NP, TIME = "\x00", "\x01"  # holes in a template
_T = 98.7  # a time no template contains, realised then swapped for the TIME hole
ENTITY = "p"  # prompt objects are p0, p1, ...
ATTRIBUTES = ("size", "colour", "material", "shape")


class PromptError(ValueError):
    """A prompt the parser cannot read, or one that contradicts itself; one line for the user."""


@dataclass(frozen=True)
class Entity:
    """One object (or the ramp) the prompt names, with the attributes it states."""

    name: str  # "p0", ... or a static's name ("ramp")
    look: tuple[tuple[str, str], ...]  # (("colour", "red"), ("shape", "sphere")), in ATTRIBUTES order
    text: str  # how the prompt first named it


@dataclass(frozen=True)
class Prompt:
    """What a prompt states: its objects and claims (each a group of alternatives, one must hold)."""

    text: str
    language: str
    entities: tuple[Entity, ...]  # objects, p0, p1, ...
    statics: tuple[Entity, ...]  # named scenery ("ramp")
    claims: tuple[tuple[Claim, ...], ...]
    sources: tuple[str, ...]  # per claim group: the words it was read from

    def to_dict(self) -> dict:
        return {"text": self.text, "language": self.language,
                "objects": [{"name": e.name, "text": e.text, **dict(e.look)} for e in (*self.entities, *self.statics)],
                "claims": [{"words": s, "any_of": [c.to_dict() for c in g]} for g, s in zip(self.claims, self.sources)]}


# --- walking every wording ------------------------------------------------------------


class _Choices:
    """An rng stand-in: takes the choices in `path`, then the first option of every later one."""

    def __init__(self, path: tuple[int, ...]):
        self.path, self.sizes = path, []

    def integers(self, n: int) -> int:
        k = len(self.sizes)
        self.sizes.append(int(n))
        return self.path[k] if k < len(self.path) else 0

    def random(self) -> float:
        return (0.0, 0.999)[self.integers(2)]


def _every(fn) -> list[str]:
    """fn(rng) for every sequence of choices it can make (depth first, each text once)."""
    out, stack = [], [()]
    while stack:
        path = stack.pop()
        rng = _Choices(path)
        out.append(fn(rng))
        for depth in range(len(path), len(rng.sizes)):
            for v in range(1, rng.sizes[depth]):
                stack.append(path + (0,) * (depth - len(path)) + (v,))
    return list(dict.fromkeys(out))


def _parts(text: str) -> tuple[str, ...]:
    """A realised text as literal pieces and holes (NP, TIME)."""
    text = text.replace(f"{_T:.1f}", TIME)
    return tuple(p for p in re.split(f"([{NP}{TIME}])", text) if p)


@dataclass(frozen=True)
class _Reading:
    """What a verb phrase template says: a message kind and its slots."""

    kind: str
    onto: str | None = None  # fall: None | "floor" | NP
    manner: str | None = None
    direction: str | None = None
    timed: bool = False
    again: bool = False  # the short bounce ("rebounds") on the surface just named


def _readings():
    """(reading, Message, prev) for every verb phrase the realisers know."""
    for timed in (False, True):
        at = (("at", _T),) if timed else ()

        def m(kind, other=None, **slots):
            return Message(kind, "s", other, tuple(sorted({**slots, **dict(at)}.items())))

        yield _Reading("fall", timed=timed), m("fall"), None
        yield _Reading("fall", "floor", timed=timed), m("fall", "floor", onto="floor"), None
        yield _Reading("fall", NP, timed=timed), m("fall", "x", onto="x"), None
        for kind in ("land", "hit", "collide", "bounce"):
            yield _Reading(kind, timed=timed), m(kind, "x"), None
        yield _Reading("bounce", timed=timed, again=True), m("bounce", "x"), Message("land", "s", "x")
        for kind in ("fly", "topple", "exit", "enter", "rest", "still"):
            yield _Reading(kind, timed=timed), m(kind), None
        if not timed:
            for manner in ("roll", "slide", None):
                yield _Reading("descend", manner=manner), m("descend", "x", **({"manner": manner} if manner else {})), None
                for d in ("left", "right", "toward_camera", "away_from_camera", None):
                    if manner or d:
                        slots = {k: v for k, v in (("manner", manner), ("direction", d)) if v}
                        yield _Reading("travel", manner=manner, direction=d), m("travel", **slots), None


def _bare(cls):
    """A realiser with no clip: enough for phrases whose participants are holes."""
    out = object.__new__(cls)
    out.static_word, out.refs, out.things, out.shape_word = {}, {}, {}, {}
    return out


def _verb_templates(cls) -> list[tuple[tuple[str, ...], tuple[_Reading, ...]]]:
    realiser = _bare(cls)
    found: dict[tuple[str, ...], list[_Reading]] = {}
    for reading, message, prev in _readings():
        other = NP if message.other else None
        for text in _every(lambda rng: realiser.vp(message, rng, other, prev)):
            parts = _parts(text)
            if reading not in found.setdefault(parts, []):
                found[parts].append(reading)
    return sorted(((p, tuple(r)) for p, r in found.items()), key=lambda x: -len("".join(x[0])))


CAMERA = {  # camera motion -> its predicate
    "static": "camera_static", "orbit": "camera_orbits", "pan": "camera_tracks", "dolly": "camera_dollies"}


def _extra_messages():
    """(claims, Message) for what a short caption may add after its main clause."""
    for motion, directions in (("static", (None,)), ("orbit", ("left", "right")), ("pan", ("left", "right")),
                               ("dolly", ("in", "out")), (None, (None,))):
        for d in directions:
            for angle in ("high", "low", "level", None):
                claims = [Claim("camera", CAMERA[motion], d)] if motion else []
                claims += [Claim("camera", "camera_angle", angle)] if angle else []
                if claims:
                    slots = {k: v for k, v in (("motion", motion), ("direction", d), ("angle", angle)) if v}
                    yield tuple(claims), Message("camera", "camera", None, tuple(sorted(slots.items())))
    floors = tuple(chinese.FLOOR_COLOUR)
    for a in floors:
        for b in floors:
            claim = Claim("floor", "floor_colours", params=(("colours", (a, b)),))
            yield (claim,), Message("setting", None, None, (("floor", (a, b)),))
    for kind in english.FLOOR_KINDS:
        for env in english.SETTINGS:
            claims = (Claim("floor", "floor_kind", kind), Claim("sky", "environment", env))
            yield claims, Message("setting", None, None, (("environment", env), ("kind", kind)))


def _extra_templates(cls) -> list[tuple[str, str, tuple[Claim, ...]]]:
    """(before, after, claims): the words a short caption puts around its main clause for each extra."""
    subject, verbs = "\x02", "\x03"

    class Template(cls):
        def full(self, name, rng):
            return subject

        def vps(self, messages, rng, other=None):
            return [verbs]

    realiser = _bare(Template)
    out = []
    for claims, message in _extra_messages():
        for text in _every(lambda rng: realiser.short([Message("still", "s")], [message], rng)):
            before, after = text[:text.index(subject)], text[text.index(verbs) + 1:].rstrip(".。")
            out.append((before, after, claims))
    return out


# --- the two languages: noun phrases, counts, sentence breaks ------------------------------


@dataclass
class _Phrase:
    """A noun phrase as read: what it names and the attributes it states."""

    kind: str  # "object" | "static" | "floor"
    look: dict = field(default_factory=dict)
    definite: bool = False
    static: str | None = None
    text: str = ""


def _words(table: dict[str, tuple[str, ...] | str]) -> list[tuple[str, str]]:
    """(word, meaning) pairs from a realiser table, longest word first."""
    pairs = [(w, k) for k, ws in table.items() for w in ((ws,) if isinstance(ws, str) else ws)]
    return sorted(pairs, key=lambda p: -len(p[0]))


class _English:
    code = "en"
    realiser = english.English
    separator = " "
    articles = (("a ", False), ("an ", False), ("the ", True))
    attribute_words = sorted([*((w, ("size", k)) for w, k in _words(english.SIZE)),
                              *((s, ("size", s)) for s in vocabulary.SIZES),
                              *((c, ("colour", c)) for c in vocabulary.COLOURS),
                              *((w, ("material", k)) for w, k in _words(english.MATERIAL_ADJ)),
                              *((m, ("material", m)) for m in vocabulary.MATERIALS)], key=lambda p: -len(p[0]))
    nouns = [*((w, ("object", ("shape", k))) for w, k in _words(english.SHAPE)),
             ("object", ("object", None)), *((w, ("static", k)) for w, k in _words(english.STATIC)),
             ("floor", ("floor", None))]
    connectives = sorted({w.lower() + " " for ws in english.CONNECTIVE.values() for w in ws}, key=len, reverse=True)
    joiners = sorted({english.English.COMMA, *english.English.JOINERS}, key=len, reverse=True)

    def normal(self, text: str) -> str:
        return re.sub(r"\s+", " ", text.strip().lower())

    def sentences(self, text: str) -> list[str]:
        return [s.strip() for s in re.split(r"[.!?;:](?:\s+|$)", text) if s.strip()]

    def counts(self) -> dict[str, int]:
        out = {"a single object": 1, "one object": 1}
        out.update({f"{w} objects": n for n, w in enumerate(english.NUMBER) if n > 1})
        out.update({f"{n} objects": n for n in range(2, 40)})
        return out

    def noun_phrase(self, s: str, i: int) -> tuple[int, _Phrase] | None:
        start = i
        phrase = _Phrase("object")
        for word, definite in self.articles:
            if s.startswith(word, i):
                i, phrase.definite = i + len(word), definite
                break
        i = self._attributes(s, i, phrase)
        hit = _word_at(s, i, self.nouns, boundary=True)
        if hit is None:
            return None
        i, (kind, value) = hit
        _noun(phrase, kind, value, s[start:i])
        if s.startswith(" made of ", i):
            got = _word_at(s, i + len(" made of "), [(m, m) for m in vocabulary.MATERIALS], boundary=True)
            if got is not None:
                i = got[0]
                _merge(phrase, "material", got[1], s[start:i])
        for clause in (" that is also ", " which is also ", " that is ", " which is "):
            if s.startswith(clause, i):
                more = self.noun_phrase(s, i + len(clause))
                j = i + len(clause)
                if more is None:  # "a ball that is red": bare attributes
                    bare = _Phrase("object")
                    k = self._attributes(s, j, bare)
                    if k == j:
                        break
                    more = (k, bare)
                for key, value in more[1].look.items():
                    _merge(phrase, key, value, s[start:more[0]])
                i = more[0]
                break
        phrase.text = s[start:i]
        return i, phrase

    def _attributes(self, s: str, i: int, phrase: _Phrase) -> int:
        start = i
        while True:
            hit = _word_at(s, i, self.attribute_words, boundary=True)
            if hit is None:
                return i
            j, (key, value) = hit
            _merge(phrase, key, value, s[start:j])
            i = j + 1 if s.startswith(" ", j) else j


class _Chinese:
    code = "zh"
    realiser = chinese.Chinese
    separator = ""
    attribute_words = [*((w + tail, ("size", k)) for w, k in _words(chinese.SIZE) for tail in ("号", "的", "")),
                       *((w + tail, ("colour", k)) for w, k in _words(chinese.COLOUR) for tail in ("的", "")),
                       *((w, ("material", k)) for w, k in _words(chinese.MATERIAL))]
    attribute_words.sort(key=lambda p: -len(p[0]))
    nouns = sorted([*((w, ("object", ("shape", k))) for w, k in _words(chinese.SHAPE)), ("物体", ("object", None)),
                    *((w, ("static", k)) for w, k in _words(chinese.STATIC)),
                    *((w, ("floor", None)) for w in ("地面", "地板", "地上"))], key=lambda p: -len(p[0]))
    measures = sorted({"一" + m for m in chinese.MEASURE.values()})
    connectives = sorted({w for ws in chinese.CONNECTIVE.values() for w in ws}, key=len, reverse=True)
    joiners = sorted({chinese.Chinese.COMMA, *chinese.Chinese.JOINERS}, key=len, reverse=True)

    def normal(self, text: str) -> str:
        return re.sub(r"\s+", "", text.strip()).replace(",", "，")

    def sentences(self, text: str) -> list[str]:
        return [s for s in re.split(r"[。！？；：!?;:]|\.(?!\d)", text) if s]

    def counts(self) -> dict[str, int]:
        return {f"{'一' if n == 1 else chinese.number(n)}个物体": n for n in range(1, 40)}

    def noun_phrase(self, s: str, i: int) -> tuple[int, _Phrase] | None:
        start = i
        phrase = _Phrase("object", definite=True)
        for m in self.measures:
            if s.startswith(m, i):
                i, phrase.definite = i + len(m), False
                break
        while True:
            hit = _word_at(s, i, self.attribute_words)
            noun = _word_at(s, i, self.nouns)
            if noun is not None and (hit is None or noun[0] >= hit[0]):
                break
            if hit is None:
                return None
            i, (key, value) = hit
            _merge(phrase, key, value, s[start:i])
        i, (kind, value) = noun
        _noun(phrase, kind, value, s[start:i])
        phrase.text = s[start:i]
        return i, phrase


def _noun(phrase, kind: str, value, text: str) -> None:
    """What a noun says of its phrase: an object's shape (or asset), or which static body it is."""
    phrase.kind = kind
    if kind == "object" and value:
        _merge(phrase, *value, text)
    elif kind == "static":
        phrase.static = value


def _word_at(s: str, i: int, table, boundary: bool = False):
    """(end, meaning) of the longest table word at s[i:], or None."""
    for word, meaning in table:
        if s.startswith(word, i):
            end = i + len(word)
            if not boundary or end == len(s) or not s[end].isalnum():
                return end, meaning
    return None


def _merge(phrase: _Phrase, key: str, value: str, text: str) -> None:
    old = phrase.look.get(key)
    if old is not None and old != value:
        raise PromptError(f'"{text}" contradicts itself: one object has one {key}, not both {old} and {value}; '
                          f"drop one of them")
    phrase.look[key] = value


# --- the parser --------------------------------------------------------------------------


class _Grammar:
    """One language's templates, built once per process."""

    def __init__(self, lang):
        self.lang = lang
        low = (lambda t: t.lower()) if lang.code == "en" else (lambda t: t)
        self.verbs = [(tuple(low(p) for p in parts), r) for parts, r in _verb_templates(lang.realiser)]
        extras = [(low(b), low(a), c) for b, a, c in _extra_templates(lang.realiser)]
        self.before = sorted({(b, c) for b, a, c in extras if b}, key=lambda x: -len(x[0]))
        self.after = sorted({(a, c) for b, a, c in extras if a}, key=lambda x: -len(x[0]))
        self.counts = sorted(lang.counts().items(), key=lambda x: -len(x[0]))
        self.settings = self._settings()

    def _settings(self) -> list[tuple[str, str]]:
        """(before, after) the count in every setting sentence with no floor words, as lead-ins."""
        realiser = _bare(self.lang.realiser)
        out = set()
        for n in (2, 3):
            message = Message("setting", None, None, (("n", n),))
            count = next(k for k, v in self.counts if v == n and not k[0].isdigit())
            for text in _every(lambda rng: realiser.setting(message, rng)):
                text = self.lang.normal(text).rstrip(".。")
                if count in text:
                    k = text.index(count)
                    out.add((text[:k], text[k + len(count):]))
        return sorted(out, key=lambda x: -len(x[0]) - len(x[1]))


_GRAMMARS: dict[str, _Grammar] = {}


def _grammar(code: str) -> _Grammar:
    if code not in _GRAMMARS:
        _GRAMMARS[code] = _Grammar({"en": _English, "zh": _Chinese}[code]())
    return _GRAMMARS[code]


def language_of(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


@dataclass
class _Verb:
    reading: tuple[_Reading, ...]
    other: _Phrase | None
    time: float | None
    text: str


class _Reader:
    """Reads one prompt: sentences of a subject and its verb phrases, with extras and counts."""

    def __init__(self, text: str, grammar: _Grammar):
        self.text, self.g, self.lang = text, grammar, grammar.lang
        self.entities: list[Entity] = []
        self.statics: dict[str, dict] = {}
        self.claims: list[tuple[tuple[Claim, ...], str]] = []
        self.count: tuple[int, str] | None = None
        self.furthest = (-1, "")  # (position, sentence) of the deepest failure in the sentence being read

    def read(self) -> Prompt:
        sentences = self.lang.sentences(self.lang.normal(self.text))
        if not sentences:
            raise PromptError("the prompt is empty; describe what happens, e.g. "
                              '"a small red rubber ball rolls down a blue wooden ramp and hits a green cube"')
        for s in sentences:
            self._sentence(s)
        if self.count is not None and len(self.entities) > self.count[0]:
            names = ", ".join(f'"{e.text}"' for e in self.entities)
            raise PromptError(f'the prompt says "{self.count[1]}" but names {len(self.entities)} objects ({names}); '
                              "make the count match")
        if self.count is not None:
            self.claims.append(((Claim("scene", "count", params=(("n", self.count[0]),)),), self.count[1]))
        statics = tuple(Entity(name, tuple((k, look[k]) for k in ATTRIBUTES if k in look), text)
                        for name, (look, text) in self.statics.items())
        for st in statics:
            for key, value in st.look:
                self.claims.insert(0, ((Claim(st.name, key, value),), st.text))
        for e in reversed(self.entities):
            for key, value in reversed(e.look):
                self.claims.insert(0, ((Claim(e.name, key, value),), e.text))
        return Prompt(self.text, self.lang.code, tuple(self.entities), statics,
                      tuple(c for c, _ in self.claims), tuple(s for _, s in self.claims))

    # --- sentences ---

    def _sentence(self, s: str) -> None:
        self.furthest = (-1, s)
        for phrase, n in self.g.counts:
            for before, after in [("", ""), *self.g.settings]:
                if s == before + phrase + after or s == before + phrase:
                    if self.count is not None and self.count[0] != n:
                        raise PromptError(f'the prompt says both "{self.count[1]}" and "{phrase}"; keep one')
                    self.count = (n, phrase)
                    return
        i = 0
        for c in self.lang.connectives:
            if s.startswith(c):
                i = len(c)
                break
        extras = []
        for before, claims in self.g.before:
            if s.startswith(before, i):
                i += len(before)
                extras.append((claims, before))
                break
        got = self.lang.noun_phrase(s, i)
        if got is None or got[1].kind != "object":
            self._fail(s, i)
            raise self._error()
        i, subject = got
        parsed = self._clauses(s, i + len(self.lang.separator) if s.startswith(self.lang.separator, i) else i)
        if parsed is None:
            raise self._error()
        verbs, tail = parsed
        name = self._entity(subject)
        before = None  # the surface or object the last verb phrase named: where a "rebounds" happens
        for verb in verbs:
            other = self._entity(verb.other) if verb.other is not None else None
            self._verb_claims(name, verb, other, before)
            before = other or ("floor" if any(r.onto == "floor" for r in verb.reading) else None)
        for claims, words in extras + tail:
            self.claims += [((c,), words.strip(" ,，")) for c in claims]

    def _clauses(self, s: str, i: int):
        """([verb, ...], [extras]) reading s[i:] to its end, or None (the failure is remembered)."""
        for parts, readings in self.g.verbs:
            got = self._match(parts, s, i)
            if got is None:
                continue
            end, other, time = got
            verb = _Verb(readings, other, time, s[i:end])
            rest = self._after(s, end)
            if rest is not None:
                return [verb, *rest[0]], rest[1]
        self._fail(s, i)
        return None

    def _after(self, s: str, i: int):
        if i == len(s):
            return [], []
        for after, claims in self.g.after:
            if s.startswith(after, i):
                rest = self._after(s, i + len(after))
                if rest is not None and not rest[0]:
                    return [], [(claims, after), *rest[1]]
        for joiner in self.lang.joiners:
            if s.startswith(joiner, i):
                got = self._clauses(s, i + len(joiner))
                if got is not None:
                    return got
        self._fail(s, i)
        return None

    def _match(self, parts, s: str, i: int):
        other, time = None, None
        for part in parts:
            if part == NP:
                got = self.lang.noun_phrase(s, i)
                if got is None:
                    self._fail(s, i)
                    return None
                i, other = got
            elif part == TIME:
                m = re.compile(r"\d+(?:\.\d+)?").match(s, i)
                if m is None:
                    return None
                i, time = m.end(), float(m[0])
            elif s.startswith(part, i):
                i += len(part)
            else:
                return None
        return i, other, time

    def _fail(self, s: str, i: int) -> None:
        if i > self.furthest[0]:
            self.furthest = (i, s)

    def _error(self) -> PromptError:
        i, s = self.furthest
        rest = s[i:].strip(" ,，")
        words = " ".join(rest.split()[:6]) if self.lang.code == "en" else rest[:12]
        after = f' after "{s[:i].strip()}"' if i > 0 else ""
        return PromptError(f'could not understand "{words}"{after}; prompts are written like the short captions, '
                           'e.g. "a small red rubber ball rolls down a blue wooden ramp and hits a green cube"')

    # --- objects and claims ---

    def _entity(self, phrase: _Phrase) -> str:
        if phrase.kind == "floor":
            return "floor"
        if phrase.kind == "static":
            look, text = self.statics.setdefault(phrase.static, ({}, phrase.text))
            for key, value in phrase.look.items():
                if key not in ("colour", "material"):
                    raise PromptError(f'"{phrase.text}": a {phrase.static} has a colour and a material, not a {key}')
                if look.get(key, value) != value:
                    raise PromptError(f'the {phrase.static} is said to be both {look[key]} and {value}; keep one')
                look[key] = value
            return phrase.static
        if phrase.definite:
            known = [e for e in self.entities if all(dict(e.look).get(k) == v for k, v in phrase.look.items())]
            if len(known) > 1:
                raise PromptError(f'"{phrase.text}" could be any of {", ".join(chr(34) + e.text + chr(34) for e in known)}; '
                                  "add a colour or size to tell them apart")
            if known:
                return known[0].name
        entity = Entity(f"{ENTITY}{len(self.entities)}", tuple((k, phrase.look[k]) for k in ATTRIBUTES if k in phrase.look),
                        phrase.text)
        self.entities.append(entity)
        return entity.name

    def _verb_claims(self, subject: str, verb: _Verb, other: str | None, before: str | None) -> None:
        options = []
        for r in verb.reading:
            claims = _claims(r, subject, other, before, verb.time)
            if claims not in options:
                options.append(claims)
        if len({len(o) for o in options}) > 1:
            options = [options[0]]
        for k in range(len(options[0])):
            group = tuple(dict.fromkeys(o[k] for o in options))
            self.claims.append((group, verb.text))


def _claims(r: _Reading, s: str, other: str | None, before: str | None, time: float | None) -> tuple[Claim, ...]:
    """The claims one verb phrase states (`happening_message`'s, read backwards)."""
    at = (("at", time),) if time is not None else ()
    if r.kind == "fall":
        if r.onto is None:
            return (Claim(s, "falls"),)
        target = "floor" if r.onto == "floor" else other
        pred = "hits" if target.startswith(ENTITY) and target[1:].isdigit() else "lands_on"
        return Claim(s, "falls"), Claim(s, pred, target, params=at)
    if r.kind in ("land", "hit", "collide", "bounce"):
        pred = {"land": "lands_on", "hit": "hits", "collide": "collides", "bounce": "bounces"}[r.kind]
        return (Claim(s, pred, before if r.again else other, params=at),)
    if r.kind in ("descend", "travel"):
        out = [Claim(s, "descends", other)] if r.kind == "descend" else []
        out += [Claim(s, "moves_dir", r.direction)] if r.direction else []
        out += [Claim(s, {"roll": "rolls", "slide": "slides"}[r.manner])] if r.manner else []
        return tuple(out)
    if r.kind == "still":
        return (Claim(s, "moves", negated=True),)
    pred = {"fly": "flies", "topple": "topples", "exit": "exits_view", "enter": "enters_view", "rest": "rests"}[r.kind]
    return (Claim(s, pred, params=at if r.kind != "fly" else ()),)


def parse(text: str, language: str | None = None) -> Prompt:
    """The prompt's objects and claims; PromptError (one line) if it cannot be read or contradicts itself."""
    language = language or language_of(text)
    if language not in ("en", "zh"):
        raise PromptError(f"prompts are read in English or Chinese, not {language!r}")
    return _Reader(text, _grammar(language)).read()
