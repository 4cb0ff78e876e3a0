"""Batching: texts → windows → length-sorted padded batches → a model → merged per-text outputs.

The model is any :data:`BatchRunner`, so the ONNX runtime and PyTorch evaluation share this code.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from eventlens.inference.decode import TokenView, merge_windows
from eventlens.inference.encoding import TextEncoder

#: Runs a padded batch (``input_ids``, ``attention_mask`` int64 arrays) and returns
#: ``(event_logits, actor_logits, attitude_logits)`` numpy arrays.
BatchRunner = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray, np.ndarray]]


def token_views(texts: list[str], encoder: TextEncoder, run: BatchRunner, batch_size: int = 32, workers: int = 1) -> list[TokenView]:
    """Encode every text into windows, run them in length-sorted batches, merge per text.

    ``workers > 1`` runs batches concurrently from a thread pool (``run`` must be thread-safe).
    """
    windows = [encoder.encode(text) for text in texts]
    flat = [(t, k) for t, ws in enumerate(windows) for k in range(len(ws))]
    flat.sort(key=lambda tk: len(windows[tk[0]][tk[1]].input_ids))
    outputs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    chunks = [flat[start : start + batch_size] for start in range(0, len(flat), batch_size)]

    def run_chunk(chunk: list[tuple[int, int]]):
        return run(encoder.batch([windows[t][k] for t, k in chunk]))

    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run_chunk, chunks))
    else:
        results = [run_chunk(chunk) for chunk in chunks]
    for chunk, (events, actors, attitudes) in zip(chunks, results):
        for row, (t, k) in enumerate(chunk):
            n = len(windows[t][k].input_ids)
            outputs[(t, k)] = (events[row], actors[row, :n], attitudes[row, :n])
    views = []
    for t, ws in enumerate(windows):
        per_window = [outputs[(t, k)] for k in range(len(ws))]
        views.append(
            merge_windows(ws, np.stack([o[0] for o in per_window]), [o[1] for o in per_window], [o[2] for o in per_window])
        )
    return views
