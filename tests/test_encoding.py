"""Tokenisation with offsets, windowing of long inputs, window merging and span decoding."""

import numpy as np
import pytest

from eventlens.inference.decode import decode, decode_spans, merge_windows, span_attitude_logits
from eventlens.inference.encoding import TextEncoder
from eventlens.inference.labels import LabelSchema


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return TextEncoder.from_file(tiny_encoder_dir / "tokenizer.json", max_length=16, stride=4)


def test_offsets_are_whitespace_trimmed(encoder):
    ids, offsets = encoder.tokenize("Russian jets bombed Ariha.")
    text = "Russian jets bombed Ariha."
    assert [text[s:e] for s, e in offsets] == ["Russian", "je", "ts", "bombe", "d", "Ari", "ha", "."]


def test_windows_cover_every_token_with_overlap(encoder):
    text = " ".join(f"word{i}" for i in range(40))
    ids, offsets = encoder.tokenize(text)
    windows = encoder.encode(text)
    assert len(windows) > 1 and all(len(w.input_ids) <= 16 for w in windows)
    covered = set()
    for w in windows:
        covered.update(range(w.token_start, w.token_start + w.content_slice.stop - w.content_slice.start))
        assert w.input_ids[w.content_slice] == ids[w.token_start : w.token_start + len(w.input_ids[w.content_slice])]
    assert covered == set(range(len(ids)))
    assert windows[1].token_start < windows[0].token_start + 14  # overlap


def test_merge_keeps_each_token_once_in_document_order(encoder):
    text = " ".join(f"w{i}" for i in range(60))
    windows = encoder.encode(text)
    ids, offsets = encoder.tokenize(text)
    # Fake logits that encode each token's global index, to check the merge picks every token once.
    actor = [np.array([[w.token_start + i - w.content_slice.start] * 3 if w.content_slice.start <= i < w.content_slice.stop else [-1] * 3
                       for i in range(len(w.input_ids))], dtype=float) for w in windows]
    view = merge_windows(windows, np.zeros((len(windows), 2)), actor, actor)
    assert view.actor_logits[:, 0].tolist() == list(range(len(ids)))
    assert [tuple(o) for o in view.offsets] == offsets


def test_long_input_spans_keep_document_offsets(encoder):
    schema = LabelSchema(events=("A",), attitudes=("negative", "neutral", "positive"))
    text = " ".join(f"w{i}" for i in range(50)) + " Regime forces shelled it."
    windows = encoder.encode(text)
    start = text.index("Regime forces")
    end = start + len("Regime forces")
    actor, attitude = [], []
    for w in windows:
        inside = np.array([(s < end and e > start) for s, e in w.offsets])
        first = np.zeros(len(w.offsets), bool)
        first[np.argmax(inside)] = inside.any()
        logits = np.stack([~inside, first, inside & ~first], axis=1).astype(float) * 5
        actor.append(logits)
        attitude.append(np.tile([3.0, 0.0, 0.0], (len(w.offsets), 1)))
    view = merge_windows(windows, np.zeros((len(windows), 1)), actor, attitude)
    assert decode_spans(view, text) == [(start, end)]
    result = decode(text, view, schema, np.array([0.5]))
    assert [(a.start, a.end, a.text, a.attitude) for a in result.actors] == [(start, end, "Regime forces", "negative")]


def test_span_attitude_is_mean_of_token_logits(encoder):
    text = "Russian jets bombed Ariha."
    (window,) = encoder.encode(text)
    logits = np.zeros((len(window.offsets), 3))
    logits[1] = [4, 0, 0]  # ▁Russian
    logits[2] = [0, 2, 0]  # ▁je
    view = merge_windows([window], np.zeros((1, 1)), [logits], [logits])
    np.testing.assert_allclose(span_attitude_logits(view, 0, 12), [4 / 3, 2 / 3, 0])  # "Russian jets": 3 tokens
