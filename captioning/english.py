"""English grammar: messages -> sentences, with several phrasings per message kind.

Every phrasing of a message states exactly that message's claims, no more; the rng
(seeded from the spec) only picks among equivalent wordings.
"""
from __future__ import annotations

import numpy as np

from simreel.captioning.plan import Message
from simreel.captioning.questions import Question
from simreel.captioning.realiser import Realiser, pick
from simreel.scenes.types import shows_material

SIZE = {"small": ("small", "little"), "medium": ("medium-sized", "mid-sized", "moderately sized"), "large": ("large", "big")}
MATERIAL_ADJ = {"rubber": ("rubber",), "metal": ("metal", "metallic"), "wood": ("wooden",), "ice": ("ice",),
                "plastic": ("plastic",)}
SHAPE = {"cube": ("cube",), "block": ("block", "brick", "cuboid"), "sphere": ("sphere", "ball"), "cylinder": ("cylinder",),
         "cone": ("cone",), "capsule": ("capsule", "pill"), "rock": ("rock", "stone")}
PLURAL = {"cube": "cubes", "block": "blocks", "sphere": "spheres", "cylinder": "cylinders", "cone": "cones",
          "capsule": "capsules", "rock": "rocks"}
STATIC = {"ramp": ("ramp", "slope"), "wall": ("wall",)}
FLOOR_KINDS = {"planks": ("a wooden plank floor", "a floor of wooden boards"), "tiles": ("a tiled floor", "a floor of square tiles"),
               "concrete": ("a concrete floor", "a bare concrete floor"), "grass": ("a grassy lawn", "a patch of grass")}
SETTINGS = {"clear_day": (" under a clear blue sky", " on a sunny day"), "overcast": (" under an overcast sky", " on a grey, cloudy day"),
            "sunset": (" at sunset", " in the orange light of sunset"), "night": (" at night", " under a dark night sky"),
            "studio": (" in a studio", " in a grey studio")}
NUMBER = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
SIDE = {"left": ("on the left", "on the left side of the frame", "at the left of the picture"),
        "right": ("on the right", "on the right side of the frame", "at the right of the picture"),
        "centre": ("in the centre", "in the middle of the frame", "near the centre of the picture")}
DIRECTION = {"left": ("to the left", "leftward"), "right": ("to the right", "rightward"),
             "toward_camera": ("toward the camera", "toward the viewer"),
             "away_from_camera": ("away from the camera", "away from the viewer")}
CONNECTIVE = {"then": ("Then", "After that,", "Next,", "Shortly after,", "Afterwards,", "Subsequently,"),
              "meanwhile": ("Meanwhile,", "In the meantime,"), "finally": ("Finally,", "In the end,", "At last,")}


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


