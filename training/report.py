"""Run reports: ``report.md`` plus PNG figures (per-label F1 bars, attitude confusion, training curves)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eventlens.inference.labels import LabelSchema
from eventlens.training.metrics import summary

FIGURES = {
    "per_label": "per_label_f1.png",
    "confusion": "attitude_confusion.png",
    "curves": "training_curves.png",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure_per_label(path: Path, model: dict, baseline: dict | None, schema: LabelSchema) -> None:
    plt = _plt()
    x = np.arange(len(schema.events))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.bar(x - 0.2, [model["per_label"][l]["f1"] for l in schema.events], 0.4, label="EventLens")
    if baseline:
        ax.bar(x + 0.2, [baseline["per_label"][l]["f1"] for l in schema.events], 0.4, label="TF-IDF + LR")
    ax.set_xticks(x, schema.events, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title("Event F1 per label")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _figure_confusion(path: Path, attitude: dict, schema: LabelSchema) -> None:
    plt = _plt()
    matrix = np.array(attitude["confusion"])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="black")
    ax.set_xticks(range(len(schema.attitudes)), schema.attitudes)
    ax.set_yticks(range(len(schema.attitudes)), schema.attitudes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Attitude on gold spans")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _figure_curves(path: Path, log_history: list[dict]) -> None:
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    losses = [(h["step"], h["loss"]) for h in log_history if "loss" in h]
    if losses:
        left.plot(*zip(*losses), marker=".")
    left.set_xlabel("step")
    left.set_ylabel("training loss")
    evals = [h for h in log_history if "eval_score" in h]
    for key in ("eval_score", "eval_event_micro_f1", "eval_actor_f1", "eval_attitude_macro_f1"):
        if evals:
            right.plot([h["epoch"] for h in evals], [h[key] for h in evals], marker="o", label=key.removeprefix("eval_"))
    right.set_xlabel("epoch")
    right.set_ylabel("dev")
    right.set_ylim(0, 1)
    if evals:
        right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def metrics_tables(metrics: dict, schema: LabelSchema) -> str:
    """Markdown tables of a run's metrics: overall vs baselines, per language, per event label."""
    split = "test" if "test" in metrics else "dev"
    result = metrics[split]
    base = metrics.get("baselines", {}).get(split, {})
    base_events = base.get("events_tfidf_logreg")
    base_att = base.get("attitude_majority")
    s = summary(result)
    rows = [
        ["event micro-F1", s["event_micro_f1"], base_events["micro_f1"] if base_events else "–"],
        ["event macro-F1", s["event_macro_f1"], base_events["macro_f1"] if base_events else "–"],
        ["actor span F1 (exact)", s["actor_f1"], "–"],
        ["attitude macro-F1 (gold spans)", s["attitude_macro_f1"], base_att["macro_f1"] if base_att else "–"],
        ["actor + attitude F1 (end to end)", s["end_to_end_f1"], "–"],
    ]
    parts = [
        f"### Overall ({split} split, {result['sentences']} sentences)",
        markdown_table(["metric", "EventLens", "baseline"], rows),
        "Baselines: TF-IDF + logistic regression for events (thresholds tuned on dev), "
        f"majority class (`{base_att['majority'] if base_att else '?'}`) for attitude.",
        f"### Per language ({split})",
        markdown_table(
            ["lang", "sentences", "event micro-F1", "event macro-F1", "actor F1", "attitude macro-F1", "end-to-end F1"],
            [[lang, v["sentences"], v["event_micro_f1"], v["event_macro_f1"], v["actor_f1"], v["attitude_macro_f1"], v["end_to_end_f1"]]
             for lang, v in result["per_language"].items()],
        ),
        f"### Per event label ({split})",
        markdown_table(
            ["label", "support", "precision", "recall", "F1", "baseline F1", "threshold"],
            [[l, m["support"], m["precision"], m["recall"], m["f1"],
              base_events["per_label"][l]["f1"] if base_events else "–", metrics.get("thresholds", {}).get(l, "–")]
             for l, m in result["events"]["per_label"].items()],
        ),
        f"### Attitude per label on gold spans ({split})",
        markdown_table(["attitude", "support", "precision", "recall", "F1"],
               [[a, m["support"], m["precision"], m["recall"], m["f1"]] for a, m in result["attitude_gold_spans"]["per_label"].items()]),
    ]
    return "\n\n".join(parts)


def write_report(run_dir: Path, metrics: dict, schema: LabelSchema) -> Path:
    """Write ``report.md`` and its figures into ``run_dir``; returns the Markdown path."""
    split = "test" if "test" in metrics else "dev"
    base = metrics.get("baselines", {}).get(split, {})
    _figure_per_label(run_dir / FIGURES["per_label"], metrics[split]["events"], base.get("events_tfidf_logreg"), schema)
    _figure_confusion(run_dir / FIGURES["confusion"], metrics[split]["attitude_gold_spans"], schema)
    _figure_curves(run_dir / FIGURES["curves"], metrics["training"]["log_history"])
    training = metrics["training"]
    dev = summary(metrics["dev"])
    text = "\n\n".join([
        "# EventLens training report",
        f"Base model `{metrics['config']['model']['base_model']}`; data: {metrics['data']['train']} train / "
        f"{metrics['data']['dev']} dev / {metrics['data']['test']} test sentences "
        f"(fingerprint `{metrics['data']['fingerprint'][:12]}`).",
        f"Training: {training['steps']} steps, {training['train_seconds']} s; best dev score {training['best_dev_score']} "
        f"({training['best_checkpoint'] or 'last'}); {training['truncated_train_sentences']} training sentence(s) truncated "
        f"to {metrics['config']['model']['max_length']} tokens. Dev after threshold tuning: event micro-F1 {dev['event_micro_f1']}, "
        f"actor F1 {dev['actor_f1']}, attitude macro-F1 {dev['attitude_macro_f1']}.",
        metrics_tables(metrics, schema),
        f"![per-label F1]({FIGURES['per_label']})\n\n![attitude confusion]({FIGURES['confusion']})\n\n"
        f"![training curves]({FIGURES['curves']})",
    ])
    path = run_dir / "report.md"
    path.write_text(text + "\n", encoding="utf-8")
    return path
