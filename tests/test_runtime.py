"""The exported model directory and the runtime Tagger (tiny model)."""

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest
import torch

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.manifest import ModelDirError
from eventlens.inference.tagger import InputError, Tagger
from eventlens.training.export import onnx_runner
from eventlens.training.modeling import EventLensModel
from eventlens.training.predict import torch_runner

TEXTS = ["Regime forces shelled Aleppo on day 3.", "The brave medics delivered food to Goma on day 8.",
         "Rebel fighters protested in Mosul on day 11, and the ministry held talks in Bamako on day 12.", "Short."]


@pytest.fixture(scope="module")
def tagger(tiny_export):
    return Tagger.load(tiny_export)


def test_manifest_and_files(tiny_export):
    manifest = json.loads((tiny_export / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "model_fp32.onnx", "tokenizer.json", "README.md"}
    assert manifest["labels"]["events"][0] == "AGREE" and len(manifest["thresholds"]) == 16
    assert manifest["export_checks"]["parity_max_abs_diff"] < 1e-3
    assert {"dev", "test"} <= set(manifest["metrics"]) and manifest["training_data"]["fingerprint"]
    card = (tiny_export / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: onnxruntime") and "must not be used to target people" in card


def test_fp32_onnx_matches_torch_on_padded_uneven_batches(tiny_run, tiny_export):
    model = EventLensModel.from_pretrained(tiny_run / "model")
    encoder = TextEncoder.from_file(tiny_export / "tokenizer.json", max_length=32)
    batch = encoder.batch([w for t in TEXTS for w in encoder.encode(t)])
    assert batch["attention_mask"].min() == 0  # padding present
    mask = batch["attention_mask"].astype(bool)
    for a, b in zip(torch_runner(model)(batch), onnx_runner(tiny_export / "model_fp32.onnx")(batch)):
        assert a.shape == b.shape
        assert np.abs(a - b)[mask].max() < 1e-3 if a.ndim == 3 else np.abs(a - b).max() < 1e-3


def test_int8_graph_is_quantized(tiny_export):
    ops = {node.op_type for node in onnx.load(str(tiny_export / "model.onnx")).graph.node}
    assert "DynamicQuantizeLinear" in ops and "MatMulInteger" in ops
    assert (tiny_export / "model.onnx").stat().st_size < 0.5 * (tiny_export / "model_fp32.onnx").stat().st_size


def test_int8_decisions_stay_close_to_fp32(tiny_export):
    checks = json.loads((tiny_export / "manifest.json").read_text())["export_checks"]
    assert all(abs(drop) <= 0.05 for drop in checks["int8_drop"].values()), checks


def test_tag_shapes_and_offsets(tagger):
    results = tagger.tag(TEXTS)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results):
        d = result.to_dict()
        assert set(d) == {"text", "events", "actors", "event_scores"} and len(d["event_scores"]) == 16
        for actor in d["actors"]:
            assert text[actor["start"]:actor["end"]] == actor["text"]
            assert set(actor["scores"]) == {"negative", "neutral", "positive"}
            assert abs(sum(actor["scores"].values()) - 1) < 1e-3
        for event in d["events"]:
            assert event["score"] >= tagger.thresholds[tagger.schema.events.index(event["label"])]
    assert json.loads(json.dumps(results[0].to_dict())) == results[0].to_dict()


def test_the_toy_model_finds_the_actor(tagger):
    result = tagger.tag("Regime forces shelled Aleppo on day 3.")
    assert [(a.text, a.attitude) for a in result.actors] == [("Regime forces", "negative")]


def test_caller_given_actors(tagger):
    text = "The army shelled Goma on day 4 while the army denied it."
    by_string = tagger.tag(text, actors=["the army"])
    assert [(a.start, a.end) for a in by_string.actors] == [(37, 45)]  # case-sensitive: every exact occurrence
    by_span = tagger.tag(text, actors=[(0, 8), {"start": 37, "end": 45}])
    assert [(a.start, a.end, a.text) for a in by_span.actors] == [(0, 8, "The army"), (37, 45, "the army")]
    batch = tagger.tag([text, "Short."], actors=[["army"], None])
    assert [a.text for a in batch[0].actors] == ["army", "army"]
    with pytest.raises(InputError, match=r"actors\[0\]\[0\]: 'Kyiv' does not occur"):
        tagger.tag(text, actors=["Kyiv"])
    with pytest.raises(InputError, match=r"span \[50, 90\)"):
        tagger.tag(text, actors=[(50, 90)])


def test_input_rule(tagger):
    empty = tagger.tag(["", "   \n"])
    assert all(r.events == [] and r.actors == [] and set(r.event_scores.values()) == {0.0} for r in empty)
    with pytest.raises(InputError, match=r"texts\[1\]: expected a string, got int"):
        tagger.tag(["ok", 5])
    with pytest.raises(InputError, match="got NoneType"):
        tagger.tag([None])


def test_long_input_is_windowed_not_cut(tagger):
    assert tagger.encoder.max_length == 32
    filler = " ".join(f"The ministry held talks in Goma on day {i}." for i in range(30))
    text = filler + " Regime forces shelled Aleppo on day 3."
    assert len(tagger.encoder.encode(text)) > 5
    start = text.index("Regime forces")
    found = [(a.start, a.end, a.text) for a in tagger.tag(text).actors]
    assert (start, start + len("Regime forces"), "Regime forces") in found
    assert len(found) > 20  # actors from every window, with offsets into the whole text
    assert all(text[s:e] == t for s, e, t in found)
    scored = tagger.tag(text, actors=["Regime forces"])
    assert [(a.start, a.text) for a in scored.actors] == [(start, "Regime forces")]


def test_document_offsets(tagger):
    doc = "Regime forces shelled Aleppo on day 3. The brave medics delivered food to Goma on day 8!"
    result = tagger.tag_document(doc)
    assert [doc[s:e] for s, e in result.spans] == ["Regime forces shelled Aleppo on day 3.", "The brave medics delivered food to Goma on day 8!"]
    for sentence in result.sentences:
        for actor in sentence.actors:
            assert doc[actor.start:actor.end] == actor.text
    assert result.to_dict()["sentences"][1]["start"] == 39


@pytest.mark.parametrize("variant, tolerance", [("fp32", 1e-4), ("int8", 1e-2)])
def test_batch_size_invariance(tiny_export, variant, tolerance):
    """fp32 is exact up to float noise; int8 dynamic quantization picks activation scales per batch,
    so batch composition moves its scores slightly (never the decisions here)."""
    one = Tagger.load(tiny_export, variant=variant, batch_size=1)
    many = Tagger.load(tiny_export, variant=variant, batch_size=32)
    for a, b in zip(one.tag(TEXTS), many.tag(TEXTS)):
        assert [(x.start, x.end, x.attitude) for x in a.actors] == [(x.start, x.end, x.attitude) for x in b.actors]
        np.testing.assert_allclose(list(a.event_scores.values()), list(b.event_scores.values()), atol=tolerance)


def test_thread_safety(tagger):
    texts = [f"{t} (copy {i})" for i in range(8) for t in TEXTS]
    sequential = [tagger.tag(t).to_dict() for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda t: tagger.tag(t).to_dict(), texts))
    assert concurrent == sequential


