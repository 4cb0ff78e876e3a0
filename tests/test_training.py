"""A tiny-model training run end to end: the loss falls, the run directory is complete, the checkpoint
reloads with identical predictions, and evaluation reproduces the run's own metrics."""

import json

import numpy as np

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.runner import token_views
from eventlens.training.modeling import EventLensModel
from eventlens.training.predict import torch_runner


def test_loss_falls(tiny_run):
    history = json.loads((tiny_run / "metrics.json").read_text())["training"]["log_history"]
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) >= 4
    assert np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2]), losses


def test_run_directory_contents(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert {"dev", "test", "baselines", "thresholds", "training", "data"} <= set(metrics)
    assert set(metrics["test"]["per_language"]) == {"en", "xx"}
    assert set(metrics["baselines"]["test"]) == {"events_tfidf_logreg", "attitude_majority"}
    assert all(0.05 <= t <= 0.95 for t in metrics["thresholds"].values())
    assert metrics["data"]["train"] == 120 and metrics["training"]["truncated_train_sentences"] == 0
    for name in ("report.md", "per_label_f1.png", "attitude_confusion.png", "training_curves.png"):
        assert (tiny_run / name).stat().st_size > 0
    assert (tiny_run / "per_label_f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| ASSAULT |" in (tiny_run / "report.md").read_text()
    model_files = {p.name for p in (tiny_run / "model").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= model_files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in model_files)
    assert not (tiny_run / "checkpoints").exists()


def test_the_model_learned_the_toy_task(tiny_run):
    test = json.loads((tiny_run / "metrics.json").read_text())["test"]
    assert test["events"]["micro_f1"] > 0.6
    assert test["actors"]["f1"] > 0.5


def test_checkpoint_reloads_with_identical_predictions(tiny_run):
    model = EventLensModel.from_pretrained(tiny_run / "model")
    again = EventLensModel.from_pretrained(tiny_run / "model")
    encoder = TextEncoder.from_file(tiny_run / "model" / "tokenizer.json", max_length=model.config.max_seq_length)
    texts = ["Regime forces shelled Aleppo on day 3.", "The ministry held talks in Goma on day 9.", "Short."]
    first = token_views(texts, encoder, torch_runner(model))
    second = token_views(texts, encoder, torch_runner(again))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.event_probs, b.event_probs)
        np.testing.assert_array_equal(a.actor_logits, b.actor_logits)
    assert model.config.event_thresholds == list(json.loads((tiny_run / "metrics.json").read_text())["thresholds"].values())
    assert "id2label" not in json.loads((tiny_run / "model" / "config.json").read_text())


def test_evaluate_command_reproduces_run_metrics(tiny_run, toy_data, capsys):
    from eventlens.training.cli import main

    assert main(["evaluate", str(tiny_run), str(toy_data["test"]), "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    recorded = json.loads((tiny_run / "metrics.json").read_text())["test"]
    assert measured["events"]["micro_f1"] == recorded["events"]["micro_f1"]
    assert measured["end_to_end"] == recorded["end_to_end"]
