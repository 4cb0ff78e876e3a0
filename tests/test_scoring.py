"""Archive scoring: formats, error rows, row accounting, resume after a kill, worker processes."""

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventlens.inference.scoring import ScoringError, score_file

SENTENCES = ["Regime forces shelled Aleppo on day {i}.", "The brave medics delivered food to Goma on day {i}.",
             "Rebel fighters protested in Mosul on day {i}."]


def write_input(path, n, bad_every=0):
    lines = []
    for i in range(n):
        if bad_every and i % bad_every == 1:
            lines.append(["{broken json", json.dumps({"id": f"r{i}", "text": 42}), json.dumps({"id": f"r{i}"})][i % 3])
        else:
            lines.append(json.dumps({"id": f"r{i}", "text": SENTENCES[i % 3].format(i=i)}))
    path.write_text("\n".join(lines) + "\n")
    return path


def read_jsonl(path):
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def test_every_row_is_accounted_for(tiny_export, tmp_path):
    src = write_input(tmp_path / "in.jsonl", 30, bad_every=5)
    summary = score_file(tiny_export, src, tmp_path / "out.jsonl", chunk_size=4, progress=False)
    out, errors = read_jsonl(tmp_path / "out.jsonl"), read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert summary["rows_in"] == 30 == summary["results"] + summary["errors"]
    assert (len(out), len(errors)) == (summary["results"], summary["errors"]) == (24, 6)
    assert sorted(r["row"] for r in out + errors) == list(range(30))
    reasons = {e["row"]: e["error"] for e in errors}
    assert reasons[6].startswith("bad JSON") and reasons[1] == "field 'text' is int, not a string"
    assert reasons[11] == "missing field 'text'" and errors[0]["line"] == 2
    assert out[0]["id"] == "r0" and out[0]["text"] == "Regime forces shelled Aleppo on day 0." and "actors" in out[0]
    assert not (tmp_path / "out.jsonl.progress.json").exists()
    with pytest.raises(ScoringError, match="exists"):
        score_file(tiny_export, src, tmp_path / "out.jsonl", progress=False)


def test_csv_and_parquet_in_and_out(tiny_export, tmp_path):
    pq.write_table(pa.table({"doc_id": ["a", "b", "c"], "body": [SENTENCES[0].format(i=1), None, SENTENCES[1].format(i=2)]}),
                   tmp_path / "in.parquet")
    summary = score_file(tiny_export, tmp_path / "in.parquet", tmp_path / "out.parquet", text_field="body",
                         id_field="doc_id", chunk_size=1, progress=False)
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert summary == {**summary, "rows_in": 3, "results": 2, "errors": 1}
    assert [r["id"] for r in table] == ["a", "c"] and isinstance(json.loads(table[0]["actors"]), list)
    (tmp_path / "in.csv").write_text('id,text\nx,"Regime forces shelled Aleppo, on day 4."\ny,\n')
    score_file(tiny_export, tmp_path / "in.csv", tmp_path / "out.csv", progress=False)
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0] == "row,id,line,text,events,actors,event_scores" and len(rows) == 3  # header + 2 results (empty text is a result)


def test_documents_mode_splits_sentences(tiny_export, tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"id": "d1", "text": SENTENCES[0].format(i=1) + " " + SENTENCES[1].format(i=2)}) + "\n")
    score_file(tiny_export, src, tmp_path / "out.jsonl", documents=True, progress=False)
    (row,) = read_jsonl(tmp_path / "out.jsonl")
    assert [s["start"] for s in row["sentences"]] == [0, 39]


def test_resume_after_kill_gives_exactly_one_row_per_input(tiny_export, tmp_path):
    n = 3000
    src = write_input(tmp_path / "in.jsonl", n, bad_every=50)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "eventlens.training.cli", "score", str(src), "-o", str(out), "-m", str(tiny_export),
               "--chunk-size", "8", "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress = tmp_path / "out.jsonl.progress.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if progress.exists() and json.loads(progress.read_text() or "{}").get("rows_done", 0) >= 200:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = json.loads(progress.read_text())["rows_done"]
    assert 0 < done_at_kill < n, "the kill must land mid-run for this test to mean anything"

    summary = score_file(tiny_export, src, out, chunk_size=8, resume=True, progress=False)
    rows = read_jsonl(out) + read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert sorted(r["row"] for r in rows) == list(range(n))  # no row lost, none duplicated
    assert summary["rows_in"] == n == summary["results"] + summary["errors"]


def test_workers_give_the_same_rows(tiny_export, tmp_path):
    src = write_input(tmp_path / "in.jsonl", 40, bad_every=7)
    score_file(tiny_export, src, tmp_path / "one.jsonl", chunk_size=5, progress=False)
    score_file(tiny_export, src, tmp_path / "two.jsonl", chunk_size=5, workers=2, progress=False)
    assert read_jsonl(tmp_path / "one.jsonl") == read_jsonl(tmp_path / "two.jsonl")
    assert read_jsonl(tmp_path / "one.jsonl.errors.jsonl") == read_jsonl(tmp_path / "two.jsonl.errors.jsonl")
