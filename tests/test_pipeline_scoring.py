"""``pipelines.scoring.ScoreTweets`` on the DirectRunner with the committed model: the serving library's scores
and message fields, every refused tweet tagged with its reason and origin, windowing kept, one model per process."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from apache_beam.utils.shared import Shared

from pipelines import scoring
from pipelines.scoring import REJECTED, Located, ScoreTweets
from sentiment import model as models
from sentiment.config import DEFAULT_MODEL_STORE
from sentiment.errors import BundleError

pytestmark = pytest.mark.slow

TWEETS = [
    {"id": "1", "text": "the crew lost my bag and nobody helps", "brand": "AirParadis",
     "created_at": "2026-01-02T03:04:05Z", "user": {"screen_name": "a"}, "lang": "en", "ignored": "not passed on"},
    {"id": 2, "text": "best flight ever, thank you :)"},
    {"text": "delayed again"},
    {"id": "4", "text": "on time, friendly staff, great food " * 8},
]


@pytest.fixture(scope="module")
def model():
    return models.load(DEFAULT_MODEL_STORE)


def expected_fields(model, tweet: dict) -> dict:
    """What the serving library answers for this tweet on its own (its prediction fields, whatever they are)."""
    (prediction,) = model.predict([tweet["text"]])
    fields = {"id": None if tweet.get("id") is None else str(tweet["id"]), "text": tweet["text"],
              **prediction.to_dict(), "source_message_id": None}
    fields |= {key: tweet[key] for key in ("created_at", "brand", "user", "lang") if key in tweet}
    return fields


def without_time(message: dict) -> dict:
    assert message["scored_at"].endswith("Z")
    return {key: value for key, value in message.items() if key != "scored_at"}


def test_scores_are_the_serving_librarys_with_the_tweets_scored_fields(model):
    with BeamTestPipeline() as pipeline:
        result = pipeline | beam.Create(TWEETS) | ScoreTweets()
        assert_that(result.scored | beam.Map(without_time),
                    equal_to([expected_fields(model, tweet) for tweet in TWEETS]), label="scored")
        assert_that(result[REJECTED], equal_to([]), label="none rejected")


REFUSED = [
    ({"text": ""}, "empty_text"),
    ({"text": "   "}, "empty_text"),
    ({"text": "... ,,, --"}, "empty_text"),
    ({"id": "9", "text": "x" * 5000}, "too_large"),
    ({"text": "caf\udce9 au lait"}, "bad_encoding"),  # an undecodable byte read with surrogateescape
    ({"text": "lone \ud800 surrogate"}, "bad_encoding"),
    ({"text": 42}, "bad_field"),
    ({"text": None}, "bad_field"),
    ({"tweet": "no text key"}, "bad_field"),
    ({"id": {"nested": 1}, "text": "good flight"}, "bad_field"),
    ({"id": True, "text": "good flight"}, "bad_field"),
    ({"id": "x" * 200, "text": "good flight"}, "bad_field"),
    ("a bare string", "bad_field"),
    ([1, 2], "bad_field"),
]


def test_every_refused_tweet_is_tagged_with_its_reason_and_origin(model):
    inputs = [Located("archive.jsonl", line, record) for line, (record, _) in enumerate(REFUSED, start=1)]
    inputs.append(Located("archive.jsonl", len(REFUSED) + 1, {"text": "good flight"}))

    def check(rejected):
        assert sorted((r["line"], r["reason"]) for r in rejected) == [
            (line, reason) for line, (_, reason) in enumerate(REFUSED, start=1)]
        for r in rejected:
            assert set(r) == {"reason", "error", "source", "line", "row"} and r["source"] == "archive.jsonl"
            assert r["error"] and isinstance(r["error"], str)
        too_long = next(r for r in rejected if r["reason"] == "too_large")
        assert too_long["row"]["id"] == "9" and len(too_long["row"]["text"]) < 1100  # bounded, not copied
        undecodable = next(r for r in rejected if r["row"] == {"text": "caf\ufffd au lait"})
        assert undecodable["reason"] == "bad_encoding"  # kept as JSON can write it

    with BeamTestPipeline() as pipeline:
        result = pipeline | beam.Create(inputs) | ScoreTweets()
        assert_that(result[REJECTED], check, label="rejected")
        assert_that(result.scored | beam.Map(lambda m: m["text"]), equal_to(["good flight"]), label="scored")


def test_score_does_not_depend_on_the_bundle_and_buffer_flushes_keep_every_tweet(model, monkeypatch):
    monkeypatch.setattr(scoring, "MAX_BUFFERED", 7)  # several flushes inside a bundle
    texts = [f"{'so ' * (i % 13)}bad delay number {i}" for i in range(50)]
    alone = {text: model.predict([text])[0].to_dict() for text in texts}
    with BeamTestPipeline() as pipeline:
        scored = (pipeline | beam.Create([{"text": t} for t in texts]) | ScoreTweets()).scored
        assert_that(scored | beam.Map(lambda m: (m["text"], {k: m[k] for k in alone[m["text"]]})),
                    equal_to(list(alone.items())))


def test_timestamps_and_windows_are_kept():
    day = 1_767_225_600  # 2026-01-01T00:00:00Z
    stamped = [TimestampedValue({"id": str(i), "text": f"flight {i} was late"}, day + 600 * i) for i in range(12)]
    with BeamTestPipeline() as pipeline:
        per_window = (pipeline | beam.Create(stamped) | beam.WindowInto(FixedWindows(3600)) | ScoreTweets()).scored \
            | beam.Map(lambda m, t=beam.DoFn.TimestampParam: (m["id"], int(t.micros // 1_000_000))) \
            | beam.combiners.Count.Globally().without_defaults()
        assert_that(per_window, equal_to([6, 6]), label="two hourly windows of six")
        times = (pipeline | "again" >> beam.Create(stamped) | "score again" >> ScoreTweets()).scored \
            | beam.Map(lambda m, t=beam.DoFn.TimestampParam: (m["id"], int(t.micros // 1_000_000)))
        assert_that(times, equal_to([(str(i), day + 600 * i) for i in range(12)]), label="own timestamps")


def test_one_model_per_process_shared_by_the_dofns_of_every_thread():
    shared = Shared()
    first, second = (scoring._ScoreBundles(None, 4000, shared) for _ in range(2))
    first.setup()
    second.setup()
    assert first._scorer._models() is second._scorer._models()
    other = scoring._ScoreBundles(None, 4000, Shared())  # another transform: its own handle
    other.setup()
    assert other._scorer._models() is not first._scorer._models()


def test_a_model_that_cannot_load_fails_the_pipeline_with_no_score(tmp_path):
    with pytest.raises(Exception, match="manifest|bundle|model") as raised, BeamTestPipeline() as pipeline:
        _ = pipeline | beam.Create([{"text": "good flight"}]) | ScoreTweets(model=str(tmp_path))
    assert isinstance(raised.value, BundleError) or "BundleError" in str(raised.value)
