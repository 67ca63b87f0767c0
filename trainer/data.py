"""Training clips, read only through `shards`: (video [3, F, H, W] in [-1, 1], caption) pairs.

The stream is a pure function of its position (epoch, samples read in that epoch): the
shard order comes from ClipDataset's (seed, epoch), and each clip's crop and caption come
from a generator seeded by (seed, epoch, key). Resuming at a saved position therefore
yields exactly the clips an uninterrupted run would have seen.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from simreel import shards

SHUFFLE_BUFFER = 512  # samples (undecoded bytes) mixed across shards


@dataclass(frozen=True)
class ClipShape:
    frames: int
    height: int
    width: int


def to_tensor(video: np.ndarray, shape: ClipShape, start: int = 0) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> float [3, frames, height, width] in [-1, 1]: frames start..start+frames,
    resized (bilinear, antialiased) when the stored size differs."""
    clip = torch.from_numpy(np.ascontiguousarray(video[start: start + shape.frames])).permute(0, 3, 1, 2).float()
    if clip.shape[-2:] != (shape.height, shape.width):
        clip = F.interpolate(clip, size=(shape.height, shape.width), mode="bilinear", antialias=True, align_corners=False)
    return (clip / 127.5 - 1.0).clamp(-1, 1).permute(1, 0, 2, 3).contiguous()


def captions_of(meta: dict, txt: str, kinds, languages) -> list[str]:
    """Every caption of the wanted kinds and languages a sample has (its txt if none)."""
    table = meta.get("captions", {})
    found = [table[k][lang] for k in kinds for lang in languages
             if isinstance(table.get(k), dict) and isinstance(table[k].get(lang), str) and table[k][lang].strip()]
    return found or [txt]


def object_weights(ids: np.ndarray, shape: ClipShape, start: int, weight: float) -> torch.Tensor:
    """Per-pixel loss weights [frames, height, width]: `weight` on objects (instance ids > 0, grown
    by one pixel so their edges count), 1 elsewhere. At the model's size objects cover a few
    per cent of the pixels; unweighted, the floor and sky drown them out."""
    mask = torch.from_numpy(np.ascontiguousarray(ids[start: start + shape.frames]) > 0).float()[:, None]
    mask = F.max_pool2d(mask, 3, stride=1, padding=1)
    if mask.shape[-2:] != (shape.height, shape.width):
        mask = F.interpolate(mask, size=(shape.height, shape.width), mode="area")
    return 1.0 + (weight - 1.0) * mask[:, 0]


def check_length(key: str, length: int, frames: int) -> None:
    if length < frames:
        raise ValueError(f"clip {key} has {length} frames but the model trains on {frames}: "
                         f"lower frames= or generate longer clips")


class TrainClips(torch.utils.data.IterableDataset):
    """Endless (video, caption, key, position, pixel weights or None) for this rank: epoch after epoch
    over `urls`, skipping the held-out keys (and, given `only`, every key not in it). `start` is the
    position to continue after, as saved in a checkpoint. With `object_weight` != 1 the clips' instance
    ids weight the loss (`object_weights`)."""

    def __init__(self, urls: list[str], shape: ClipShape, *, kinds, languages, seed: int,
                 exclude=frozenset(), only=None, start: tuple[int, int] = (0, 0), object_weight: float = 1.0):
        super().__init__()
        self.urls, self.shape, self.kinds, self.languages = list(urls), shape, tuple(kinds), tuple(languages)
        self.seed, self.exclude, self.start, self.object_weight = seed, frozenset(exclude), start, object_weight
        self.only = None if only is None else frozenset(only)

    def __iter__(self):
        epoch, skip = self.start
        weighted = self.object_weight != 1.0
        while True:
            dataset = shards.ClipDataset(self.urls, shuffle=SHUFFLE_BUFFER, seed=self.seed, decode=False,
                                         arrays=("ids",) if weighted else ())
            dataset.set_epoch(epoch)
            used = 0
            for index, sample in enumerate(dataset, start=1):
                if index <= skip or sample["__key__"] in self.exclude or (
                        self.only is not None and sample["__key__"] not in self.only):
                    continue
                key = sample["__key__"]
                rng = np.random.default_rng([self.seed, epoch, zlib.crc32(key.encode())])
                video = shards.decode_video(sample["mp4"])
                check_length(key, len(video), self.shape.frames)
                start = int(rng.integers(0, len(video) - self.shape.frames + 1))
                options = captions_of(sample["meta"], sample["txt"], self.kinds, self.languages)
                used += 1
                caption = options[int(rng.integers(len(options)))]
                weights = object_weights(sample["ids"], self.shape, start, self.object_weight) if weighted else None
                yield to_tensor(video, self.shape, start), caption, key, (epoch, index), weights
            if not used and not skip:
                raise RuntimeError(f"no training clips reached this worker from {len(self.urls)} shard(s): "
                                   "a dataset needs at least one shard per training worker")
            epoch, skip = epoch + 1, 0


