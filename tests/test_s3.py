"""The `cloud` extra against a real S3-compatible server: moto's standalone server on 127.0.0.1
(a free port), reached over HTTP by s3fs, configured only by the standard environment
(AWS_ENDPOINT_URL, FSSPEC_S3_ENDPOINT_URL and dummy credentials), as a user would point
simreel at MinIO, Ceph or S3 itself. No simreel flag is involved.
"""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a server, real generate runs (local Ray), a training run

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.yaml")
SMALL = ["num_samples=4", "samples_per_shard=2", "captions.kinds=[short]"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """The server, a bucket, and this process's environment pointing at it (children inherit it)."""
    import boto3

    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "FSSPEC_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        client = boto3.client("s3")
        client.create_bucket(Bucket="simreel")
        yield client
    server.stop()


def objects(client, prefix: str) -> dict[str, tuple[str, object]]:
    """name -> (ETag, LastModified) of every object under a prefix."""
    listed = client.list_objects_v2(Bucket="simreel", Prefix=prefix + "/").get("Contents", [])
    return {o["Key"].rsplit("/", 1)[-1]: (o["ETag"], o["LastModified"]) for o in listed}


@pytest.fixture(scope="module")
def dataset(s3, simreel) -> str:
    """The command line, in a child process, as a user runs it: only the environment says where S3 is."""
    simreel("generate", TINY, "--out", "s3://simreel/ds", "--workers", "1", *SMALL, timeout=300)
    return "s3://simreel/ds"


def generate(out: str, workers: int | None = None):
    """The same run in this process, on the module's local Ray (started after the environment was set, so its
    workers inherit it too): quicker than a child starting a Ray of its own each time."""
    import io

    from simreel.config import load_dataset
    from simreel.job import generate

    return generate(load_dataset(TINY, SMALL), out, workers=workers, progress_stream=io.StringIO())


def test_generate_writes_a_valid_dataset_to_the_bucket(s3, dataset, simreel):
    names = set(objects(s3, "ds"))
    assert {"manifest.json", "README.md", "config.yaml", "shard-000000.tar", "shard-000001.stats.json"} <= names
    assert not [n for n in names if n.endswith(".tmp") or n == ".simreel.lock"]
    assert "2 shards, 4 samples: ok" in simreel("validate", dataset).stdout


def test_two_workers_write_the_same_objects(s3, dataset, local_ray):
    assert generate("s3://simreel/ds2", workers=2).workers == 2
    one, two = objects(s3, "ds"), objects(s3, "ds2")
    for name in ("shard-000000.tar", "shard-000001.tar"):
        a = s3.get_object(Bucket="simreel", Key=f"ds/{name}")["Body"].read()
        b = s3.get_object(Bucket="simreel", Key=f"ds2/{name}")["Body"].read()
        assert a == b and one[name][0] == two[name][0]


def test_a_rerun_remakes_only_what_is_missing(s3, dataset, local_ray, simreel):
    before = objects(s3, "ds")
    s3.delete_object(Bucket="simreel", Key="ds/shard-000001.tar")
    s3.delete_object(Bucket="simreel", Key="ds/shard-000001.stats.json")
    result = generate(dataset)
    assert (result.made, result.skipped) == (1, 1)
    after = objects(s3, "ds")
    assert after["shard-000000.tar"] == before["shard-000000.tar"]  # not rewritten: same ETag and time
    assert after["shard-000001.tar"][0] == before["shard-000001.tar"][0]  # remade byte for byte
    assert "ok" in simreel("validate", dataset).stdout


def test_a_second_run_on_the_same_prefix_is_refused(s3, dataset, simreel):
    from simreel.shards.lock import locked

    with locked(dataset):
        done = simreel("generate", TINY, "--out", dataset, *SMALL, check=False, timeout=300)
        assert done.returncode == 2 and "being written by another run" in done.stderr
    assert ".simreel.lock" not in objects(s3, "ds")


def test_the_readers_take_the_bucket(s3, dataset, local_ray):
    from simreel import shards

    keys = [s["__key__"] for s in shards.ClipDataset(dataset)]
    assert keys == [f"{i:08d}" for i in range(4)]
    rows = shards.ray_dataset(dataset, decode=False).take_all()
    assert sorted(r["__key__"] for r in rows) == keys


def test_train_tiny_trains_from_the_bucket(s3, dataset, tmp_path, simreel):
    import json

    done = simreel("train", str(ROOT / "configs" / "train-tiny.yaml"), f"data={dataset}", f"out={tmp_path / 'run'}",
                   "steps=3", "log_every=1", "loader_workers=1", timeout=300)
    assert json.loads(done.stdout.strip().splitlines()[-1])["step"] == 3