class English(Realiser):
    """Realises messages for one clip in English."""

    lang = "en"
    SHAPE, STATIC = SHAPE, STATIC
    COMMA, JOINERS = ", ", (" and ", ", and then ", " and then ")

    # --- noun phrases -------------------------------------------------------------------

    def words(self, attributes, name: str | None = None) -> str:
        """Attribute words in English order (size, colour, material, shape); the object's own
        shape noun when `name` is given, else "object" if the shape is not among them."""
        out = []
        for key, value in attributes:
            if key == "size":
                out.append(SIZE[value][0])
            elif key == "colour":
                out.append(value)
            elif key == "material":
                out.append(MATERIAL_ADJ[value][0])
            elif key == "shape":
                out.append(self.shape_word[name] if name else SHAPE[value][0])
        if "shape" not in dict(attributes):
            out.append("object")
        return " ".join(out)

    def definite(self, attributes, spatial, name: str | None = None) -> str:
        words = self.words(attributes, name)
        if spatial is None:
            return f"the {words}"
        relation, rank = spatial
        if rank == 0:
            lead = {"from_left": "leftmost", "from_right": "rightmost", "from_near": "nearest", "from_far": "farthest"}
            return f"the {lead[relation]} {words}"
        ordinal = ("first", "second", "third", "fourth", "fifth")[rank]  # refer ranks 0 and 1 only
        tail = {"from_left": "from the left", "from_near": "nearest the camera"}[relation]
        return f"the {ordinal} {words} {tail}"

    def ref(self, name: str) -> str:
        if name == "floor":
            return "the floor"
        if name in self.static_word:
            return f"the {self.static_word[name]}"
        return self.refs[name]

    def full(self, name: str, rng: np.random.Generator) -> str:
        """Indefinite noun phrase with every attribute: "a small red rubber ball"."""
        thing = self.things[name]
        if name in self.static_word:
            adj = f"{thing.colour} {MATERIAL_ADJ[thing.material][0]}"
            return f"{article(adj)} {adj} {self.static_word[name]}"
        size = pick(rng, SIZE[thing.size])
        if not shows_material(thing):  # an asset in its own colours: its material is not seen
            np_ = f"{size} {thing.colour} {self.shape_word[name]}"
        elif rng.random() < 0.25:
            np_ = f"{size} {thing.colour} {self.shape_word[name]} made of {thing.material}"
        else:
            np_ = f"{size} {thing.colour} {pick(rng, MATERIAL_ADJ[thing.material])} {self.shape_word[name]}"
        return f"{article(np_)} {np_}"

    # --- clauses ------------------------------------------------------------------------

    def at(self, m: Message, rng) -> str:
        t = m.slot("at")
        if t is None:
            return ""
        return pick(rng, (f" at about {t:.1f} seconds", f" about {t:.1f} seconds in", f" at around {t:.1f} s",
                          f" roughly {t:.1f} seconds in", f" at the {t:.1f}-second mark"))

    def vp(self, m: Message, rng: np.random.Generator, other: str | None = None, prev: Message | None = None) -> str:
        """Verb phrase for a motion message; `other` overrides how the other participant is named,
        `prev` is the message just before in the same clause list (to avoid repeating a surface)."""
        k = m.kind
        x = other if other is not None else (self.ref(m.other) if m.other else "")
        if k == "bounce" and prev is not None and m.other in (prev.other, prev.slot("onto")):
            return pick(rng, ("bounces", "bounces back up", "rebounds")) + self.at(m, rng)
        if k == "fall":
            if m.slot("onto") is None:
                return pick(rng, ("falls", "drops", "falls downward", "comes down"))
            if m.slot("onto") == "floor":
                vp = pick(rng, ("falls to the floor", "drops onto the floor", "falls down onto the floor"))
            else:
                vp = pick(rng, (f"falls onto {x}", f"drops onto {x}", f"comes down onto {x}"))
        elif k == "fly":
            vp = pick(rng, ("flies through the air", "sails through the air", "arcs through the air",
                            "travels through the air", "soars through the air"))
        elif k == "land":
            vp = pick(rng, (f"lands on {x}", f"comes down on {x}", f"touches down on {x}"))
        elif k == "hit":
            vp = pick(rng, (f"hits {x}", f"strikes {x}", f"knocks into {x}", f"crashes into {x}", f"runs into {x}",
                            f"bumps into {x}", f"collides with {x}"))
        elif k == "collide":
            vp = pick(rng, (f"collides with {x}", f"bumps against {x}", f"meets {x} in a collision"))
        elif k == "bounce":
            vp = pick(rng, (f"bounces off {x}", f"rebounds off {x}", f"bounces on {x}"))
        elif k == "topple":
            vp = pick(rng, ("topples over", "tips over", "falls over", "keels over", "tumbles over"))
        elif k == "descend":
            verb = {"roll": ("rolls",), "slide": ("slides", "slips", "glides", "skids")}.get(
                m.slot("manner"), ("goes", "moves", "makes its way", "travels"))
            vp = f"{pick(rng, verb)} down {x}"
        elif k == "travel":
            verb = {"roll": ("rolls",), "slide": ("slides", "skids", "glides")}.get(m.slot("manner"), ("moves", "heads", "travels"))
            d = m.slot("direction")
            where = pick(rng, DIRECTION[d]) if d else pick(rng, ("along the floor", "across the floor"))
            vp = f"{pick(rng, verb)} {where}"
        elif k == "exit":
            vp = pick(rng, ("leaves the frame", "moves out of view", "goes out of the picture", "exits the frame",
                            "disappears from view", "passes out of shot"))
        elif k == "enter":
            vp = pick(rng, ("comes into view", "enters the frame", "appears in the picture"))
        elif k == "rest":
            vp = pick(rng, ("comes to rest", "comes to a stop", "settles", "stops moving", "comes to a halt",
                            "comes to a standstill", "settles down"))
        elif k == "still":
            vp = pick(rng, ("stays where it is", "does not move", "remains still", "stays put", "stays in place",
                            "never moves", "does not budge"))
        else:
            raise ValueError(f"no English verb phrase for {k!r}")
        return vp + self.at(m, rng)

    # --- sentences ----------------------------------------------------------------------

    def motion(self, messages: list[Message], connective: str | None, rng) -> str:
        """One subject, one to three things it does, in order."""
        text = f"{self.ref(messages[0].subject)} {self.clause_list(self.vps(messages, rng), rng)}"
        if connective is not None:
            text = f"{pick(rng, CONNECTIVE[connective])} {text}"
        return cap(text) + "."

    def event(self, m: Message, rng) -> str:
        return cap(f"{self.ref(m.subject)} {self.vp(m, rng)}") + "."

    def place(self, part: tuple, rng) -> tuple[str, str]:
        """(verb phrase, prepositional phrase) pieces for one placement part."""
        kind = part[0]
        if kind == "floor":
            return pick(rng, ("sits on the floor", "rests on the floor", "lies on the floor")), "on the floor"
        if kind == "air":
            return pick(rng, ("hangs in the air", "is held in mid-air", "floats above the floor")), "in mid-air"
        x = self.ref(part[1]) if len(part) > 1 and kind != "side" else ""
        if kind == "on":
            return pick(rng, (f"sits on {x}", f"rests on {x}")), f"on {x}"
        if kind == "on_top_of":
            return pick(rng, (f"sits on top of {x}", f"rests on top of {x}", f"is stacked on {x}")), f"on top of {x}"
        if kind == "above":
            return pick(rng, (f"hangs above {x}", f"is held above {x}")), f"above {x}"
        if kind == "side":
            pp = pick(rng, SIDE[part[1]])
            return f"is {pp}", pp
        pp = {"left_of": (f"to the left of {x}", f"left of {x}"), "right_of": (f"to the right of {x}", f"right of {x}"),
              "in_front_of": (f"in front of {x}", f"closer to the camera than {x}"),
              "behind": (f"behind {x}", f"farther from the camera than {x}")}[kind]
        pp = pick(rng, pp)
        return f"is {pp}", pp

    def intro(self, m: Message, rng) -> str:
        np_ = self.full(m.subject, rng)
        parts = m.slot("where")
        if not parts:
            return cap(f"there is {np_}") + "."
        vp, pp = self.place(parts[0], rng)
        if m.slot("moving"):  # a launched object does not "hang" anywhere
            vp = f"starts {pp}"
        rest = [self.place(p, rng)[1] for p in parts[1:]]
        if rest and rng.random() < 0.4:
            return cap(f"{rest[0]}, {np_} {vp}") + "."
        return cap(" ".join([np_, vp, *rest])) + "."

    def intros(self, messages: list[Message], connective: str | None, rng) -> str:
        """Several objects that start alike: "A red ball, a blue cube and a green cone sit on the floor." """
        nps = [self.full(m.subject, rng) for m in messages]
        where = messages[0].slot("where")[0][0]
        vp = pick(rng, ("sit on the floor", "rest on the floor", "lie on the floor") if where == "floor"
                  else ("hang in the air", "are held in mid-air"))
        return cap(f"{', '.join(nps[:-1])} and {nps[-1]} {vp}") + "."

    def static(self, m: Message, rng) -> str:
        return cap(pick(rng, (f"there is {self.full(m.subject, rng)}", f"the scene includes {self.full(m.subject, rng)}"))) + "."

    def setting(self, m: Message, rng) -> str:
        n = m.slot("n")
        count = "a single object" if n == 1 else f"{NUMBER[n] if n < len(NUMBER) else n} objects"
        floor = m.slot("floor")
        checks = {"large": (" with large squares", " with big checks"), "small": (" with small squares", " with fine checks"),
                  None: ("",)}[m.slot("checks")]
        checks = pick(rng, checks)
        kind = m.slot("kind")
        if kind not in (None, "checker"):
            floor_np = pick(rng, FLOOR_KINDS[kind])
        elif floor is None:
            floor_np = f"a checkered floor{checks}"
        elif floor[0] == floor[1]:
            floor_np = pick(rng, (f"{article(floor[0])} {floor[0]} checkerboard floor{checks}",
                                  f"a checkered floor of {floor[0]} tiles{checks}"))
        else:
            floor_np = f"a checkered floor of {floor[0]} and {floor[1]} tiles{checks}"
        bg = m.slot("background")
        text = pick(rng, (f"the scene shows {count} on {floor_np}", f"{count} {'is' if n == 1 else 'are'} set on {floor_np}",
                          f"this scene has {count} and {floor_np}", f"we see {count} on {floor_np}"))
        if bg:
            text += pick(rng, (f" against {article(bg)} {bg} background", f", with {article(bg)} {bg} backdrop"))
        if m.slot("environment"):
            text += pick(rng, SETTINGS[m.slot("environment")])
        return cap(text) + "."

    def camera(self, m: Message, rng) -> str:
        angle = {"high": (" from a high angle", " from above"), "low": (" from a low angle", " from near the ground"),
                 "level": (" from slightly above", " from a slight elevation"), None: ("",)}[m.slot("angle")]
        angle = pick(rng, angle)
        motion, d = m.slot("motion"), m.slot("direction")
        if motion == "static":
            return pick(rng, (f"The camera stays still, looking on{angle}.", f"The camera does not move, looking on{angle}.",
                              f"A fixed camera watches{angle}."))
        if motion == "orbit":
            return pick(rng, (f"The camera slowly orbits to the {d} around the scene{angle}.",
                              f"The camera circles to the {d} around the scene{angle}."))
        if motion == "pan":
            return pick(rng, (f"The camera pans to the {d}{angle}.", f"The camera slides sideways to the {d}{angle}.",
                              f"The view tracks to the {d}{angle}."))
        if motion == "dolly":
            if d == "in":
                return pick(rng, (f"The camera slowly pushes in toward the objects{angle}.", f"The camera moves closer{angle}.",
                                  f"The camera dollies in{angle}."))
            return pick(rng, (f"The camera pulls back{angle}.", f"The camera slowly moves away from the objects{angle}.",
                              f"The camera dollies out{angle}."))
        return f"The scene is seen{angle}."

    def light(self, m: Message, rng) -> str:
        """"Soft, high light falls from the left, casting shadows on the floor." """
        strength = {"bright": ("bright", "strong"), "soft": ("soft", "gentle"), None: ("",)}[m.slot("strength")]
        height = {"high": ("high", "overhead"), "low": ("low", "low-angle"), None: ("",)}[m.slot("height")]
        side = {"left": ("from the left",), "right": ("from the right",),
                "front": ("from behind the camera", "from the front"),
                "back": ("from behind the objects", "from the back"), None: ("",)}[m.slot("side")]
        shadows = pick(rng, (", casting shadows on the floor", ", casting clear shadows") if m.slot("shadows")
                       else (", and nothing casts a shadow", ", with no shadows"))
        adjectives = ", ".join(w for w in (pick(rng, strength), pick(rng, height)) if w)
        head = cap(f"{adjectives} light") if adjectives else "The light"
        where = pick(rng, side)
        if where:
            return f"{head} {pick(rng, ('comes', 'falls', 'shines', 'streams in'))} {where}{shadows}."
        if adjectives:
            return f"{head} {pick(rng, ('lights', 'illuminates'))} the scene{shadows}."
        return "Objects cast shadows on the floor." if m.slot("shadows") else "No shadows are cast."

    # --- short ---------------------------------------------------------------------------

    def short(self, main: list[Message], extras: list[Message], rng) -> str:
        """One prompt-like sentence: the main subject and participants in full, their actions."""
        named: set[str] = set()

        def name(n: str) -> str:
            if n in named or n == "floor":
                return self.ref(n)
            named.add(n)
            return self.full(n, rng)

        subject = name(main[0].subject)
        text = f"{subject} {self.clause_list(self.vps(main, rng, name), rng)}"
        for m in extras:
            if m.kind == "camera" and m.slot("motion") == "static":
                angle = {"high": " from above", "low": " from a low angle", "level": " from slightly above"}.get(m.slot("angle"), "")
                text += f", {pick(rng, ('seen by a fixed camera', 'filmed by a static camera'))}{angle}"
            elif m.kind == "camera" and m.slot("motion"):
                cam = self.camera(m, rng)[:-1]
                text += f", as {cam[0].lower()}{cam[1:]}"
            elif m.kind == "setting" and m.slot("kind") not in (None, "checker"):
                text += f", on {pick(rng, FLOOR_KINDS[m.slot('kind')])}{pick(rng, SETTINGS[m.slot('environment')])}"
            elif m.kind == "setting" and m.slot("floor"):
                a, b = m.slot("floor")
                text += f", on {article(a)} {a} checkered floor" if a == b else f", on a {a} and {b} checkered floor"
        return cap(text) + "."

    # --- questions -----------------------------------------------------------------------

    def qa(self, q: Question, rng) -> tuple[str, str]:
        s = dict(q.slots)
        yes = "Yes" if q.answer else "No"
        if q.qtype == "colour":
            return f"What colour is {self.definite(s['attributes'], None)}?", cap(f"{s['value']}.")
        if q.qtype == "shape":
            return (f"What shape is the {s['colour']} object?",
                    cap(f"{article(SHAPE[s['value']][0])} {SHAPE[s['value']][0]}."))
        if q.qtype == "material":
            return f"What is {self.ref(q.subject)} made of?", cap(f"{s['value']}.")
        if q.qtype == "count":
            what = f"{PLURAL[s['shape']]}" if "shape" in s else f"{s['material']} objects" if "material" in s else "objects"
            n = s["n"]
            return f"How many {what} are there?", cap(f"{NUMBER[n] if n < len(NUMBER) else n}.")
        if q.qtype == "count_moved":
            n = s["n"]
            return "How many objects move during the clip?", cap(f"{NUMBER[n] if n < len(NUMBER) else n}.")
        if q.qtype == "first_contact":
            return (f"Apart from the floor, what does {self.ref(q.subject)} touch first?", cap(f"{self.ref(s['other'])}."))
        if q.qtype == "does":
            verb = {"bounce": "bounce", "topple": "fall over", "exit": "leave the frame"}[s["event"]]
            if s.get("flip"):
                verb = {"topple": "stay upright", "exit": "stay in the picture throughout"}[s["event"]]
            return f"Does {self.ref(q.subject)} {verb}?", f"{yes}."
        if q.qtype == "side":
            return (f"At the start, is {self.ref(q.subject)} to the left of {self.ref(s['other'])}?",
                    "Yes." if q.answer else "No, it is to the right.")
        if q.qtype == "closer":
            a, b = self.ref(q.subject), self.ref(s["other"])
            first, second = (a, b) if s["order"] == 0 else (b, a)
            return f"Which is closer to the camera at the start, {first} or {second}?", cap(f"{a}.")
        if q.qtype == "why_moves":
            return f"Why does {self.ref(q.subject)} start moving?", f"Because {self.ref(s['cause'])} hits it."
        if q.qtype == "why_topples":
            return f"What makes {self.ref(q.subject)} fall over?", cap(f"{self.ref(s['cause'])} hits it.")
        if q.qtype == "why_stops_falling":
            return f"Why does {self.ref(q.subject)} stop falling?", f"Because it lands on {self.ref(s['other'])}."
        if q.qtype == "why_bounces":
            return (f"Why does {self.ref(q.subject)} fly back up at about {s['at']:.1f} seconds?",
                    f"Because it bounces off {self.ref(s['other'])}.")
        after = pick(rng, ("after the clip ends", "after the end of the clip", "once the clip is over"))
        x = self.ref(q.subject)
        if q.qtype == "what_next":
            return f"What does {x} do {after}?", cap(f"it {self.vp(s['message'], rng)}.")
        if q.qtype in ("will_hit", "will_topple", "will_exit", "will_move", "will_rest"):
            flip = s.get("flip", False)
            other = self.ref(s["other"]) if "other" in s else ""
            within = f"{s.get('within', 0.0):.1f}"
            asked = {  # (as happening, as not happening)
                "will_hit": (f"Will {x} hit {other} {after}?", f"Will {x} stay clear of {other} {after}?"),
                "will_topple": (f"Will {x} fall over {after}?", f"Will {x} stay upright {after}?"),
                "will_exit": (f"Will {x} leave the frame {after}?", f"Will {x} stay in the picture {after}?"),
                "will_move": (f"Will {x} move again {after}?", f"Will {x} stay where it is {after}?"),
                "will_rest": (f"Will {x} come to rest within {within} seconds {after}?",
                              f"Will {x} still be moving {within} seconds after the clip ends?"),
            }[q.qtype][flip]
            if q.qtype == "will_rest" and "at" in s:
                return asked, f"{yes}, it stops at about {s['at']:.1f} seconds." if not flip else \
                    f"No, it stops at about {s['at']:.1f} seconds."
            return asked, f"{yes}."
        without = pick(rng, (f"Without {self.ref(s['removed'])}", f"If {self.ref(s['removed'])} were removed"))
        if q.qtype == "cf_moves":
            answer = "Yes." if q.answer else "No, it would stay where it is."
            return f"{without}, would {self.ref(q.subject)} still move?", answer
        if q.qtype == "cf_topple":
            return f"{without}, would {self.ref(q.subject)} still fall over?", f"{yes}."
        if q.qtype == "cf_hit":
            return f"{without}, would {self.ref(q.subject)} still hit {self.ref(s['other'])}?", f"{yes}."
        raise ValueError(f"no English question for {q.qtype!r}")