def test_tampering_and_missing_files_are_named(tiny_export, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_export, copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelDirError, match=r"model\.onnx: checksum mismatch"):
        Tagger.load(copy)
    Tagger.load(copy, variant="fp32")  # the untouched fp32 file still loads
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ModelDirError, match=r"tokenizer\.json: missing"):
        Tagger.load(copy, variant="fp32")
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ModelDirError, match="format_version 99 is not supported"):
        Tagger.load(copy)
    with pytest.raises(ModelDirError, match="manifest.json: missing"):
        Tagger.load(tmp_path)


BLOCKED = "import sys; sys.modules.update({m: None for m in ('torch', 'transformers', 'datasets', 'accelerate', 'evaluate')}); "


def test_runtime_runs_with_torch_and_transformers_blocked(tiny_export):
    code = BLOCKED + (
        "from eventlens.inference.tagger import Tagger; "
        f"t = Tagger.load({str(tiny_export)!r}); r = t.tag('Regime forces shelled Aleppo on day 3.'); "
        "print(r.actors[0].text); "
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Regime forces"


def test_cli_tag_runs_with_torch_blocked(tiny_export):
    code = BLOCKED + (
        "from eventlens.training.cli import main; "
        f"sys.exit(main(['tag', '-m', {str(tiny_export)!r}, '--json', 'Regime forces shelled Aleppo on day 3.']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["actors"][0]["text"] == "Regime forces"


def test_ffn_down_projections_stay_fp32(tiny_export):
    from eventlens.training.export import ffn_down_projections

    graph = onnx.load(str(tiny_export / "model.onnx")).graph
    kept = ffn_down_projections(tiny_export / "model_fp32.onnx", 64, 32)
    assert len(kept) == 2  # one per layer of the tiny encoder
    float_matmuls = {n.name for n in graph.node if n.op_type == "MatMul"}
    assert set(kept) <= float_matmuls
    assert json.loads((tiny_export / "manifest.json").read_text())["int8_fp32_nodes"] == 2


def test_int8_results_do_not_depend_on_grouping(tiny_export):
    """int8 runs each window alone, so a text's result is the same whatever it is tagged with."""
    tagger = Tagger.load(tiny_export)
    assert (tagger.batch_size, tagger.workers >= 1) == (1, True)
    together = [r.to_dict() for r in tagger.tag(TEXTS * 3)]
    alone = [tagger.tag(t).to_dict() for t in TEXTS * 3]
    assert together == alone
