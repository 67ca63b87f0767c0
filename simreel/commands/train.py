"""`simreel train CONFIG data=DIR out=DIR [key=value ...]`: train the video DiT on a dataset's shards."""
from __future__ import annotations

import json

from simreel.cli import UserError

HELP = "train the text-to-video DiT on a dataset (resumes when out=DIR holds a checkpoint)"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="training config YAML (configs/train-tiny.yaml, train-small.yaml, train-base.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="data=DIR and out=DIR, then any config key, e.g. steps=2000 workers=2 model=small")
    parser.add_argument("--address", help="Ray cluster address for workers>1 (default: RAY_ADDRESS or a local Ray)")


def run(args) -> int:
    from simreel import shards
    from simreel.trainer.config import ConfigError, load_config

    try:
        cfg = load_config(args.config, args.overrides)
        if not cfg.data or not cfg.out:
            raise ConfigError("say where the dataset is and where the run goes: data=DIR out=DIR")
        if cfg.workers > 1:
            from simreel.trainer.train import train_with_ray

            summary = train_with_ray(cfg, address=args.address)
        else:
            from simreel.trainer.train import train

            summary = train(cfg)
    except (ConfigError, shards.DatasetError) as e:
        raise UserError(str(e)) from None
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise UserError(f"{type(e).__name__}: {e}") from None
    print(json.dumps(summary))
    return 0
