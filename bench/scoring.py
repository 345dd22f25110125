"""Scoring core: per-tweet latency and throughput of the bundle through ``sentiment.model``, side by side with
the Keras float model (eager and ``tf.function``), VADER and the TF-IDF baseline, on the same tweets.

Every engine scores one tweet per call on one thread (this process is pinned to one core; the Keras
worker too). "Per tweet" means text in, probability out: tokenizing is included for every engine.
The compute floor is the BiLSTM's multiply-adds for the tweet's tokens over this core's measured
float32 multiply-add rate (a single-threaded 1024×1024 matrix product through numpy's BLAS).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench import common


def time_calls(call, items, warmup: int = 50) -> list[float]:
    for item in items[:warmup]:
        call(item)
    durations = []
    for item in items:
        started = time.perf_counter()
        call(item)
        durations.append(time.perf_counter() - started)
    return durations


def throughput(call, items) -> float:
    """Items per second of one thread calling back to back (no per-item timer)."""
    started = time.perf_counter()
    for item in items:
        call(item)
    return len(items) / (time.perf_counter() - started)


def engine(durations: list[float], tps: float, **extra) -> dict:
    return {**common.summary_ms(durations), "tps": tps, **extra}


def ours(store: Path, texts: list[str]) -> tuple[dict, list[float], list[list[int]]]:
    from sentiment import model as models

    model = models.load(str(store))
    ids = [model.encode(text) for text in texts]

    def score(text: str):
        return model.predict_ids(model.encode(text))

    durations = time_calls(score, texts, warmup=200)
    invoke_only = time_calls(model.probabilities_of_ids, ids, warmup=200)
    result = engine(durations, throughput(score, texts), version=model.version,
                    invoke_p50_ms=common.percentile(invoke_only, 50) * 1e3)
    return result, durations, ids


def vader(texts: list[str]) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return engine(time_calls(analyzer.polarity_scores, texts), throughput(analyzer.polarity_scores, texts))


def tfidf(texts: list[str]) -> dict:
    """The run's TF-IDF + logistic regression when on disk, else one fitted here (latency only)."""
    pipeline, origin = _baseline(texts)

    def score(text: str):
        return pipeline.predict_proba([text])[0, 1]

    durations = time_calls(score, texts)
    started = time.perf_counter()
    pipeline.predict_proba(texts)
    batched = len(texts) / (time.perf_counter() - started)
    return engine(durations, throughput(score, texts), batched_tps=batched, origin=origin)


def _baseline(texts: list[str]):
    import joblib

    runs = sorted(common.RUNS.glob("*/baseline.joblib"), key=lambda p: p.stat().st_mtime)
    if runs:
        return joblib.load(runs[-1]), f"trained baseline {runs[-1].relative_to(common.REPO)}"
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from converter.baseline import vectorizer

    analyzer = SentimentIntensityAnalyzer()  # labels only to have two classes: the timing is what matters
    labels = [int(analyzer.polarity_scores(t)["compound"] >= 0) for t in texts]
    model = Pipeline([("tfidf", vectorizer()), ("logreg", LogisticRegression(max_iter=2_000))])
    return model.fit(texts, labels), "fitted on the sample (no trained baseline on disk)"


def keras(store: Path, ids: list[list[int]], eager_count: int, function_count: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(ids, handle)
    try:
        return common.run_json(["-m", "bench.keras_worker", "time", "--store", str(store), "--ids", handle.name,
                                "--eager", str(eager_count), "--function", str(function_count)], timeout=1800)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def macs_per_tweet(network: dict, tokens: int) -> int:
    """Multiply-adds of one tweet: both LSTM directions per token (4 gates over input and state), the head."""
    units, dim, dense = network["lstm_units"], network["embedding_dim"], network["dense_units"]
    per_token = 2 * 4 * (dim + units) * units
    return per_token * tokens + 2 * units * dense + dense


def core_macs_per_second() -> dict:
    """This core's float32 multiply-add rate: the best of a few single-threaded 1024² products (numpy BLAS)."""
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    size = 1024
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    b = np.random.default_rng(1).random((size, size), dtype=np.float32)
    with threadpool_limits(1):
        a @ b
        best = min(_timed(lambda: a @ b) for _ in range(8))
    blas = next((f"{i['internal_api']} {i.get('version', '')} ({i.get('architecture', '?')})"
                 for i in threadpool_info() if i.get("user_api") == "blas"), "numpy BLAS")
    return {"macs_per_second": size**3 / best, "method": f"float32 {size}x{size} matmul, 1 thread, {blas}"}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def floor(network: dict, ids: list[list[int]], rate: dict) -> dict:
    per_tweet = [macs_per_tweet(network, len(sequence)) / rate["macs_per_second"] for sequence in ids]
    tokens = sorted(len(sequence) for sequence in ids)
    return {**common.summary_ms(per_tweet), "macs_per_token": macs_per_tweet(network, 1) - macs_per_tweet(network, 0),
            "median_tokens": tokens[len(tokens) // 2], "mean_tokens": sum(tokens) / len(tokens),
            "gmacs": rate["macs_per_second"] / 1e9, "method": rate["method"]}


def run(store: Path, texts: list[str], quick: bool) -> dict:
    network = common.manifest(store)["training"]["network"]
    with common.pinned(common.server_core()):
        result, durations, ids = ours(store, texts)
        rate = core_macs_per_second()
        others = {"vader": vader(texts), "tfidf": tfidf(texts)}
    eager_count, function_count = (20, 100) if quick else (300, len(ids))
    return {"n": len(texts), "ours": result, "ours_seconds": durations, "floor": floor(network, ids, rate),
            "keras": keras(store, ids, eager_count, function_count), **others}


def scorable(store: Path, texts: list[str]) -> list[str]:
    """The texts the model can score (a text with no word, emoji or emoticon is rejected, not scored)."""
    from sentiment.bundle import fetch

    vocabulary = fetch(store).manifest.vocab
    return [text for text in texts if vocabulary.encode(text)]
