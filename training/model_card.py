"""Model cards generated from a run's measured metrics (never typed by hand)."""

from __future__ import annotations

from eventlens.inference.labels import LabelSchema
from eventlens.training.report import metrics_tables


def _front_matter(metrics: dict, manifest: dict) -> str:
    languages = sorted({lang for split in metrics["data"]["languages"].values() for lang in split})
    lines = ["---", "library_name: onnxruntime", "license: apache-2.0", "pipeline_tag: token-classification",
             "tags: [eventlens, event-extraction, targeted-sentiment, plover, onnx]", "language:"]
    lines += [f"  - {lang}" for lang in languages]
    lines += [f"base_model: {manifest.get('base_model', metrics['config']['model']['base_model'])}", "---", ""]
    return "\n".join(lines)


def render_model_card(metrics: dict, manifest: dict | None, schema: LabelSchema, huggingface: bool = False) -> str:
    """A model card for a trained (and optionally exported) run.

    ``huggingface=True`` adds the YAML metadata block that the Hugging Face hub reads.
    """
    data = metrics["data"]
    training = metrics["training"]
    languages = data["languages"]
    lang_rows = "\n".join(
        f"| {lang} | {languages['train'].get(lang, 0)} | {languages['dev'].get(lang, 0)} | {languages['test'].get(lang, 0)} |"
        for lang in sorted({l for split in languages.values() for l in split})
    )
    export = ""
    if manifest:
        checks = manifest["export_checks"]
        export = (
            "## Exported model\n\n"
            f"ONNX opset {manifest['opset']}, int8 dynamic quantization by default (fp32 kept). Parity of the fp32 graph "
            f"with PyTorch on padded batches of uneven length: max abs logit difference {checks['parity_max_abs_diff']:.1e}. "
            "Dev quality fp32 → int8: "
            + ", ".join(f"{k} {checks['dev_quality']['fp32'][k]} → {checks['dev_quality']['int8'][k]}" for k in checks["int8_drop"])
            + ".\n\n"
        )
    body = f"""# EventLens: multilingual event and actor-attitude tagger

This card is generated from the run's `metrics.json` by `eventlens model-card`; every number below was
measured by that run. Base encoder: `{metrics['config']['model']['base_model']}`.

## What it does

For each news sentence, in many languages, the model predicts
1. **event types** (multi-label, {len(schema.events)} PLOVER-based types: {", ".join(schema.events)}), each with a probability and a
   per-label threshold tuned on the dev split;
2. **actor mentions** (character spans of political actors), and for each the **attitude the sentence conveys**
   toward it: {" / ".join(schema.attitudes)}. The attitude head also scores actor spans a caller supplies.

## Intended uses

- Analysts and data teams monitoring conflict and politics: triage, counting and trend analysis of event types
  across large multilingual news archives, with humans reviewing what matters.
- Studying *framing*: how differently outlets portray the same actors, in aggregate.
- Retraining on an organisation's own annotations (`eventlens train`), then scoring archives or serving.

## Out-of-scope uses

- Treating outputs as facts about actors. The attitude label describes the **wording of one sentence**, not the
  actor's conduct, and not the truth of the sentence.
- Profiling, scoring, surveilling or targeting people or groups, or any decision about individuals
  (moderation, policing, immigration, employment, credit). Do not use it to target people.
- Fact-checking, attributing responsibility for violence, or casualty counting.
- Text far from news sentences (social media slang, long legal or technical documents) without new evaluation.

## Training data

{data['train']} train / {data['dev']} dev / {data['test']} test sentences (data fingerprint
`{data['fingerprint'][:16]}`). Thresholds were tuned on dev only; the test split was used for nothing but
the numbers below.

| language | train | dev | test |
|---|---|---|---|
{lang_rows}

Training: {training['steps']} optimisation steps in {training['train_seconds']} s; best dev score {training['best_dev_score']};
{training['truncated_train_sentences']} training sentence(s) longer than {metrics['config']['model']['max_length']} tokens were truncated
(inference windows long texts instead).

## Metrics

Span metrics are exact character matches; attitude macro-F1 is measured on gold spans; "end to end" needs both
the span and its attitude right. Baselines are trained on the same split.

{metrics_tables(metrics, schema)}

{export}## Limitations

- The bundled corpus is small and synthetic: sentences written for this project by language models following the
  annotation guidelines (see `data/README.md`), not real news. Expect lower scores on real copy. Scores per
  language rest on 27–93 test sentences and vary between runs; the four languages with 180 sentences are the
  least reliable.
- One sentence at a time: no document context, no coreference (pronouns are not actors), no event arguments.
- Sentences are written in news style; other registers will score lower.
- Event labels follow the EventLens annotation guidelines (a PLOVER-based reading); other coding schemes differ.

## Risks of attitude tagging

Framing is subjective: annotators disagree about whether wording makes an actor look bad or good, and the model
learns the annotators' reading, including their blind spots and the framing habits of the outlets they imitate.
Loaded vocabulary ("regime", "terrorists", "heroes") is a strong cue, so the model partly tracks word choice, which
differs by outlet, language and political camp. An actor mentioned mostly by hostile outlets will look "negative"
in aggregate even if nothing about its conduct is known. Outputs are statements about text, never facts about actors,
and must not be used to target people.
"""
    return (_front_matter(metrics, manifest or {}) if huggingface else "") + body
