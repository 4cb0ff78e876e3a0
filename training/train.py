"""``eventlens train``: fine-tune the encoder and heads on a config, then evaluate and report.

A run directory holds ``model/`` (the best checkpoint, safetensors + config + tokenizer.json),
``metrics.json``, ``report.md`` and the report's PNG figures.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.labels import LabelSchema
from eventlens.inference.runner import token_views
from eventlens.training.base_model import resolve_base_model
from eventlens.training.baselines import baselines
from eventlens.training.config import RunConfig
from eventlens.training.data import Example, files_fingerprint, load_examples
from eventlens.training.features import Collator, featurize_all
from eventlens.training.metrics import evaluate_predictions, predictions_from_views, summary, tune_thresholds
from eventlens.training.modeling import EventLensModel
from eventlens.training.predict import torch_runner

logger = logging.getLogger(__name__)

MODEL_SUBDIR = "model"
METRICS_FILE = "metrics.json"
TOKENIZER_FILE = "tokenizer.json"


class EventLensTrainer(Trainer):
    """A Trainer whose evaluation decodes spans and computes EventLens metrics on the dev examples,
    and whose optimizer gives the freshly initialised heads their own learning rate."""

    def __init__(self, *args, dev_examples: list[Example], text_encoder: TextEncoder, schema: LabelSchema,
                 head_learning_rate: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.dev_examples = dev_examples
        self.text_encoder = text_encoder
        self.schema = schema
        self.head_learning_rate = head_learning_rate

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
            groups: dict[tuple[float, float], list] = {}
            for name, param in self.model.named_parameters():
                if not param.requires_grad:
                    continue
                lr = self.args.learning_rate if name.startswith("encoder.") else self.head_learning_rate
                decay = 0.0 if any(k in name for k in no_decay) else self.args.weight_decay
                groups.setdefault((lr, decay), []).append(param)
            self.optimizer = torch.optim.AdamW(
                [{"params": params, "lr": lr, "weight_decay": decay} for (lr, decay), params in groups.items()]
            )
        return self.optimizer

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        views = token_views([e.text for e in self.dev_examples], self.text_encoder, torch_runner(self.model),
                            batch_size=self.args.per_device_eval_batch_size)
        # Scored with dev-tuned thresholds, as the final model will be: early in training the event head
        # ranks well before its probabilities cross 0.5.
        thresholds = tune_thresholds(self.dev_examples, [v.event_probs for v in views], self.schema)
        metrics = evaluate_predictions(self.dev_examples, predictions_from_views(self.dev_examples, views, self.schema, thresholds), self.schema)
        flat = {f"{metric_key_prefix}_{k}": v for k, v in summary(metrics).items() if k != "sentences"}
        self.log(flat)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, flat)
        return flat


def _load_split(config: RunConfig, name: str, schema: LabelSchema) -> tuple[list[Example], list[Path]]:
    paths = [config.resolve(p) for p in getattr(config.data, name)]
    return (load_examples(paths, schema) if paths else []), paths


def build_text_encoder(model_path: str, max_length: int) -> tuple[TextEncoder, object]:
    """The runtime encoder for a base model (local dir or hub id), and its fast tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if not tokenizer.is_fast:
        raise ValueError(f"{model_path}: EventLens needs a fast (Rust) tokenizer for character offsets")
    return TextEncoder(tokenizer.backend_tokenizer, max_length=max_length), tokenizer


