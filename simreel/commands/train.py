"""`simreel train CONFIG data=DIR out=DIR [key=value ...]`: train the video DiT on a dataset's shards."""
from __future__ import annotations

import json

from simreel.cli import UserError

HELP = "train the text-to-video DiT on a dataset (resumes when out=DIR holds a checkpoint)"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="training config YAML (configs/train-tiny.yaml, train-small.yaml, train-base.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="data=DIR and out=DIR, then any config key, e.g. steps=2000 ranks=2 model=small")
    parser.add_argument("--address", help="Ray cluster to join for ranks>1 (default: $RAY_ADDRESS, else a private "
                                          "Ray in this process)")


def run(args) -> int:
    from simreel import shards
    from simreel.config import ConfigError, load_train
    from simreel.stages import run_training
    from simreel.trainer.train import TrainError

    try:
        cfg = load_train(args.config, args.overrides)
        if not cfg.data or not cfg.out:
            raise ConfigError("say where the dataset is and where the run goes: data=DIR out=DIR")
        summary = run_training(cfg, args.address)
    except (ConfigError, TrainError, shards.DatasetError) as e:
        raise UserError(str(e)) from None
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise UserError(f"{type(e).__name__}: {e}") from None
    print(json.dumps(summary))
    return 0
