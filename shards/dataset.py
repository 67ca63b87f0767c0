"""Training-side readers: a torch IterableDataset and a Ray Data dataset over shards.

Both yield the same rows for the same options: {"__key__": str, "video": uint8 [T,H,W,3]
(or "mp4": bytes with decode=False), "meta": dict (KEY.json), "txt": str}, plus one flat
entry per array in each requested member (`columns`): "ids", "depth", "flow", "normals", ... as
they are, "traj_positions", "boxes_bbox_2d", ... for the others. Flat, because a Ray Data column
is one array (Arrow stores it natively); a dict of arrays would not be.
"""
from __future__ import annotations

import random
from typing import Sequence

import numpy as np
import torch
import webdataset as wds

from simreel.shards.manifest import list_shards
from simreel.shards.reader import tar_samples
from simreel.shards.sample import decode_sample


def _urls(source: str | Sequence[str]) -> list[str]:
    """A dataset directory (read through its manifest), one shard URL, or a list of shard URLs."""
    if isinstance(source, str):
        return [source] if source.endswith(".tar") else list_shards(source)
    urls = list(source)
    if not urls:
        raise ValueError("no shard URLs given")
    return urls


def columns(sample: dict, arrays: Sequence[str]) -> dict:
    """Flatten each requested array member into columns: the array named like its member keeps
    the name ("ids"), the others get the member as prefix ("traj_positions")."""
    for stem in arrays:
        for name, array in sample.pop(stem).items():
            sample[name if name == stem else f"{stem}_{name}"] = array
    return sample


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class ClipDataset(torch.utils.data.IterableDataset):
    """Clips from webdataset shards, split across distributed ranks and DataLoader workers.

    - `urls`: a dataset directory, a shard URL, or a list of them (any fsspec URL).
    - `shuffle`: sample shuffle-buffer size (True means 1000); 0 keeps shard and sample order. When
      > 0 the shard order is shuffled too, the same way on every rank (so the split by
      rank stays a partition), and again each `set_epoch`.
    - `resample`: draw shards with replacement forever, each rank and worker its own
      stream (use with a step budget, not epochs); no splitting is needed then.
    - `decode`: decode the mp4 to "video"; False leaves the bytes under "mp4".
    - `arrays`: array members to load too, e.g. ("traj", "ids"), as flat columns ("traj_positions",
      "ids", ...; see the module docstring).
    - `verify`: check each shard's sha256 against its NAME.stats.json before reading it; a damaged
      shard stops the reader with its name (shards.reader.ShardDamaged). Costs one hash of the bytes
      read (see benchmarks/reader.py).

    Without resampling each shard goes to exactly one (rank, worker), so one epoch
    yields every key once across them all, given at least as many shards as
    ranks x workers (the rest idle otherwise).
    """

    def __init__(self, urls: str | Sequence[str], *, shuffle: int = 0, seed: int = 0, resample: bool = False,
                 decode: bool = True, arrays: Sequence[str] = (), verify: bool = True):
        super().__init__()
        self.urls = _urls(urls)
        self.shuffle = 1000 if shuffle is True else int(shuffle)
        self.seed, self.resample = int(seed), resample
        self.decode, self.arrays, self.verify = decode, tuple(arrays), verify
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        rank, _, worker, _ = wds.utils.pytorch_worker_info()
        if self.resample:
            shards = wds.ResampledShards(self.urls, seed=_seed(self.seed, self.epoch), deterministic=True)
        else:
            urls = list(self.urls)
            if self.shuffle:
                random.Random(_seed(self.seed, self.epoch)).shuffle(urls)
            shards = wds.split_by_worker(wds.split_by_node({"url": u} for u in urls))
        samples = tar_samples(shards, self.verify)
        if self.shuffle:
            rng = random.Random(_seed(self.seed, self.epoch, rank, worker))
            samples = wds.shuffle(self.shuffle, initial=self.shuffle, rng=rng)(samples)
        for raw in samples:
            yield {"__key__": raw["__key__"], **columns(decode_sample(raw, video=self.decode, arrays=self.arrays),
                                                        self.arrays)}


def collate_clips(batch: list[dict]) -> dict:
    """DataLoader collate_fn: videos stacked to a uint8 tensor [B,T,H,W,3] (all clips must share a shape),
    everything else as lists."""
    out = {k: [b[k] for b in batch] for k in batch[0]}
    if "video" in out:
        out["video"] = torch.from_numpy(np.stack(out["video"]))
    return out


def ray_dataset(urls: str | Sequence[str], *, decode: bool = True, arrays: Sequence[str] = (),
                verify: bool = True):
    """The shards as a `ray.data.Dataset` whose rows are ClipDataset's samples for the same
    `decode`, `arrays` and `verify`: one read task per shard through the same reader as
    ClipDataset (checksum, plain member names), decoded in parallel by Ray; each array is one
    tensor column."""
    import ray.data

    arrays = tuple(arrays)

    def shard_rows(item: dict):
        for raw in tar_samples([{"url": item["url"]}], verify):
            yield {"__key__": raw["__key__"], **columns(decode_sample(raw, video=decode, arrays=arrays), arrays)}

    shard_urls = _urls(urls)
    ds = ray.data.from_items([{"url": u} for u in shard_urls], override_num_blocks=len(shard_urls))
    return ds.flat_map(shard_rows)