def train(config: RunConfig, progress: bool = True) -> Path:
    """Train, tune thresholds on dev, evaluate dev and test, write the run directory; returns its path."""
    started = time.time()
    set_seed(config.train.seed)
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    schema = config.labels()
    train_rows, train_paths = _load_split(config, "train", schema)
    dev_rows, dev_paths = _load_split(config, "dev", schema)
    test_rows, test_paths = _load_split(config, "test", schema)
    if not train_rows or not dev_rows:
        raise ValueError("config: data.train and data.dev must name non-empty files (dev is used for model selection)")
    run_dir = config.resolve(config.train.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    base_path = resolve_base_model(config.model.base_model)
    text_encoder, tokenizer = build_text_encoder(base_path, config.model.max_length)
    model = EventLensModel.from_encoder(base_path, schema, max_length=config.model.max_length, dropout=config.model.dropout)
    model.config.base_model = config.model.base_model
    model.loss_weights = (config.train.event_loss_weight, config.train.actor_loss_weight, config.train.attitude_loss_weight)
    if config.model.freeze_word_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)

    features, feature_stats = featurize_all(train_rows, text_encoder, schema)
    if feature_stats.truncated:
        logger.warning("%d of %d training sentences exceed %d tokens and were truncated",
                       feature_stats.truncated, feature_stats.rows, config.model.max_length)
    train_dataset = Dataset.from_list(features)
    checkpoints = run_dir / "checkpoints"
    args = TrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.train.epochs,
        max_steps=config.train.max_steps,
        per_device_train_batch_size=config.train.batch_size,
        per_device_eval_batch_size=config.train.eval_batch_size,
        gradient_accumulation_steps=config.train.gradient_accumulation_steps,
        learning_rate=config.train.learning_rate,
        weight_decay=config.train.weight_decay,
        warmup_steps=config.train.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        seed=config.train.seed,
        logging_steps=config.train.logging_steps,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model="score",
        greater_is_better=True,
        report_to=[],
        remove_unused_columns=False,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        dataloader_drop_last=True,  # BatchNorm on the pooled vector needs more than one row per batch
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    callbacks = [EarlyStoppingCallback(config.train.early_stopping_patience)] if config.train.early_stopping_patience else []
    trainer = EventLensTrainer(
        model=model, args=args, train_dataset=train_dataset,
        eval_dataset=Dataset.from_list(featurize_all(dev_rows, text_encoder, schema)[0]),  # evaluate() decodes dev_examples
        data_collator=Collator(text_encoder.pad_id), callbacks=callbacks,
        dev_examples=dev_rows, text_encoder=text_encoder, schema=schema, head_learning_rate=config.train.head_learning_rate,
    )
    train_output = trainer.train()
    model = trainer.model
    train_seconds = time.time() - started

    run = torch_runner(model)
    dev_views = token_views([e.text for e in dev_rows], text_encoder, run, config.train.eval_batch_size)
    thresholds = tune_thresholds(dev_rows, [v.event_probs for v in dev_views], schema)
    model.config.event_thresholds = [float(t) for t in thresholds]
    model_dir = run_dir / MODEL_SUBDIR
    model.save_pretrained(model_dir)
    text_encoder.tokenizer.save(str(model_dir / TOKENIZER_FILE))
    tokenizer.save_pretrained(model_dir)
    shutil.rmtree(checkpoints, ignore_errors=True)

    results = {"dev": evaluate_predictions(dev_rows, predictions_from_views(dev_rows, dev_views, schema, thresholds), schema)}
    if test_rows:
        test_views = token_views([e.text for e in test_rows], text_encoder, run, config.train.eval_batch_size)
        results["test"] = evaluate_predictions(test_rows, predictions_from_views(test_rows, test_views, schema, thresholds), schema)
    eval_split = test_rows or dev_rows
    metrics = {
        **results,
        "baselines": {"test" if test_rows else "dev": baselines(train_rows, dev_rows, eval_split, schema, seed=config.train.seed)},
        "thresholds": dict(zip(schema.events, model.config.event_thresholds)),
        "training": {
            "steps": train_output.global_step,
            "train_loss": round(train_output.training_loss, 4),
            "best_dev_score": trainer.state.best_metric,
            "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
            "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.time() - started, 1),
            "truncated_train_sentences": feature_stats.truncated,
            "log_history": trainer.state.log_history,
        },
        "data": {
            "train": len(train_rows), "dev": len(dev_rows), "test": len(test_rows),
            "fingerprint": files_fingerprint(train_paths + dev_paths + test_paths),
            "files": {"train": [str(p) for p in train_paths], "dev": [str(p) for p in dev_paths],
                      "test": [str(p) for p in test_paths]},
            "languages": {name: dict(sorted(Counter(e.lang for e in rows).items()))
                          for name, rows in (("train", train_rows), ("dev", dev_rows), ("test", test_rows))},
        },
        "environment": {"torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads()},
        "config": config.to_dict(),
    }
    (run_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
    from eventlens.training.report import write_report

    write_report(run_dir, metrics, schema)
    logger.info("run written to %s (%.0f s)", run_dir, time.time() - started)
    return run_dir
