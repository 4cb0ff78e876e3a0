"""Bounded HTTP load test on loopback, plus a Ray-vs-local archive scoring comparison. Prints JSON.

Starts ``eventlens serve`` on 127.0.0.1 (or uses ``--url``), then runs two scenarios with a fixed number
of requests from concurrent clients: single-sentence requests and 32-sentence batches. Reports
throughput, p50/p95/p99 latency and errors. Then scores the same JSONL file with the local engine and
with ``--engine ray`` and reports rows/s and whether the rows agree.

    python bench/load_test.py --model runs/default/onnx
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def load_texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def start_server(model: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "eventlens.training.cli", "serve", str(model), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers), "--max-sentences", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not become ready")


def run_scenario(url: str, texts: list[str], requests: int, per_request: int, clients: int) -> dict:
    payloads = [{"texts": [texts[(i * per_request + k) % len(texts)] for k in range(per_request)]} for i in range(requests)]
    latencies, errors = [], 0
    client = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=clients))

    def call(payload: dict) -> tuple[float, bool]:
        start = time.perf_counter()
        try:
            ok = client.post(f"{url}/v1/tag", json=payload).status_code == 200
        except httpx.HTTPError:
            ok = False
        return (time.perf_counter() - start) * 1000, ok

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for latency, ok in pool.map(call, payloads):
            latencies.append(latency)
            errors += not ok
    elapsed = time.perf_counter() - start
    client.close()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"requests": requests, "sentences_per_request": per_request, "clients": clients, "errors": errors,
            "requests_per_s": round(requests / elapsed, 1), "sentences_per_s": round(requests * per_request / elapsed, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


def compare_engines(model: Path, texts: list[str], rows: int, actors: int, variant: str) -> dict:
    import pyarrow.parquet as pq

    from eventlens.inference.ray_scoring import score_with_ray
    from eventlens.inference.scoring import flat_values, score_file

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"id": f"r{i}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n"
                               for i in range(rows)))
        start = time.perf_counter()
        score_file(model, src, Path(tmp) / "local.jsonl", progress=False, variant=variant)
        local_s = time.perf_counter() - start
        start = time.perf_counter()
        score_with_ray(model, [src], Path(tmp) / "ray", actors=actors, variant=variant)
        ray_s = time.perf_counter() - start
        local_rows = [flat_values(json.loads(line)) for line in (Path(tmp) / "local.jsonl").read_text().splitlines()]
        ray_rows = sorted(({k: v for k, v in r.items() if v is not None} for r in pq.read_table(Path(tmp) / "ray").to_pylist()),
                          key=lambda r: r["row"])  # a Parquet folder of several files has no global order

    def decisions(row: dict) -> tuple:
        return (row["row"], row["id"], [e["label"] for e in json.loads(row["events"])],
                [(a["start"], a["end"], a["attitude"]) for a in json.loads(row["actors"])])

    return {"variant": variant, "rows": rows, "local_rows_per_s": round(rows / local_s, 1),
            "ray_rows_per_s": round(rows / ray_s, 1), "ray_actors": actors,
            "rows_identical": sum(a == b for a, b in zip(local_rows, ray_rows)),
            "rows_same_decisions": sum(decisions(a) == decisions(b) for a, b in zip(local_rows, ray_rows))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--url", help="an already running server (default: start one on 127.0.0.1)")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "test.jsonl")
    parser.add_argument("--single-requests", type=int, default=2000)
    parser.add_argument("--batch-requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--engine-rows", type=int, default=2000)
    parser.add_argument("--ray-actors", type=int, default=1)
    parser.add_argument("--skip-http", action="store_true", help="only the Ray vs local comparison")
    args = parser.parse_args()

    texts = load_texts(args.data)
    result = {}
    if not args.skip_http:
        proc, url = (None, args.url) if args.url else start_server(args.model, args.server_workers)
        try:
            result["single_sentence"] = run_scenario(url, texts, args.single_requests, 1, args.clients)
            result["batch_32"] = run_scenario(url, texts, args.batch_requests, 32, args.clients)
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=60)
    result["ray_vs_local"] = [compare_engines(args.model, texts, args.engine_rows, args.ray_actors, v) for v in ("int8", "fp32")]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
