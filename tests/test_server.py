"""The HTTP service, through a real uvicorn process on 127.0.0.1."""

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

TEXTS = ["Regime forces shelled Aleppo on day 3.", "The brave medics delivered food to Goma on day 8.",
         "Rebel fighters protested in Mosul on day 11.", "The ministry held talks in Bamako on day 12."]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_export):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventlens.training.cli", "serve", str(tiny_export), "--port", str(port),
         "--variant", "fp32", "--max-sentences", "8", "--max-chars", "2000", "--batch-wait-ms", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(proc.stdout.read())
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not become ready")
    yield base, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def metric(base: str, name: str, **labels) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_tag_and_labels(server):
    base, _ = server
    response = httpx.post(f"{base}/v1/tag", json={"texts": TEXTS[:2]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["text"] for r in results] == TEXTS[:2]
    assert [(a["text"], a["attitude"]) for a in results[0]["actors"]] == [("Regime forces", "negative")]
    given = httpx.post(f"{base}/v1/tag", json={"texts": [TEXTS[0]], "actors": [["Aleppo", {"start": 0, "end": 6}]]}).json()
    assert [(a["start"], a["end"]) for a in given["results"][0]["actors"]] == [(0, 6), (22, 28)]
    assert httpx.get(f"{base}/v1/labels").json()["attitudes"] == ["negative", "neutral", "positive"]
    doc = httpx.post(f"{base}/v1/tag-document", json={"text": " ".join(TEXTS[:2])}).json()
    assert [s["start"] for s in doc["sentences"]] == [0, 39]


def test_limits_and_validation(server):
    base, _ = server
    too_many = httpx.post(f"{base}/v1/tag", json={"texts": ["x"] * 9})
    assert too_many.status_code == 413 and "limit is 8" in too_many.json()["error"]
    too_long = httpx.post(f"{base}/v1/tag", json={"texts": ["a" * 2001]})
    assert too_long.status_code == 413 and "characters" in too_long.json()["error"]
    assert httpx.post(f"{base}/v1/tag-document", json={"text": "b" * 2001}).status_code == 413
    assert httpx.post(f"{base}/v1/tag", json={"texts": [5]}).status_code == 422
    assert httpx.post(f"{base}/v1/tag", json={"sentences": ["x"]}).status_code == 422
    bad_actor = httpx.post(f"{base}/v1/tag", json={"texts": [TEXTS[0]], "actors": [["Kyiv"]]})
    assert bad_actor.status_code == 422 and "does not occur" in bad_actor.json()["error"]


def test_health_and_metrics_move(server):
    base, _ = server
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    before = metric(base, "eventlens_requests_total", endpoint="/v1/tag", status="200")
    batches = metric(base, "eventlens_model_batch_texts_count")
    httpx.post(f"{base}/v1/tag", json={"texts": TEXTS})
    assert metric(base, "eventlens_requests_total", endpoint="/v1/tag", status="200") == before + 1
    assert metric(base, "eventlens_model_batch_texts_count") == batches + 1
    assert metric(base, "eventlens_request_seconds_count", endpoint="/v1/tag") >= 1
    assert "/v1/tag" in httpx.get(f"{base}/openapi.json").json()["paths"]


def test_concurrent_burst_equals_sequential(server):
    base, _ = server
    payloads = [{"texts": [TEXTS[i % 4], TEXTS[(i + 1) % 4]]} for i in range(32)]
    sequential = [httpx.post(f"{base}/v1/tag", json=p).json()["results"] for p in payloads]
    batches_before = metric(base, "eventlens_model_batch_texts_count")
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda p: httpx.post(f"{base}/v1/tag", json=p, timeout=60), payloads))
    assert all(r.status_code == 200 for r in responses)
    for got, want in zip([r.json()["results"] for r in responses], sequential):
        for a, b in zip(got, want):
            assert [(x["start"], x["end"], x["attitude"]) for x in a["actors"]] == [(x["start"], x["end"], x["attitude"]) for x in b["actors"]]
            assert [e["label"] for e in a["events"]] == [e["label"] for e in b["events"]]
            assert all(abs(a["event_scores"][k] - b["event_scores"][k]) <= 2e-4 for k in a["event_scores"])
    assert metric(base, "eventlens_model_batch_texts_count") - batches_before < 32  # requests were micro-batched


def test_graceful_shutdown_finishes_in_flight_requests(tiny_export):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "eventlens.training.cli", "serve", str(tiny_export), "--port", str(port),
                             "--batch-wait-ms", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(lambda: httpx.post(f"{base}/v1/tag", json={"texts": TEXTS}, timeout=30))
        time.sleep(0.1)  # the request is now waiting in the 300 ms batching window
        proc.terminate()
        response = pending.result()
    assert response.status_code == 200 and len(response.json()["results"]) == 4
    # uvicorn finishes the request, shuts down, then re-raises SIGTERM: exit by that signal, not a crash.
    assert proc.wait(timeout=30) in (0, -15)
