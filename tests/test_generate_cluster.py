"""Two Ray nodes (ray.cluster_utils.Cluster): workers spread over both, each node makes shards."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from simreel import shards
from simreel.config import load_dataset
from simreel.job import generate

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.slow
@pytest.mark.cluster
def test_two_nodes_both_make_shards(tmp_path):
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert len(nodes) == 2
        config = load_dataset(CONFIGS / "tiny.yaml", ["num_samples=8", "samples_per_shard=2"])
        result = generate(config, str(tmp_path), progress_stream=io.StringIO())
        assert result.workers == 2 and result.made == 4
        made_on = {json.loads(p.read_text())["worker"]["node_id"] for p in tmp_path.glob("*.stats.json")}
        assert made_on == nodes
        report = shards.validate(str(tmp_path))
        assert report.ok and report.samples == 8
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.mark.slow
@pytest.mark.cluster
def test_a_node_removed_mid_run_costs_retries_not_shards(tmp_path):
    """The worker node dies (its raylet and workers killed) while shards are being written: its shard
    is made again on the head (by Ray's restart of the worker, or, once those retries are spent or the
    actor stays unreachable, by a fresh worker the driver starts); no shard is missing or doubled."""
    import threading
    import time

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        node = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        removed = threading.Event()

        def remove_when_writing():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if list(tmp_path.glob("*.tar.*.tmp")):  # a shard is being written
                    cluster.remove_node(node, allow_graceful=False)
                    removed.set()
                    return
                time.sleep(0.01)

        remover = threading.Thread(target=remove_when_writing)
        remover.start()
        config = load_dataset(CONFIGS / "tiny.yaml", ["num_samples=8", "samples_per_shard=1", "captions.kinds=[short]"])
        result = generate(config, str(tmp_path), workers=2, progress_stream=io.StringIO())
        remover.join()
        assert removed.is_set() and result.workers == 2 and result.made == 8
        report = shards.validate(str(tmp_path))
        assert report.ok and report.samples == 8 and report.shards == 8
        keys = [s["__key__"] for s in shards.ClipDataset(str(tmp_path), decode=False)]
        assert keys == [f"{i:08d}" for i in range(8)]
        assert not list(tmp_path.glob("*.tmp"))
    finally:
        ray.shutdown()
        cluster.shutdown()
