"""``eventlens score``: tag an archive (JSONL, CSV or Parquet) into JSONL, CSV or Parquet.

- Streaming in chunks: memory stays bounded whatever the input size.
- Every input row is accounted for: one output row (``row`` = its 0-based position) or one error row
  (bad JSON, not an object, missing or non-string text) in ``<output>.errors.jsonl``.
- ``--resume``: after each chunk the number of finished input rows and the byte sizes of the output
  files are saved (fsync'd) to ``<output>.progress.json``. A restart truncates the outputs to that
  point and skips the finished rows, so a crash or kill never loses or duplicates rows.
- ``workers > 1``: chunks are tagged in worker processes (one model each), at most ``2 × workers``
  chunks in flight, results written in input order.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")


class ScoringError(ValueError):
    """Bad scoring arguments (unknown format, existing output without --resume, ...)."""


@dataclass
class InputRow:
    """One input row: its position, the raw record (or None) and why it cannot be scored (or None)."""

    row: int
    record: dict | None
    error: str | None
    line: int | None = None


def detect_format(path: str | Path, given: str | None = None) -> str:
    """The file format from ``given`` or the file extension."""
    if given:
        return given
    suffixes = [s.lower() for s in Path(path).suffixes]
    for fmt, exts in (("jsonl", {".jsonl", ".ndjson", ".json"}), ("csv", {".csv", ".tsv"}), ("parquet", {".parquet", ".pq"})):
        if any(s in exts for s in suffixes):
            return fmt
    raise ScoringError(f"{path}: cannot tell the format from the extension; pass --input-format/--output-format ({', '.join(FORMATS)})")


def parse_jsonl_line(n: int, raw: bytes | str) -> InputRow:
    """Row ``n`` (0-based) of a JSONL file: the decoded object, or the reason it is unusable."""
    try:
        record = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except UnicodeDecodeError as err:
        return InputRow(n, None, f"not valid UTF-8: {err.reason}", line=n + 1)
    except json.JSONDecodeError as err:
        return InputRow(n, None, f"bad JSON: {err.msg} at column {err.colno}", line=n + 1)
    if not isinstance(record, dict):
        return InputRow(n, None, f"expected a JSON object, got {type(record).__name__}", line=n + 1)
    return InputRow(n, record, None, line=n + 1)


def flat_values(record: dict) -> dict:
    """Nested values (lists, dicts) as JSON strings, for tabular outputs (CSV, Parquet)."""
    return {k: v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, ensure_ascii=False) for k, v in record.items()}


def read_rows(path: str | Path, fmt: str) -> Iterator[InputRow]:
    """Stream input rows; malformed ones come back with ``error`` set instead of raising."""
    if fmt == "jsonl":
        with open(path, "rb") as handle:
            for n, raw in enumerate(handle):
                yield parse_jsonl_line(n, raw)
    elif fmt == "csv":
        csv.field_size_limit(sys.maxsize)
        with open(path, encoding="utf-8", newline="", errors="replace") as handle:
            reader = csv.DictReader(handle, dialect="excel-tab" if str(path).endswith(".tsv") else "excel")
            for n, record in enumerate(reader):
                if None in record:
                    yield InputRow(n, None, f"{len(record[None])} more field(s) than the header", line=reader.line_num)
                else:
                    yield InputRow(n, record, None, line=reader.line_num)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        n = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                yield InputRow(n, record, None)
                n += 1
    else:
        raise ScoringError(f"unknown input format {fmt!r} (choose from {', '.join(FORMATS)})")


class _Writer:
    """Appends records to JSONL, CSV, or Parquet part files; reports a resumable position."""

    def __init__(self, path: Path, fmt: str, position: int | None):
        self.path, self.fmt = path, fmt
        if fmt == "parquet":
            self.parts = path.with_name(path.name + ".parts")
            self.parts.mkdir(parents=True, exist_ok=True)
            self.count = position or 0
            for stale in self.parts.glob("part-*.parquet"):
                if int(stale.stem.split("-")[1]) >= self.count:
                    stale.unlink()
            return
        fresh = position is None or not path.exists()
        self.handle = open(path, "r+b" if not fresh else "wb")
        if not fresh:
            self.handle.truncate(position)
            self.handle.seek(position)
        self.csv_header = fresh

    def write(self, records: list[dict]) -> None:
        if not records:
            return
        if self.fmt == "jsonl":
            self.handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
        elif self.fmt == "csv":
            import io

            columns = list(records[0])
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
            if self.csv_header:
                writer.writeheader()
                self.csv_header = False
            for record in records:
                writer.writerow(flat_values(record))
            self.handle.write(buffer.getvalue().encode("utf-8"))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist([flat_values(r) for r in records]), self.parts / f"part-{self.count:06d}.parquet")
            self.count += 1

    def position(self) -> int:
        if self.fmt == "parquet":
            return self.count
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self, finished: bool) -> None:
        if self.fmt != "parquet":
            self.handle.close()
            return
        if finished:
            import pyarrow.parquet as pq

            parts = sorted(self.parts.glob("part-*.parquet"))
            if parts:
                schema = pq.read_schema(parts[0])
                with pq.ParquetWriter(self.path, schema) as writer:
                    for part in parts:
                        writer.write_table(pq.read_table(part).cast(schema))
            for part in parts:
                part.unlink()
            self.parts.rmdir()


_worker_tagger = None


def _init_worker(model_dir: str, variant: str, threads: int) -> None:
    global _worker_tagger
    from eventlens.inference.tagger import Tagger

    _worker_tagger = Tagger.load(model_dir, variant=variant, threads=threads)


def tag_texts(tagger, texts: list[str], documents: bool) -> list[dict]:
    """Result dicts for a chunk: one per text, or per document split into sentences."""
    if documents:
        return [tagger.tag_document(t).to_dict() for t in texts]
    return [r.to_dict() for r in tagger.tag(texts)]


def _tag_chunk(texts: list[str], documents: bool) -> list[dict]:
    return tag_texts(_worker_tagger, texts, documents)


def prepare_rows(chunk: list[InputRow], text_field: str, id_field: str | None):
    """Split a chunk into scorable texts and error rows; keep each row's id."""
    jobs, errors = [], []
    for item in chunk:
        record = item.record
        row_id = record.get(id_field) if (record is not None and id_field) else None
        where = {"row": item.row, "id": row_id if row_id is not None else item.row}
        if item.line is not None:
            where["line"] = item.line
        if item.error:
            errors.append({**where, "error": item.error})
        elif text_field not in record or record[text_field] is None:
            errors.append({**where, "error": f"missing field {text_field!r}"})
        elif not isinstance(record[text_field], str):
            errors.append({**where, "error": f"field {text_field!r} is {type(record[text_field]).__name__}, not a string"})
        else:
            jobs.append((where, record[text_field]))
    return jobs, errors


