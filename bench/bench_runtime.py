"""Runtime benchmark: prints one JSON object.

Measures, on sentences from a labelled JSONL file (default: the bundled test split):
- throughput (sentences/s) of the int8 and fp32 ONNX Tagger (each with the runtime's own batching:
  int8 one window per call on a thread pool, fp32 length-sorted batches) and of the same fine-tuned model
  in PyTorch fp32 (Hugging Face style: AutoTokenizer + padded batches of ``--batch-size``);
- batch-1 latency p50/p95 of ``Tagger.tag(one_sentence)``;
- peak RSS of a process that only loads the int8 Tagger and tags;
- model file sizes; end-to-end archive scoring (JSONL in → JSONL out) rows/s;
- int8 vs fp32 dev quality from the export manifest.

Each measurement runs in its own subprocess so peak memory is not shared between them.

    python bench/bench_runtime.py --model runs/default/onnx --run runs/default
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load_texts(path: Path, n: int) -> list[str]:
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return (texts * (n // len(texts) + 1))[:n]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_tagger(args) -> dict:
    from eventlens.inference.tagger import Tagger

    texts = load_texts(args.data, args.n)
    tagger = Tagger.load(args.model, variant=args.variant)  # the runtime's own batching for this variant
    tagger.tag(texts[: args.batch_size])  # warm-up
    tokens = [len(tagger.encoder.tokenize(t)[0]) for t in texts]
    start = time.perf_counter()
    tagger.tag(texts)
    elapsed = time.perf_counter() - start
    latencies = []
    for text in texts[:200]:
        t0 = time.perf_counter()
        tagger.tag(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    return {
        f"{args.variant}_sentences_per_s": round(len(texts) / elapsed, 1),
        f"{args.variant}_batch1_p50_ms": round(latencies[len(latencies) // 2], 2),
        f"{args.variant}_batch1_p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        f"{args.variant}_peak_rss_mb": round(peak_rss_mb(), 1),
        "mean_tokens_per_sentence": round(sum(tokens) / len(tokens), 1),
        f"{args.variant}_tagger_batch_size": tagger.batch_size,
        f"{args.variant}_tagger_workers": tagger.workers,
    }


def bench_torch(args) -> dict:
    import torch
    from transformers import AutoTokenizer

    from eventlens.training.modeling import EventLensModel

    texts = load_texts(args.data, args.n)
    model_dir = Path(args.run) / "model"
    model = EventLensModel.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def run(batch: list[str]) -> None:
        enc = tokenizer(batch, padding=True, truncation=True, max_length=model.config.max_seq_length, return_tensors="pt")
        with torch.inference_mode():
            model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])

    run(texts[: args.batch_size])
    start = time.perf_counter()
    for i in range(0, len(texts), args.batch_size):
        run(texts[i : i + args.batch_size])
    elapsed = time.perf_counter() - start
    return {"torch_fp32_sentences_per_s": round(len(texts) / elapsed, 1), "torch_peak_rss_mb": round(peak_rss_mb(), 1),
            "torch_threads": torch.get_num_threads()}


def bench_score(args) -> dict:
    from eventlens.inference.scoring import score_file

    texts = load_texts(args.data, args.score_rows)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)))
        start = time.perf_counter()
        summary = score_file(args.model, src, Path(tmp) / "out.jsonl", workers=args.workers, progress=False)
        elapsed = time.perf_counter() - start
    return {"score_rows": summary["rows_in"], "score_workers": args.workers,
            "score_rows_per_s": round(summary["rows_in"] / elapsed, 1), "score_peak_rss_mb": round(peak_rss_mb(), 1)}


def run_child(mode: str, args, extra: list[str] = ()) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--model", str(args.model), "--run", str(args.run),
               "--data", str(args.data), "--n", str(args.n), "--batch-size", str(args.batch_size),
               "--score-rows", str(args.score_rows), "--workers", str(args.workers), *extra]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="exported model directory")
    parser.add_argument("--run", type=Path, help="run directory (for the PyTorch comparison)")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "test.jsonl")
    parser.add_argument("--n", type=int, default=512, help="sentences per throughput measurement")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--score-rows", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--variant", default="int8", choices=["int8", "fp32"])
    parser.add_argument("--child", choices=["tagger", "torch", "score"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"tagger": bench_tagger, "torch": bench_torch, "score": bench_score}[args.child](args)))
        return

    result = {"cpu_cores": os.cpu_count(), "batch_size": args.batch_size, "sentences": args.n}
    result.update(run_child("tagger", args))
    result.update(run_child("tagger", args, ["--variant", "fp32"]))
    if args.run:
        result.update(run_child("torch", args))
        result["int8_speedup_vs_torch_fp32"] = round(result["int8_sentences_per_s"] / result["torch_fp32_sentences_per_s"], 2)
    result.update(run_child("score", args))
    manifest = json.loads((args.model / "manifest.json").read_text())
    result["model_mb"] = {name: round((args.model / name).stat().st_size / 2**20, 1) for name in ("model.onnx", "model_fp32.onnx")}
    result["dev_quality"] = manifest["export_checks"]["dev_quality"]
    result["int8_drop"] = manifest["export_checks"]["int8_drop"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
