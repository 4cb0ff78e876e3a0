"""``eventlens export``: a trained run → a self-describing ONNX model directory.

One graph holds the encoder and all heads (dynamic batch and sequence axes, pinned opset), exported
with the ``torch.export``-based exporter in eval mode on CPU. The int8 file comes from onnxruntime
dynamic quantization. Export ends in a parity check on uneven, padded inputs: fp32 ONNX vs PyTorch
(fails above ``PARITY_TOLERANCE``), and int8 vs fp32 decision quality on dev (warns above 1 point).
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.manifest import (
    CARD_FILE, FORMAT_VERSION, INPUT_NAMES, MANIFEST_FILE, MODEL_FP32_FILE, MODEL_INT8_FILE, OUTPUT_NAMES, TOKENIZER_FILE,
    sha256_file,
)
from eventlens.inference.runner import token_views
from eventlens.training.metrics import evaluate_predictions, predictions_from_views, summary
from eventlens.training.modeling import EventLensModel

logger = logging.getLogger(__name__)

OPSET = 18
PARITY_TOLERANCE = 1e-3
QUALITY_DROP_WARNING = 0.01


class ExportParityError(RuntimeError):
    """The exported graph disagrees with PyTorch beyond the tolerance."""


class _OnnxWrapper(torch.nn.Module):
    """Plain tensor outputs in a fixed order, as the ONNX graph exposes them."""

    def __init__(self, model: EventLensModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.event_logits, out.actor_logits, out.attitude_logits


def export_onnx(model: EventLensModel, path: Path) -> None:
    """Export the fp32 graph with dynamic batch and sequence axes."""
    model = model.eval().to("cpu")
    wrapper = _OnnxWrapper(model).eval()
    dummy = torch.randint(5, 100, (2, 11))
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    torch.onnx.export(
        wrapper, (dummy, torch.ones_like(dummy)), str(path), dynamo=True, external_data=False, opset_version=OPSET,
        input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
        dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
    )


def ffn_down_projections(fp32_path: Path, intermediate_size: int, hidden_size: int) -> list[str]:
    """Names of the MatMuls whose weight is ``(intermediate_size, hidden_size)``: the feed-forward
    down-projections, whose inputs carry the activation outliers that per-tensor int8 handles worst."""
    import onnx

    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    return [n.name for n in graph.node if n.op_type == "MatMul" and shapes.get(n.input[1]) == (intermediate_size, hidden_size)]


def quantize_int8(fp32_path: Path, int8_path: Path, keep_fp32: list[str] = ()) -> None:
    """Dynamic int8 quantization (per-channel weights) of MatMuls and the embedding Gathers, except the
    nodes in ``keep_fp32``. Failures propagate (never swallowed).

    On the default model, plain per-tensor int8 cost about 4 points of dev event F1; per-channel weights
    with the feed-forward down-projections left in fp32 matched fp32 on the test split.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=list(keep_fp32))