def batches(clips: TrainClips, batch_size: int, loader_workers: int):
    """Endless batches (videos [B, 3, F, H, W], captions, keys, positions, pixel weights [B, F, H, W] or
    None); with one loader worker the decoding runs in its own process, in the same order."""
    def collate(items):
        videos, captions, keys, positions, weights = zip(*items)
        weights = None if weights[0] is None else torch.stack(weights)
        return torch.stack(videos), list(captions), list(keys), list(positions), weights

    loader = torch.utils.data.DataLoader(clips, batch_size=batch_size, collate_fn=collate,
                                         num_workers=loader_workers, prefetch_factor=4 if loader_workers else None)
    return iter(loader)


def first_samples(urls: list[str], n: int, *, decode: bool):
    """The first n samples in dataset order (every rank sees the same ones)."""
    count = 0
    for url in urls:
        for raw in shards.iter_samples(url):
            if count >= n:
                return
            count += 1
            yield {"__key__": raw["__key__"], **shards.decode_sample(raw, video=decode)}


def heldout(urls: list[str], n: int, shape: ClipShape, language: str):
    """The first n clips, cropped from frame 0, each with its short caption: a fixed held-out
    set for the fixed-time loss. -> (keys, videos [n, 3, F, H, W], captions)."""
    keys, videos, captions = [], [], []
    for s in first_samples(urls, n, decode=True):
        check_length(s["__key__"], len(s["video"]), shape.frames)
        keys.append(s["__key__"])
        videos.append(to_tensor(s["video"], shape))
        captions.append(captions_of(s["meta"], s["txt"], ("short",), (language,))[0])
    if len(keys) < n:
        raise ValueError(f"val_clips={n} but the dataset has only {len(keys)} clips")
    return keys, torch.stack(videos) if videos else torch.empty(0), captions


def first_keys(urls: list[str], skip: int, n: int) -> list[str]:
    """Keys of the n clips after the first `skip` in dataset order: a nested training subset
    (the first 250 clips hold the first 125), so that runs on more data only add clips."""
    keys = [s["__key__"] for s in first_samples(urls, skip + n, decode=False)][skip:]
    if len(keys) < n:
        raise ValueError(f"clips={n} but the dataset has only {len(keys)} clips after the {skip} held out")
    return keys


def first_meta(urls: list[str]) -> dict:
    """KEY.json of the dataset's first clip (its fps is the rate samples play back at)."""
    return next(first_samples(urls, 1, decode=False))["meta"]


def caption_corpus(urls: list[str], n: int, kinds, languages) -> list[str]:
    """Captions of the first n clips (the videos are not decoded): the vocabulary's source."""
    return [c for s in first_samples(urls, n, decode=False) for c in captions_of(s["meta"], s["txt"], kinds, languages)]
