"""``eventlens serve``: a FastAPI service around one :class:`~eventlens.inference.tagger.Tagger`.

- ``POST /v1/tag`` (sentences, optional caller-given actors), ``POST /v1/tag-document``,
  ``GET /v1/labels``, ``GET /healthz`` (process alive), ``GET /readyz`` (model loaded),
  ``GET /metrics`` (Prometheus), OpenAPI docs at ``/docs``.
- Limits: more than ``max_sentences`` texts or more than ``max_chars`` characters in one request → 413
  with a JSON error; malformed bodies (wrong types, missing fields) → 422.
- Inference runs off the event loop. Concurrent requests are micro-batched: texts arriving within
  ``batch_wait_ms`` of each other (up to ``max_batch`` texts) go to the model in one call.
- Graceful shutdown: uvicorn stops accepting connections and waits for in-flight requests; the
  batcher drains its queue before the process exits.

Needs the ``[serve]`` extra (fastapi, uvicorn, prometheus-client).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field

from eventlens.inference.tagger import InputError, Tagger

logger = logging.getLogger(__name__)

#: Environment variable naming the model directory for ``app_from_env`` (multi-worker uvicorn).
MODEL_DIR_ENV = "EVENTLENS_MODEL_DIR"


class ActorSpan(BaseModel):
    start: int
    end: int


class TagRequest(BaseModel):
    texts: list[str] = Field(..., description="sentences to tag", examples=[["Russian jets bombed Ariha."]])
    actors: list[list[str | ActorSpan] | None] | None = Field(
        None, description="per text: caller-given actors (strings matched at every occurrence, or spans); null predicts")


class DocumentRequest(BaseModel):
    text: str = Field(..., description="a document; split into sentences before tagging")


@dataclass
class Limits:
    """Per-request limits (answered with 413)."""

    max_sentences: int = 128
    max_chars: int = 100_000


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("eventlens_requests_total", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram("eventlens_request_seconds", "request latency", ["endpoint"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.batch_size = Histogram("eventlens_model_batch_texts", "texts per model call (after micro-batching)",
                                    registry=self.registry, buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))


@dataclass
class _Pending:
    texts: list[str]
    actors: list | None
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Collects concurrent tag requests into shared model calls, run in a worker thread."""

    def __init__(self, tagger: Tagger, metrics: _Metrics, max_batch: int = 64, wait_ms: float = 5.0):
        self.tagger, self.metrics = tagger, metrics
        self.max_batch, self.wait = max_batch, wait_ms / 1000
        self.queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Finish everything queued, then stop."""
        await self.queue.put(None)
        if self.task:
            await self.task

    async def tag(self, texts: list[str], actors: list | None) -> list:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(_Pending(texts, actors, future))
        return await future

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self.queue.get()
            if first is None:
                break
            batch, size = [first], len(first.texts)
            deadline = time.monotonic() + self.wait
            while size < self.max_batch:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), timeout)
                except asyncio.TimeoutError:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                size += len(item.texts)
            await self._run(batch)
        while not self.queue.empty():  # drain anything that raced the stop signal
            item = self.queue.get_nowait()
            if item is not None:
                await self._run([item])

    async def _run(self, batch: list[_Pending]) -> None:
        texts = [t for p in batch for t in p.texts]
        actors = None
        if any(p.actors is not None for p in batch):
            actors = [a for p in batch for a in (p.actors if p.actors is not None else [None] * len(p.texts))]
        self.metrics.batch_size.observe(len(texts))
        try:
            results = await asyncio.to_thread(self.tagger.tag, texts, actors)
        except Exception as err:  # noqa: BLE001 - the error goes back to the requests that caused it
            if len(batch) > 1:  # isolate the failing request; the others still get answers
                for item in batch:
                    await self._run([item])
                return
            if not batch[0].future.done():
                batch[0].future.set_exception(err)
            return
        start = 0
        for item in batch:
            if not item.future.done():
                item.future.set_result(results[start : start + len(item.texts)])
            start += len(item.texts)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def create_app(model_dir: str, limits: Limits | None = None, max_batch: int = 64, batch_wait_ms: float = 5.0,
               variant: str = "int8", threads: int | None = None) -> FastAPI:
    """The FastAPI application; the model loads at start-up (``/readyz`` turns 200 once loaded)."""
    limits = limits or Limits()
    metrics = _Metrics()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["tagger"] = await asyncio.to_thread(Tagger.load, model_dir, variant, threads)
        state["batcher"] = MicroBatcher(state["tagger"], metrics, max_batch=max_batch, wait_ms=batch_wait_ms)
        state["batcher"].start()
        logger.info("serving %s", model_dir)
        yield
        await state["batcher"].stop()

    app = FastAPI(title="EventLens", version="1", lifespan=lifespan,
                  description="Event types and actor attitudes in multilingual news sentences.")

    @app.middleware("http")
    async def observe(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        endpoint = request.scope.get("route").path if request.scope.get("route") else "unmatched"
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
        return response

    def check_size(count: int, chars: int) -> JSONResponse | None:
        if count > limits.max_sentences:
            return _error(413, f"{count} texts in one request; the limit is {limits.max_sentences}")
        if chars > limits.max_chars:
            return _error(413, f"{chars} characters in one request; the limit is {limits.max_chars}")
        return None

    @app.post("/v1/tag", summary="Tag sentences")
    async def tag(body: TagRequest):
        too_big = check_size(len(body.texts), sum(len(t) for t in body.texts))
        if too_big:
            return too_big
        actors = None
        if body.actors is not None:
            if len(body.actors) != len(body.texts):
                return _error(422, f"actors: {len(body.actors)} lists for {len(body.texts)} texts")
            actors = [None if a is None else [x if isinstance(x, str) else (x.start, x.end) for x in a] for a in body.actors]
        try:
            results = await state["batcher"].tag(body.texts, actors)
        except InputError as err:
            return _error(422, str(err))
        return {"results": [r.to_dict() for r in results]}

    @app.post("/v1/tag-document", summary="Split a document into sentences and tag each")
    async def tag_document(body: DocumentRequest):
        too_big = check_size(1, len(body.text))
        if too_big:
            return too_big
        result = await asyncio.to_thread(state["tagger"].tag_document, body.text)
        if len(result.sentences) > limits.max_sentences:
            return _error(413, f"{len(result.sentences)} sentences in the document; the limit is {limits.max_sentences}")
        return result.to_dict()

    @app.get("/v1/labels", summary="The model's labels")
    async def labels():
        return state["tagger"].labels if "tagger" in state else _error(503, "model not loaded yet")

    @app.get("/healthz", summary="Liveness")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the model is loaded")
    async def readyz():
        return {"status": "ready"} if "batcher" in state else _error(503, "model not loaded yet")

    @app.get("/metrics", summary="Prometheus metrics")
    async def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and multi-worker serving; settings from ``EVENTLENS_*`` variables."""
    env = os.environ
    return create_app(
        env[MODEL_DIR_ENV],
        limits=Limits(max_sentences=int(env.get("EVENTLENS_MAX_SENTENCES", 128)), max_chars=int(env.get("EVENTLENS_MAX_CHARS", 100_000))),
        max_batch=int(env.get("EVENTLENS_MAX_BATCH", 64)),
        batch_wait_ms=float(env.get("EVENTLENS_BATCH_WAIT_MS", 5)),
        variant=env.get("EVENTLENS_VARIANT", "int8"),
        threads=int(env["EVENTLENS_THREADS"]) if env.get("EVENTLENS_THREADS") else None,
    )


def serve(model_dir: str, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, limits: Limits | None = None,
          max_batch: int = 64, batch_wait_ms: float = 5.0, variant: str = "int8", graceful_timeout: float = 30.0) -> None:
    """Run the service with uvicorn (blocking). Each worker process loads its own model."""
    import uvicorn

    limits = limits or Limits()
    os.environ.update({
        MODEL_DIR_ENV: str(model_dir), "EVENTLENS_MAX_SENTENCES": str(limits.max_sentences),
        "EVENTLENS_MAX_CHARS": str(limits.max_chars), "EVENTLENS_MAX_BATCH": str(max_batch),
        "EVENTLENS_BATCH_WAIT_MS": str(batch_wait_ms), "EVENTLENS_VARIANT": variant,
    })
    uvicorn.run("eventlens.inference.server:app_from_env", factory=True, host=host, port=port, workers=workers,
                timeout_graceful_shutdown=graceful_timeout, log_level="info")
