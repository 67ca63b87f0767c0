"""The dataset's column types, as Hugging Face `datasets` declares them, built up sample by sample.

`datasets` (and Arrow, and so Ray Data) infers a schema from the first few rows: a list
that is empty there, a dict key first seen later or a value that is None there breaks a
load or drops data silently. So each shard's writer records the type of everything it wrote
(the union over its samples), the driver unifies the shards', and the dataset card declares
the result (`dataset_info.features`): `load_dataset(DIR)` then reads every sample by the
whole dataset's types, not by its first rows' guess.

A type is plain JSON: "string", "bool", "int64", "float64", "null", "video",
{"list": T}, {"struct": {name: T}}.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

_SCALARS = ((bool, "bool"), (int, "int64"), (float, "float64"), (str, "string"))


class MixedTypes(ValueError):
    """One field holds two types that no column can (a string here, a number there)."""


def type_of(value) -> object:
    """The type of a JSON value."""
    if value is None:
        return "null"
    for kind, name in _SCALARS:  # bool before int: True is an int too
        if isinstance(value, kind):
            return name
    if isinstance(value, (list, tuple)):
        element = "null"
        for item in value:
            element = unify(element, type_of(item))
        return {"list": element}
    if isinstance(value, Mapping):
        return {"struct": {str(k): type_of(v) for k, v in value.items()}}
    raise MixedTypes(f"{type(value).__name__} is not a JSON value")


def unify(a, b, where: str = "") -> object:
    """The one type both values fit: null fits anything, an int fits a float, structs join their fields."""
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if isinstance(a, str) and isinstance(b, str) and {a, b} == {"int64", "float64"}:
        return "float64"
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() == {"list"}:
        return {"list": unify(a["list"], b["list"], f"{where}[]")}
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() == {"struct"}:
        fields = dict(a["struct"])
        for k, t in b["struct"].items():
            fields[k] = unify(fields[k], t, f"{where}.{k}") if k in fields else t
        return {"struct": fields}
    raise MixedTypes(f"field {where or '(top)'} is {_name(a)} in one sample and {_name(b)} in another")


def _name(t) -> str:
    return t if isinstance(t, str) else next(iter(t))


def array_type(array: np.ndarray) -> object:
    t: object = np.dtype(array.dtype).name
    for _ in range(np.ndim(array)):
        t = {"list": t}
    return t


def sample_features(members: Mapping[str, object]) -> dict:
    """The columns of one sample as `datasets`' webdataset loader makes them: member extension -> type.
    `members`: "mp4" (bytes), "json" (the dict), "txt" (str), "NAME.npz" ({array name: array})."""
    out = {}
    for ext, value in members.items():
        if ext == "mp4":
            out[ext] = "video"
        elif ext.endswith(".npz"):
            out[ext] = {"struct": {name: array_type(a) for name, a in value.items()}}
        else:
            out[ext] = type_of(value)
    return out


def merge(a: Mapping | None, b: Mapping, where: str = "") -> dict:
    """Column types of two groups of samples together."""
    if not a or not b:
        return dict(a or b)
    if a.keys() != b.keys():
        raise MixedTypes(f"samples have members {sorted(a)} and {sorted(b)}")
    return {ext: unify(a[ext], b[ext], f"{where}{ext}") for ext in a}


def yaml_features(columns: Mapping) -> list:
    """The columns (plus webdataset's __key__ and __url__) in the dataset card's `features` form."""
    return [_feature(name, t) for name, t in columns.items()] + [_feature("__key__", "string"),
                                                                 _feature("__url__", "string")]


def _feature(name: str | None, t) -> dict:
    body = _body(t)
    return body if name is None else {"name": name, **body}


def _body(t) -> dict:
    if isinstance(t, str):
        return {"dtype": t}
    if "list" in t:
        inner = _body(t["list"])
        return {"list": inner.get("dtype", inner.get("struct", inner))}
    return {"struct": [_feature(k, v) for k, v in t["struct"].items()]}
