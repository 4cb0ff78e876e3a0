"""``eventlens evaluate RUN_OR_MODEL DATA``: the same metrics for a PyTorch run or an exported ONNX model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.manifest import MANIFEST_FILE
from eventlens.inference.runner import token_views
from eventlens.training.data import Example, load_examples
from eventlens.training.metrics import evaluate_predictions, predictions_from_views


def _load_views(path: Path, variant: str) -> tuple[Callable[[list[str]], list], object, np.ndarray]:
    """A function texts → merged model outputs, with the label schema and thresholds of the model at ``path``."""
    if (path / MANIFEST_FILE).is_file():
        from eventlens.inference.tagger import Tagger

        tagger = Tagger.load(path, variant=variant)
        return tagger.token_views, tagger.schema, tagger.thresholds
    from eventlens.training.modeling import EventLensModel
    from eventlens.training.predict import torch_runner
    from eventlens.training.train import MODEL_SUBDIR, TOKENIZER_FILE

    model_dir = path / MODEL_SUBDIR if (path / MODEL_SUBDIR / "config.json").is_file() else path
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{path}: neither a run directory (model/config.json) nor an exported model (manifest.json)")
    model = EventLensModel.from_pretrained(model_dir).eval()
    encoder = TextEncoder.from_file(model_dir / TOKENIZER_FILE, max_length=model.config.max_seq_length)
    run = torch_runner(model)
    return (lambda texts: token_views(texts, encoder, run)), model.config.schema, np.array(model.config.event_thresholds)


def evaluate_path(path: str | Path, data_files: list[str], variant: str = "int8", baselines: bool = True) -> dict:
    """Metrics of a run directory, a saved model directory or an exported model on labelled JSONL files.

    With a run directory (one holding ``metrics.json``), the baselines are retrained on the run's
    train/dev files and scored on the same data.
    """
    path = Path(path)
    views_of, schema, thresholds = _load_views(path, variant)
    examples: list[Example] = load_examples(data_files, schema)
    views = views_of([e.text for e in examples])
    metrics = evaluate_predictions(examples, predictions_from_views(examples, views, schema, thresholds), schema)
    run_metrics = path / "metrics.json"
    if baselines and run_metrics.is_file():
        from eventlens.training.baselines import baselines as run_baselines

        files = json.loads(run_metrics.read_text(encoding="utf-8"))["data"]["files"]
        metrics["baselines"] = run_baselines(load_examples(files["train"], schema), load_examples(files["dev"], schema), examples, schema)
    return metrics
