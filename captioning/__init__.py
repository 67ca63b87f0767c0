"""captioning: captions and questions from the simulation's ground truth, every claim checkable.

    from simreel import captioning, scenes
    scene = scenes.make("drop", seed=7)
    caps = captioning.describe(scene.spec, scene.trajectory)      # languages=("en", "zh")
    caps.short["en"]      # one prompt-like sentence
    caps.dense["zh"]      # a paragraph, in Simplified Chinese
    caps.events, caps.qa  # timestamped phrases; CLEVRER-style questions
    captioning.check(caps, scene.spec, scene.trajectory)          # [] when every claim holds

Text is realised from a list of `Claim`s (subject, predicate, object, time span, world);
every text keeps the indices of the claims it states. `check` verifies claims with
its own measurements, re-simulating the longer and counterfactual worlds itself.
"""
from simreel.captioning.check import Failure, check, resolve
from simreel.captioning.describe import describe
from simreel.captioning.types import LANGUAGES, PREDICATES, QA, Captions, Claim, EventPhrase, Passage, Reference

__all__ = ["LANGUAGES", "PREDICATES", "QA", "Captions", "Claim", "EventPhrase", "Failure", "Passage", "Reference",
           "check", "describe", "resolve"]
