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