def score_file(
    model_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_field: str = "text",
    id_field: str | None = "id",
    input_format: str | None = None,
    output_format: str | None = None,
    documents: bool = False,
    workers: int = 1,
    chunk_size: int = 256,
    resume: bool = False,
    variant: str = "int8",
    progress: bool = True,
) -> dict:
    """Score an archive; returns the summary ``{rows_in, results, errors, ...}`` (rows_in = results + errors)."""
    input_path, output_path = Path(input_path), Path(output_path)
    in_fmt = detect_format(input_path, input_format)
    out_fmt = detect_format(output_path, output_format)
    errors_path = output_path.with_name(output_path.name + ".errors.jsonl")
    progress_path = output_path.with_name(output_path.name + ".progress.json")
    state = {"rows_done": 0, "results": 0, "errors": 0, "output_pos": None, "errors_pos": None}
    if resume and progress_path.exists():
        state = json.loads(progress_path.read_text())
        logger.info("resuming after %d finished rows", state["rows_done"])
    elif output_path.exists():
        raise ScoringError(
            f"{output_path} exists" + (f" but {progress_path.name} does not (finished, or not written by eventlens score)"
                                       if resume else "; pass --resume to continue an interrupted run")
            + "; remove it to start over"
        )

    out = _Writer(output_path, out_fmt, state["output_pos"])
    err = _Writer(errors_path, "jsonl", state["errors_pos"])
    workers = max(1, workers)
    threads = max(1, (os.cpu_count() or 1) // workers)
    if workers == 1:
        _init_worker(str(model_dir), variant, 0)
        pool = None
    else:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(str(model_dir), variant, threads))

    from tqdm import tqdm

    bar = tqdm(total=None, unit="rows", disable=not progress, initial=state["rows_done"], desc="scoring", dynamic_ncols=True)
    finished = False
    try:
        rows = read_rows(input_path, in_fmt)
        chunks = _chunks(rows, chunk_size, skip=state["rows_done"])
        pending: deque = deque()

        def submit(chunk):
            jobs, errors = prepare_rows(chunk, text_field, id_field)
            texts = [t for _, t in jobs]
            handle = pool.apply_async(_tag_chunk, (texts, documents)) if pool else _tag_chunk(texts, documents)
            pending.append((chunk, jobs, errors, handle))

        def drain_one():
            chunk, jobs, errors, handle = pending.popleft()
            tagged = handle.get() if pool else handle
            out.write([{**where, **result} for (where, _), result in zip(jobs, tagged)])
            err.write(errors)
            state["rows_done"] += len(chunk)
            state["results"] += len(jobs)
            state["errors"] += len(errors)
            state["output_pos"], state["errors_pos"] = out.position(), err.position()
            _save_atomic(progress_path, state)
            bar.update(len(chunk))
            bar.set_postfix(errors=state["errors"], refresh=False)

        for chunk in chunks:
            submit(chunk)
            if len(pending) >= 2 * workers:
                drain_one()
        while pending:
            drain_one()
        finished = True
    finally:
        bar.close()
        if pool:
            pool.terminate()
        out.close(finished)
        err.close(finished)
    summary = {"rows_in": state["rows_done"], "results": state["results"], "errors": state["errors"],
               "output": str(output_path), "errors_file": str(errors_path)}
    if summary["rows_in"] != summary["results"] + summary["errors"]:  # an internal invariant, never expected
        raise RuntimeError(f"row accounting mismatch: {summary}")
    progress_path.unlink(missing_ok=True)
    return summary


def _chunks(rows: Iterator[InputRow], size: int, skip: int) -> Iterator[list[InputRow]]:
    chunk: list[InputRow] = []
    for item in rows:
        if item.row < skip:
            continue
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _save_atomic(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        json.dump(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
