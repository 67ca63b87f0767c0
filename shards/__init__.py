"""shards: samples as bytes, webdataset shards written whole or not at all, and reading them back.

Knows samples and bytes, not physics: the caller (simreel.job) hands over pixels, arrays
and JSON-able dicts. Torch and Ray readers load lazily, so validating or exporting a
dataset never pays for torch.
"""
from simreel.shards.export import export
from simreel.shards.manifest import DatasetError, build_manifest, list_shards, read_manifest, write_manifest
from simreel.shards.reader import iter_samples
from simreel.shards.sample import Sample, decode_sample, encode_sample
from simreel.shards.validate import Report, validate
from simreel.shards.video import VideoCodec, decode_video, encode_video
from simreel.shards.writer import ShardWriter, finished_stats

_LAZY = {"ClipDataset", "collate_clips", "ray_dataset"}


def __getattr__(name):
    if name in _LAZY:
        from simreel.shards import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module 'shards' has no attribute {name!r}")


__all__ = sorted(
    [
        "DatasetError", "Report", "Sample", "ShardWriter", "VideoCodec", "build_manifest", "decode_sample",
        "decode_video", "encode_sample", "encode_video", "export", "finished_stats", "iter_samples",
        "list_shards", "read_manifest", "validate", "write_manifest", *_LAZY,
    ]
)
