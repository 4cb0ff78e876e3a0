"""The ``eventlens`` command. Heavy libraries are imported inside each subcommand, so runtime-only
subcommands (``tag``, ``score``) work without torch or transformers installed."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

DEFAULT_LABELS = Path(__file__).resolve().parent.parent / "configs" / "labels.yaml"


def _labels(path: str | None):
    from eventlens.training.config import load_label_schema

    return load_label_schema(path or DEFAULT_LABELS)


def cmd_validate_data(args: argparse.Namespace) -> int:
    from eventlens.training.data import validate_files

    examples, problems = validate_files(args.files, _labels(args.labels))
    for problem in problems:
        print(problem)
    print(f"{len(examples)} valid row(s), {len(problems)} problem(s) in {len(args.files)} file(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_import(args: argparse.Namespace) -> int:
    from eventlens.training.data import write_jsonl
    from eventlens.training.importers import IMPORTERS

    examples, problems = IMPORTERS[args.format](args.input, _labels(args.labels), lang=args.lang, complete=args.complete)
    for problem in problems:
        print(problem)
    if problems and not args.keep_going:
        print(f"{len(problems)} problem(s); nothing written (use --keep-going to write the valid rows)", file=sys.stderr)
        return 1
    written = write_jsonl(examples, args.output)
    print(f"wrote {written} row(s) to {args.output}; {len(problems)} row problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_data_stats(args: argparse.Namespace) -> int:
    import json

    from eventlens.training.corpus_stats import check_thresholds, corpus_stats, split_name
    from eventlens.training.data import DataError, load_examples

    schema = _labels(args.labels)
    try:
        splits = {split_name(path): load_examples([path], schema) for path in args.files}
    except DataError as err:
        print(err, file=sys.stderr)
        return 1
    stats = corpus_stats(splits, schema)
    checks = check_thresholds(stats, schema)
    if args.json:
        stats["thresholds"] = [c.__dict__ for c in checks]
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
        print("\nthresholds:")
        for c in checks:
            print(f"  [{'ok' if c.met else 'MISSING'}] {c.name}: {c.value} (target {c.target})")
    return 0 if all(c.met for c in checks) or not args.strict else 1


def cmd_split_data(args: argparse.Namespace) -> int:
    from eventlens.training.data import DataError, load_examples, write_jsonl
    from eventlens.training.splits import stratified_split

    try:
        examples = load_examples(args.files, _labels(args.labels))
    except DataError as err:
        print(err, file=sys.stderr)
        return 1
    for name, rows in stratified_split(examples, tuple(args.ratios)).items():
        path = Path(args.output_dir) / f"{name}.jsonl"
        write_jsonl(rows, path)
        print(f"{path}: {len(rows)} rows", file=sys.stderr)
    return 0


def cmd_base_model(args: argparse.Namespace) -> int:
    from eventlens.training.base_model import materialize_base_model

    print(materialize_base_model(Path(args.cache_dir) if args.cache_dir else None, force=args.force))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from eventlens.training.config import load_config
    from eventlens.training.train import train

    overrides = dict(item.split("=", 1) for item in args.set or [])
    config = load_config(args.config, overrides={k: _yaml_value(v) for k, v in overrides.items()})
    run_dir = train(config, progress=not args.no_progress)
    print(run_dir)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from eventlens.training.export import export_run

    manifest = export_run(args.run_dir, args.output, dev_files=args.dev)
    checks = manifest["export_checks"]
    print(f"exported to {args.output}: parity max |diff| {checks['parity_max_abs_diff']:.1e}; "
          f"int8 dev drop {checks['int8_drop']}")
    return 0


def cmd_model_card(args: argparse.Namespace) -> int:
    import json

    from eventlens.inference.labels import LabelSchema
    from eventlens.inference.manifest import read_manifest
    from eventlens.training.model_card import render_model_card
    from eventlens.training.train import METRICS_FILE

    metrics = json.loads((Path(args.run_dir) / METRICS_FILE).read_text(encoding="utf-8"))
    manifest = read_manifest(args.model_dir) if args.model_dir else None
    schema = LabelSchema.from_dict(manifest["labels"]) if manifest else _labels(args.labels)
    Path(args.output).write_text(render_model_card(metrics, manifest, schema), encoding="utf-8")
    print(args.output)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from eventlens.training.evaluate import evaluate_path
    from eventlens.training.metrics import summary

    metrics = evaluate_path(args.model, args.data, variant=args.variant, baselines=not args.no_baselines)
    if args.json:
        print(json.dumps(metrics, indent=2, ensure_ascii=False))
        return 0
    rows = {"all": summary(metrics), **metrics["per_language"]}
    keys = ["sentences", "event_micro_f1", "event_macro_f1", "actor_f1", "attitude_macro_f1", "end_to_end_f1"]
    print("subset".ljust(8) + "".join(k.rjust(19) for k in keys))
    for name, row in rows.items():
        print(name.ljust(8) + "".join(str(row[k]).rjust(19) for k in keys))
    if "baselines" in metrics:
        base = metrics["baselines"]
        print(f"baselines: TF-IDF+LR event micro-F1 {base['events_tfidf_logreg']['micro_f1']}, macro-F1 "
              f"{base['events_tfidf_logreg']['macro_f1']}; majority attitude macro-F1 {base['attitude_majority']['macro_f1']}")
    return 0


def _format_result(result: dict) -> str:
    events = ", ".join(f"{e['label']} ({e['score']:.2f})" for e in result["events"]) or "none"
    actors = " · ".join(f"[{a['start']}:{a['end']}] \"{a['text']}\" {a['attitude']} ({a['score']:.2f})"
                        for a in result["actors"]) or "none"
    return f"{result['text']}\n  events: {events}\n  actors: {actors}"


def cmd_tag(args: argparse.Namespace) -> int:
    import json

    from eventlens.inference.tagger import Tagger

    tagger = Tagger.load(args.model, variant=args.variant)
    if args.document:
        results = [tagger.tag_document(text).to_dict() for text in args.texts]
        sentences = [s for doc in results for s in doc["sentences"]]
    else:
        actors = [args.actor] * len(args.texts) if args.actor else None
        results = [r.to_dict() for r in tagger.tag(args.texts, actors=actors)]
        sentences = results
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], ensure_ascii=False, indent=2))
    else:
        print("\n".join(_format_result(s) for s in sentences))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    import json

    if args.engine == "ray":
        try:
            from eventlens.inference.ray_scoring import score_with_ray
        except ImportError as err:
            print(f"--engine ray needs the [ray] extra (pip install 'eventlens[ray]'): {err}", file=sys.stderr)
            return 1
        summary = score_with_ray(args.model, [args.input, *args.more_inputs], args.output, text_field=args.text_field,
                                 id_field=args.id_field, input_format=args.input_format, documents=args.documents,
                                 actors=args.workers, batch_size=args.chunk_size, variant=args.variant, address=args.ray_address)
        print(json.dumps(summary), file=sys.stderr)
        return 0
    if args.more_inputs:
        print("several inputs need --engine ray; the local engine scores one file", file=sys.stderr)
        return 1
    from eventlens.inference.scoring import score_file

    summary = score_file(
        args.model, args.input, args.output, text_field=args.text_field, id_field=args.id_field,
        input_format=args.input_format, output_format=args.output_format, documents=args.documents,
        workers=args.workers, chunk_size=args.chunk_size, resume=args.resume, variant=args.variant,
        progress=not args.no_progress,
    )
    print(json.dumps(summary), file=sys.stderr)
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    import json

    from eventlens.training.agreement import agreement
    from eventlens.training.data import load_examples

    schema = _labels(args.labels)
    first, second = load_examples(args.first, schema), load_examples(args.second, schema)
    result = agreement(first, second, schema)
    if args.disagreements:
        from eventlens.training.agreement import disagreements

        rows = disagreements(first, second)
        Path(args.disagreements).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} sentence(s) with disagreements written to {args.disagreements}", file=sys.stderr)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def cmd_apply_adjudication(args: argparse.Namespace) -> int:
    from eventlens.training.agreement import apply_resolutions
    from eventlens.training.data import DataError, load_examples, write_jsonl
    from eventlens.training.importers import import_mentions

    schema = _labels(args.labels)
    resolved, problems = [], []
    for path in args.resolved:
        rows, row_problems = import_mentions(path, schema) if args.mentions else (load_examples([path], schema), [])
        resolved.extend(rows)
        problems.extend(row_problems)
    if problems:
        print(DataError(problems), file=sys.stderr)
        return 1
    total, seen = 0, set()
    for path in args.corpus:
        examples = load_examples([path], schema)
        ids = {e.id for e in examples}
        seen |= ids
        updated, changed = apply_resolutions(examples, [r for r in resolved if r.id in ids])
        write_jsonl(updated, path)
        total += changed
        print(f"{path}: {changed} row(s) changed", file=sys.stderr)
    missing = {r.id for r in resolved} - seen
    if missing:
        print(f"ids not found in the corpus: {sorted(missing)[:10]}", file=sys.stderr)
        return 1
    print(f"{total} row(s) changed in total", file=sys.stderr)
    return 0


def cmd_review_sample(args: argparse.Namespace) -> int:
    import json

    from eventlens.training.agreement import review_sample
    from eventlens.training.data import load_examples

    sample = review_sample(load_examples(args.files, _labels(args.labels)), args.fraction)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    print(f"{len(sample)} sentences (text only) written to {args.output}", file=sys.stderr)
    return 0


def cmd_data_card(args: argparse.Namespace) -> int:
    from eventlens.training.data_card import write_data_card

    print(write_data_card(Path(args.data_dir), _labels(args.labels)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from eventlens.inference.server import Limits, serve
    except ImportError as err:
        print(f"eventlens serve needs the [serve] extra (pip install 'eventlens[serve]'): {err}", file=sys.stderr)
        return 1
    from eventlens.inference.manifest import read_manifest

    read_manifest(args.model_dir)  # fail fast, before uvicorn starts, on a wrong directory
    serve(args.model_dir, host=args.host, port=args.port, workers=args.workers,
          limits=Limits(max_sentences=args.max_sentences, max_chars=args.max_chars), max_batch=args.max_batch,
          batch_wait_ms=args.batch_wait_ms, variant=args.variant, graceful_timeout=args.graceful_timeout)
    return 0


def _yaml_value(text: str):
    import yaml

    return yaml.safe_load(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="eventlens", description="Multilingual event and actor-attitude tagging.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("validate-data", help="check JSONL files; prints file:line: field: reason")
    p.add_argument("files", nargs="+", help="JSONL files in the EventLens format")
    p.add_argument("--labels", help=f"labels YAML (default: {DEFAULT_LABELS.name} of this project)")
    p.set_defaults(func=cmd_validate_data)

    from eventlens.training.importers import IMPORTERS

    p = commands.add_parser("import", help="convert Label Studio / doccano / CSV / mention-string files to JSONL")
    p.add_argument("format", choices=sorted(IMPORTERS))
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="output JSONL file")
    p.add_argument("--lang", default="und", help="language code for rows that carry none")
    p.add_argument("--complete", action="store_true", help="a row with no spans/events was fully annotated: write [] instead of null")
    p.add_argument("--keep-going", action="store_true", help="write the valid rows even if some rows have problems")
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_import)
    p = commands.add_parser("split-data", help="write stratified train/dev/test files")
    p.add_argument("files", nargs="+", help="JSONL corpus files")
    p.add_argument("-o", "--output-dir", required=True)
    p.add_argument("--ratios", nargs=3, type=float, default=[0.75, 0.10, 0.15], metavar=("TRAIN", "DEV", "TEST"))
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_split_data)

    p = commands.add_parser("base-model", help="materialise the offline multilingual-e5-small encoder (idempotent)")
    p.add_argument("--cache-dir", help="default: $EVENTLENS_CACHE or ~/.cache/eventlens")
    p.add_argument("--force", action="store_true", help="rebuild even if a verified copy exists")
    p.set_defaults(func=cmd_base_model)

    p = commands.add_parser("train", help="fine-tune on a YAML config; writes a run directory")
    p.add_argument("--config", required=True, help="e.g. configs/default.yaml")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config value (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("evaluate", help="metrics of a run or an exported model on labelled JSONL")
    p.add_argument("model", help="a run directory, a saved model directory, or an exported ONNX model directory")
    p.add_argument("data", nargs="+", help="labelled JSONL files")
    p.add_argument("--variant", choices=["int8", "fp32"], default="int8", help="ONNX file to use for exported models")
    p.add_argument("--no-baselines", action="store_true", help="skip the TF-IDF / majority baselines")
    p.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("export", help="export a run to an ONNX model directory (fp32 + int8, parity-checked)")
    p.add_argument("run_dir")
    p.add_argument("-o", "--output", required=True, help="model directory to write")
    p.add_argument("--dev", nargs="+", help="dev JSONL for the parity/quality checks (default: the run's dev files)")
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("model-card", help="write a model card from a run's measured metrics")
    p.add_argument("run_dir")
    p.add_argument("--model-dir", help="the exported model directory (adds export checks)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--labels", help="labels YAML (when no --model-dir)")
    p.set_defaults(func=cmd_model_card)

    p = commands.add_parser("tag", help="tag sentences (or documents) and print the result")
    p.add_argument("texts", nargs="+", help="sentences to tag")
    p.add_argument("-m", "--model", required=True, help="exported model directory")
    p.add_argument("--actor", action="append", help="score this caller-given actor string instead of predicted ones (repeatable)")
    p.add_argument("--document", action="store_true", help="split each text into sentences first")
    p.add_argument("--variant", choices=["int8", "fp32"], default="int8")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_tag)

    p = commands.add_parser("score", help="tag an archive: JSONL/CSV/Parquet in and out, streaming, resumable")
    p.add_argument("input", help="input file (with --engine ray: a file or folder; more may follow)")
    p.add_argument("more_inputs", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("-m", "--model", required=True, help="exported model directory")
    io_group = p.add_argument_group("input and output")
    io_group.add_argument("--text-field", default="text")
    io_group.add_argument("--id-field", default="id", help="copied into each output row when present")
    io_group.add_argument("--input-format", choices=["jsonl", "csv", "parquet"], help="default: from the extension")
    io_group.add_argument("--output-format", choices=["jsonl", "csv", "parquet"], help="default: from the extension")
    io_group.add_argument("--documents", action="store_true", help="split long texts into sentences first")
    run_group = p.add_argument_group("execution")
    run_group.add_argument("--engine", choices=["local", "ray"], default="local",
                           help="local processes, or Ray Data (writes a Parquet folder; see --ray-address)")
    run_group.add_argument("--ray-address", help="an existing Ray cluster (e.g. ray://head:10001 or auto); default: start Ray locally")
    run_group.add_argument("--workers", type=int, default=1, help="worker processes (local) or Ray actors, one model each")
    run_group.add_argument("--chunk-size", type=int, default=256, help="rows per chunk (the resume granularity)")
    run_group.add_argument("--resume", action="store_true", help="continue an interrupted run without losing or duplicating rows")
    run_group.add_argument("--variant", choices=["int8", "fp32"], default="int8")
    run_group.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_score)

    p = commands.add_parser("agreement", help="inter-annotator agreement of two passes (matched by id)")
    p.add_argument("--first", nargs="+", required=True, help="JSONL of the first (reference) pass")
    p.add_argument("--second", nargs="+", required=True, help="JSONL of the second pass")
    p.add_argument("-o", "--output", help="write the JSON here too")
    p.add_argument("--disagreements", help="write the sentences the passes disagree on (JSONL) for adjudication")
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_agreement)

    p = commands.add_parser("apply-adjudication", help="write adjudicated labels into corpus files (by id; metadata kept)")
    p.add_argument("--corpus", nargs="+", required=True, help="corpus JSONL files, rewritten in place")
    p.add_argument("--resolved", nargs="+", required=True, help="adjudicated rows (EventLens JSONL)")
    p.add_argument("--mentions", action="store_true", help="the resolved rows give actors as strings (eventlens import mentions format)")
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_apply_adjudication)

    p = commands.add_parser("review-sample", help="a blind, deterministic sample (text only) for a second annotation pass")
    p.add_argument("files", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--fraction", type=float, default=0.1)
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_review_sample)

    p = commands.add_parser("data-card", help="regenerate data/README.md from the corpus files")
    p.add_argument("data_dir", nargs="?", default="data")
    p.add_argument("--labels", help="labels YAML")
    p.set_defaults(func=cmd_data_card)

    p = commands.add_parser("serve", help="HTTP service (FastAPI + uvicorn): /v1/tag, /v1/tag-document, /metrics ...")
    p.add_argument("model_dir", help="exported model directory")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (one model each)")
    p.add_argument("--variant", choices=["int8", "fp32"], default="int8")
    limits = p.add_argument_group("limits and batching")
    limits.add_argument("--max-sentences", type=int, default=128, help="texts per request (more: 413)")
    limits.add_argument("--max-chars", type=int, default=100_000, help="characters per request (more: 413)")
    limits.add_argument("--max-batch", type=int, default=64, help="texts per micro-batched model call")
    limits.add_argument("--batch-wait-ms", type=float, default=5.0, help="how long to gather concurrent requests")
    limits.add_argument("--graceful-timeout", type=float, default=30.0, help="seconds to finish in-flight requests on shutdown")
    p.set_defaults(func=cmd_serve)

    p = commands.add_parser("data-stats", help="corpus statistics and the bundled corpus's thresholds")
    p.add_argument("files", nargs="+", help="JSONL files (the file name's stem is used as the split name)")
    p.add_argument("--labels", help="labels YAML")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 if a threshold is not met")
    p.set_defaults(func=cmd_data_stats)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eventlens`` console script."""
    args = build_parser().parse_args(argv)
    # Our own progress at INFO; third-party chatter (e.g. onnxruntime's quantizer) only from WARNING up.
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("eventlens").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
