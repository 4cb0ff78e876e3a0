"""Ray Data scoring gives the same rows as the local engine (local Ray instance)."""

import json

import pyarrow.parquet as pq
import pytest

from eventlens.inference.scoring import flat_values, score_file

from test_scoring import write_input

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_rows_equal_local_rows(tiny_export, tmp_path, local_ray):
    from eventlens.inference.ray_scoring import score_with_ray

    src = write_input(tmp_path / "in.jsonl", 60, bad_every=9)
    local = score_file(tiny_export, src, tmp_path / "local.jsonl", progress=False)
    summary = score_with_ray(tiny_export, [src], tmp_path / "ray_out", actors=2)
    assert (summary["rows_in"], summary["results"], summary["errors"]) == (local["rows_in"], local["results"], local["errors"])

    ray_rows = sorted(pq.read_table(tmp_path / "ray_out").to_pylist(), key=lambda r: r["row"])
    assert [r["row"] for r in ray_rows] == list(range(60))
    want_results = [flat_values({**r, "id": str(r["id"])}) for r in map(json.loads, (tmp_path / "local.jsonl").read_text().splitlines())]
    want_errors = [{**e, "id": str(e["id"])} for e in map(json.loads, (tmp_path / "local.jsonl.errors.jsonl").read_text().splitlines())]
    got_results = [{k: v for k, v in r.items() if v is not None} for r in ray_rows if r["error"] is None]
    got_errors = [{k: v for k, v in r.items() if v is not None} for r in ray_rows if r["error"] is not None]
    assert got_results == want_results
    assert got_errors == want_errors


def test_ray_reads_parquet_folders(tiny_export, tmp_path, local_ray):
    import pyarrow as pa

    from eventlens.inference.ray_scoring import score_with_ray

    folder = tmp_path / "archive"
    folder.mkdir()
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["Regime forces shelled Aleppo on day 3.", None]}), folder / "part-0.parquet")
    pq.write_table(pa.table({"id": ["c"], "text": ["Rebel fighters protested in Mosul on day 11."]}), folder / "part-1.parquet")
    summary = score_with_ray(tiny_export, [folder], tmp_path / "out", actors=1)
    rows = pq.read_table(tmp_path / "out").to_pylist()
    assert summary["rows_in"] == 3 and summary["errors"] == 1
    assert sorted(r["id"] for r in rows if r["error"] is None) == ["a", "c"]
