"""``eventlens score --engine ray``: archive scoring on Ray Data, on one machine or a Ray cluster.

Ray Data reads JSONL or Parquet files (or folders of them), an actor pool tags batches with one model
loaded per actor (``map_batches`` with a callable class), and the rows are written as Parquet. Rows
match the local engine's: results carry the same fields (nested values as JSON strings, as in the
local engine's Parquet output), and rows the local engine would send to its errors file appear with a
non-null ``error`` column instead — every input row is in the output exactly once.

Point it at an existing cluster with ``--ray-address ray://HOST:10001`` (or ``auto`` on a cluster node);
without it a local Ray instance starts. Needs the ``[ray]`` extra.
"""

from __future__ import annotations

import logging
from pathlib import Path

from eventlens.inference.scoring import InputRow, ScoringError, detect_format, flat_values, parse_jsonl_line, prepare_rows, tag_texts

logger = logging.getLogger(__name__)

ROW_COLUMN = "__eventlens_row"
OUTPUT_COLUMNS = ("row", "id", "line", "text", "events", "actors", "event_scores", "sentences", "error")


class _TaggerActor:
    """One model per Ray actor; ``__call__`` turns a batch of input rows into output rows."""

    def __init__(self, model_dir: str, variant: str, text_field: str, id_field: str | None, documents: bool, fmt: str):
        from eventlens.inference.tagger import Tagger

        self.tagger = Tagger.load(model_dir, variant=variant)
        self.text_field, self.id_field, self.documents, self.fmt = text_field, id_field, documents, fmt

    def __call__(self, batch: dict) -> dict:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        items = []
        for row in rows:
            n = int(row.pop(ROW_COLUMN))
            items.append(parse_jsonl_line(n, row["text"]) if self.fmt == "jsonl" else InputRow(n, row, None))
        jobs, errors = prepare_rows(items, self.text_field, self.id_field)
        texts = [text for _, text in jobs]
        tagged = tag_texts(self.tagger, texts, self.documents)
        out = [flat_values({**where, **result}) for (where, _), result in zip(jobs, tagged)] + [flat_values(e) for e in errors]
        out.sort(key=lambda r: r["row"])
        for record in out:
            if record.get("id") is not None:
                record["id"] = str(record["id"])
        return {column: [r.get(column) for r in out] for column in OUTPUT_COLUMNS}


def score_with_ray(
    model_dir: str | Path,
    inputs: list[str | Path],
    output_dir: str | Path,
    *,
    text_field: str = "text",
    id_field: str | None = "id",
    input_format: str | None = None,
    documents: bool = False,
    actors: int = 2,
    batch_size: int = 256,
    variant: str = "int8",
    address: str | None = None,
) -> dict:
    """Score JSONL/Parquet files or folders into a Parquet folder; returns ``{rows_in, results, errors, output}``.

    ``row`` numbers rows in input order across the listed files (for one file: its 0-based line or row).
    """
    import ray

    paths = [str(Path(p).resolve()) for p in inputs]
    first = Path(paths[0])
    fmt = input_format or (detect_format(next(iter(sorted(first.iterdir()))), None) if first.is_dir() else detect_format(first))
    if fmt not in ("jsonl", "parquet"):
        raise ScoringError(f"the ray engine reads jsonl or parquet, not {fmt}")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    # Each actor reserves one CPU; if actors took every CPU, the read tasks could never be scheduled.
    usable = max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
    if actors > usable:
        logger.warning("%d actors requested but the cluster has %d CPU(s) to spare after reading; using %d", actors, usable, usable)
        actors = usable

    if fmt == "jsonl":
        dataset = ray.data.read_text(paths, drop_empty_lines=False)
    else:
        dataset = ray.data.read_parquet(paths)
    count = dataset.count()
    numbered = dataset.zip(ray.data.range(count).rename_columns({"id": ROW_COLUMN}))
    tagged = numbered.map_batches(
        _TaggerActor,
        fn_constructor_args=(str(Path(model_dir).resolve()), variant, text_field, id_field, documents, fmt),
        concurrency=actors,
        batch_size=batch_size,
        batch_format="numpy",
    )
    tagged.write_parquet(str(output_dir))
    written = ray.data.read_parquet(str(output_dir))
    errors = written.filter(lambda r: r["error"] is not None).count()
    total = written.count()
    if total != count:
        raise RuntimeError(f"row accounting mismatch: {count} rows in, {total} rows written")
    return {"rows_in": count, "results": total - errors, "errors": errors, "output": str(output_dir)}