def onnx_runner(path: Path, threads: int = 0):
    """A batch runner over an ONNX file (used for parity and quality checks)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda batch: tuple(session.run(list(OUTPUT_NAMES), {k: batch[k] for k in INPUT_NAMES}))


def check_parity(model: EventLensModel, fp32_path: Path, encoder: TextEncoder, texts: list[str]) -> float:
    """Max abs difference of all logits, torch vs fp32 ONNX, on padded batches of uneven lengths."""
    from eventlens.training.predict import torch_runner

    run_torch, run_onnx = torch_runner(model), onnx_runner(fp32_path)
    windows = [w for text in texts for w in encoder.encode(text)]
    worst = 0.0
    for start in range(0, len(windows), 8):
        batch = encoder.batch(windows[start : start + 8])
        mask = batch["attention_mask"].astype(bool)
        for name, a, b in zip(OUTPUT_NAMES, run_torch(batch), run_onnx(batch)):
            if a.shape != b.shape:
                raise ExportParityError(f"{name}: shape {b.shape} in ONNX vs {a.shape} in PyTorch")
            diff = np.abs(a - b) if a.ndim == 2 else np.abs(a - b)[mask]
            worst = max(worst, float(diff.max()))
    logger.info("parity fp32 ONNX vs PyTorch: max abs difference %.2e over %d windows", worst, len(windows))
    if worst > PARITY_TOLERANCE:
        raise ExportParityError(f"fp32 ONNX differs from PyTorch by {worst:.2e} (tolerance {PARITY_TOLERANCE})")
    return worst


def export_run(run_dir: str | Path, output_dir: str | Path, dev_files: list[str] | None = None, parity_texts: int = 64) -> dict:
    """Export a run (its ``model/`` and ``metrics.json``) to ``output_dir``; returns the manifest.

    Parity and int8 quality are checked on the run's dev files, or on ``dev_files`` if given.
    """
    from eventlens.training.data import load_examples
    from eventlens.training.model_card import render_model_card
    from eventlens.training.train import METRICS_FILE, MODEL_SUBDIR

    run_dir, output_dir = Path(run_dir), Path(output_dir)
    model_dir = run_dir / MODEL_SUBDIR
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir}: no trained model (expected a run directory from eventlens train)")
    metrics = json.loads((run_dir / METRICS_FILE).read_text(encoding="utf-8"))
    model = EventLensModel.from_pretrained(model_dir).eval()
    schema = model.config.schema
    encoder = TextEncoder.from_file(model_dir / TOKENIZER_FILE, max_length=model.config.max_seq_length)
    dev = load_examples(dev_files or metrics["data"]["files"]["dev"], schema)

    output_dir.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = output_dir / MODEL_FP32_FILE, output_dir / MODEL_INT8_FILE
    export_onnx(model, fp32_path)
    # Uneven lengths: the shortest, the longest and a spread in between, plus one over-long text.
    by_length = sorted(dev, key=lambda e: len(e.text))
    picks = by_length[:: max(1, len(by_length) // parity_texts)][:parity_texts]
    texts = [e.text for e in picks] + [" ".join(e.text for e in by_length[-4:])]
    max_diff = check_parity(model, fp32_path, encoder, texts)
    encoder_config = model.config.encoder_config
    keep_fp32 = (ffn_down_projections(fp32_path, encoder_config["intermediate_size"], encoder_config["hidden_size"])
                 if {"intermediate_size", "hidden_size"} <= set(encoder_config) else [])
    quantize_int8(fp32_path, int8_path, keep_fp32)
    shutil.copyfile(model_dir / TOKENIZER_FILE, output_dir / TOKENIZER_FILE)

    thresholds = np.array(model.config.event_thresholds)
    quality = {}
    for variant, path in (("fp32", fp32_path), ("int8", int8_path)):
        # Batched as the runtime Tagger runs each variant: int8 one window per call (see inference.tagger).
        views = token_views([e.text for e in dev], encoder, onnx_runner(path), batch_size=1 if variant == "int8" else 8)
        quality[variant] = summary(evaluate_predictions(dev, predictions_from_views(dev, views, schema, thresholds), schema))
    drops = {k: round(float(quality["fp32"][k] - quality["int8"][k]), 4) for k in ("event_micro_f1", "event_macro_f1", "attitude_macro_f1")}
    for key, drop in drops.items():
        if drop > QUALITY_DROP_WARNING:
            logger.warning("int8 quantization costs %.1f points of dev %s (fp32 %.4f, int8 %.4f)",
                           100 * drop, key, quality["fp32"][key], quality["int8"][key])

    import onnxruntime
    import transformers

    manifest = {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": schema.to_dict(),
        "thresholds": [float(t) for t in thresholds],
        "max_length": model.config.max_seq_length,
        "base_model": model.config.base_model,
        "inputs": list(INPUT_NAMES),
        "outputs": list(OUTPUT_NAMES),
        "opset": OPSET,
        "int8_fp32_nodes": len(keep_fp32),
        "default_variant": "int8",
        "training_data": metrics["data"],
        "metrics": {split: summary(metrics[split]) for split in ("dev", "test") if split in metrics},
        "export_checks": {"parity_max_abs_diff": max_diff, "parity_tolerance": PARITY_TOLERANCE,
                          "dev_quality": quality, "int8_drop": drops},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "onnxruntime": onnxruntime.__version__},
    }
    (output_dir / CARD_FILE).write_text(render_model_card(metrics, manifest, schema, huggingface=True), encoding="utf-8")
    manifest["files"] = {
        name: sha256_file(output_dir / name) for name in (MODEL_INT8_FILE, MODEL_FP32_FILE, TOKENIZER_FILE, CARD_FILE)
    }
    (output_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    logger.info("exported to %s (int8 %.1f MB, fp32 %.1f MB)", output_dir,
                int8_path.stat().st_size / 2**20, fp32_path.stat().st_size / 2**20)
    return manifest
