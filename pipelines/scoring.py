"""``ScoreTweets``: tweets in, ``tweets-scored`` messages out, every tweet that cannot be scored kept with its reason.

Used by bulk scoring (``python -m pipelines score``) and by the backtest for tweets that carry no score.

- Input: dicts with at least ``text`` (``id``, ``created_at``, ``brand``, ``user``, ``lang`` are passed
  through, as the Pub/Sub function does), or ``Located`` records (a dict with the file and line it came
  from, so that a rejection names them).
- Main output: the ``tweets-scored`` message of each tweet, built by the serving library
  (``payloads.tweet_of`` checks a tweet as the functions check it, ``payloads.scored_message`` builds the
  message), so the fields follow the model's outputs without being written twice.
- ``rejected``: ``{"reason", "error", "source", "line", "row"}`` for every tweet refused (nothing dropped).

The model is loaded once per worker process (``apache_beam.utils.shared.Shared``) and shared by the
process's threads (``SentimentModel`` guards its interpreter with a lock). Tweets are buffered for a bundle
(at most ``MAX_BUFFERED``) and scored in length order by ``scoring.Scorer``, each still at its own length, so
a tweet's score does not depend on its neighbours. Each output keeps its input's timestamp and window.
A model that cannot be loaded fails the bundle (the runner retries it): never a score made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared
from apache_beam.utils.windowed_value import WindowedValue

from sentiment import payloads
from sentiment.errors import Rejected
from sentiment.rows import MAX_RAW_CHARS, printable
from sentiment.text import MAX_CHARS

REJECTED = "rejected"
NAMESPACE = "sentiment"  # the Beam metrics namespace of scoring outcomes
SCORED = "scored"
SOURCE = "pipeline"  # the scorer's source label
MAX_BUFFERED = 2_000  # tweets held for length-ordered scoring before a flush (memory stays bounded)


@dataclass(frozen=True)
class Located:
    """A record with where it came from: ``source`` (a file name) and its 1-based ``line``."""

    source: str | None
    line: int | None
    record: Any


def rejection(reason: str, error: str, source: str | None, line: int | None, row: Any) -> dict[str, Any]:
    """A ``rejected`` element. ``row`` is kept as JSON can hold it: undecodable bytes as U+FFFD, long strings
    cut to ``MAX_RAW_CHARS`` (a 50 MB line is reported, not copied)."""
    return {"reason": reason, "error": error, "source": source, "line": line, "row": _bounded(row)}


def count_rejected(reason: str) -> None:
    Metrics.counter(NAMESPACE, f"rejected_{reason}").inc()


def _bounded(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        value = printable(value)
        return value if len(value) <= MAX_RAW_CHARS else value[:MAX_RAW_CHARS] + "…"
    if isinstance(value, dict) and depth < 8:
        return {str(_bounded(k, depth + 1)): _bounded(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list) and depth < 8:
        return [_bounded(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _bounded(repr(value), depth)


class _ScoreBundles(beam.DoFn):
    def __init__(self, model: str | None, max_chars: int, shared: Shared):
        self._model_source = model
        self._max_chars = max_chars
        self._shared = shared

    def _load(self):
        from sentiment import model as models
        from sentiment.config import DEFAULT_MODEL_STORE

        return models.load(self._model_source or DEFAULT_MODEL_STORE)

    def setup(self) -> None:
        from sentiment.scoring import Scorer

        model = self._shared.acquire(self._load)  # once per process, whichever thread comes first
        self._scorer = Scorer(lambda: model)
        self._scored = Metrics.counter(NAMESPACE, SCORED)

    def start_bundle(self) -> None:
        self._pending: list[tuple[payloads.Tweet, WindowedValue]] = []

    def process(self, element, windowed=beam.DoFn.WindowedValueParam):
        located = element if isinstance(element, Located) else Located(None, None, element)
        try:
            if not isinstance(located.record, dict):
                raise Rejected(400, "bad_field", f"the tweet must be an object, not "
                                                 f"{payloads.json_type(located.record)}")
            tweet = payloads.tweet_of(located.record, self._max_chars)
        except Rejected as rejected:
            count_rejected(rejected.reason)
            yield beam.pvalue.TaggedOutput(REJECTED, rejection(rejected.reason, rejected.message, located.source,
                                                               located.line, located.record))
            return
        self._pending.append((tweet, windowed))
        # Outputs carry their own windowing; the runner would multiply it by a multi-window input's.
        if len(self._pending) >= MAX_BUFFERED and len(windowed.windows) == 1:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self):
        pending, self._pending = self._pending, []
        if not pending:
            return
        predictions = self._scorer.score([tweet.checked for tweet, _ in pending], SOURCE)
        scored_at = datetime.now(UTC)
        for (tweet, windowed), prediction in zip(pending, predictions, strict=True):
            yield windowed.with_value(payloads.scored_message(tweet, prediction, scored_at, None))
        self._scored.inc(len(pending))


class ScoreTweets(beam.PTransform):
    """Score tweets with the serving bundle ``model`` (a directory or ``gs://`` store, LATEST followed; default
    the committed one). Returns a tagged result: the main output and ``rejected``."""

    def __init__(self, model: str | None = None, max_chars: int = MAX_CHARS):
        super().__init__()
        self._model = model
        self._max_chars = max_chars

    def expand(self, tweets):
        return tweets | "Score" >> beam.ParDo(_ScoreBundles(self._model, self._max_chars, Shared())).with_outputs(
            REJECTED, main="scored")
