"""Event time in the streaming detection, with Beam's TestStream: buckets close on the watermark plus the
allowed lateness, out-of-order tweets are counted in their bucket, late ones never change a decision,
an alert whose brand falls silent still resolves, and the data clock replays days of history at once."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream as EventStream
from apache_beam.transforms.window import TimestampedValue

from pipelines.detect import BUCKETS, LATE, DetectBadBuzz
from pipelines.events import parse_scored
from pipelines.settings import DetectionSettings
from sentiment.event_time import rfc3339
from tests.buzz_streams import HOUR, START, brand_stream, ramp

SMALL = DetectionSettings(windows_hours=(1.0,), baseline_hours=4.0, min_baseline_hours=2.0, min_baseline_tweets=20,
                          min_window_tweets=10, cooldown_hours=1.0, allowed_lateness_minutes=15.0)
FOUND: dict[str, list] = {}


def _keep(item, name: str) -> None:  # module level: the runner pickles it by reference
    FOUND[name].append(item)


def tweet(minutes: float, negative: bool = False, brand: str = "air") -> TimestampedValue:
    row = {"id": f"t{minutes}", "text": "lost my bag" if negative else "nice flight", "brand": brand,
           "created_at": rfc3339(START + minutes * 60), "sentiment": "negative" if negative else "positive",
           "probability_positive": 0.1 if negative else 0.9, "model_version": "v1"}
    parsed = parse_scored(row)
    return TimestampedValue(parsed, parsed.time)


def run_stream(stream: EventStream, settings: DetectionSettings):
    FOUND.update(alerts=[], reports=[], late=[])
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    pipeline = beam.Pipeline(options=options)
    detected = pipeline | stream | DetectBadBuzz(settings, streaming=True)
    detected.alerts | "KeepAlerts" >> beam.Map(_keep, "alerts")
    detected[BUCKETS] | "KeepReports" >> beam.Map(_keep, "reports")
    detected[LATE] | "KeepLate" >> beam.Map(_keep, "late")
    pipeline.run().wait_until_finish()
    return FOUND["alerts"], sorted(FOUND["reports"], key=lambda r: r.start), FOUND["late"]


def test_a_bucket_waits_for_the_watermark_plus_the_allowed_lateness():
    stream = (EventStream()
              .advance_watermark_to(START)
              .add_elements([tweet(20), tweet(5, negative=True)])  # out of order within the bucket
              .advance_watermark_to(START + 40 * 60)  # past the bucket's end, within its 15 min of lateness
              .add_elements([tweet(25, negative=True)])  # behind the watermark, still in time
              .advance_watermark_to(START + 50 * 60)  # the bucket is decided now
              .add_elements([tweet(10, negative=True)])  # too late for the decision
              .add_elements([tweet(35)])  # the next bucket
              .advance_watermark_to_infinity())
    _, reports, late = run_stream(stream, SMALL)
    assert [(r.start - START, r.tweets, r.negative) for r in reports] == [(0, 3, 2), (1800, 1, 0)]
    assert late == [{"brand": "air", "id": "t10", "bucket_start": START, "in_baseline": True}]


def history(rate: int, hours: int, negative_every: int) -> list[TimestampedValue]:
    step = 60 / rate
    return [tweet(hour * 60 + i * step + 0.5, negative=i % negative_every == 0)
            for hour in range(hours) for i in range(rate)]


def test_an_alert_resolves_when_its_brand_falls_silent():
    calm = history(40, 4, 5)  # 4 h at 20 % negative
    buzz = [tweet(240 + i * 1.5, negative=i % 10 != 0) for i in range(40)]  # one hour at 90 %
    stream = EventStream().advance_watermark_to(START)
    for hour in range(4):
        stream = stream.add_elements(calm[hour * 40:(hour + 1) * 40]).advance_watermark_to(START + (hour + 1) * HOUR)
    stream = stream.add_elements(buzz).advance_watermark_to(START + 5 * HOUR + 20 * 60).advance_watermark_to_infinity()
    alerts, reports, _ = run_stream(stream, SMALL)
    assert [a["type"] for a in alerts] == ["bad_buzz", "resolved"]
    assert alerts[0]["alert_id"] == alerts[1]["alert_id"]
    resolved_at = alerts[1]["detected_at"]
    assert rfc3339(START + 5 * HOUR) < resolved_at <= rfc3339(START + 7 * HOUR)  # empty buckets closed it
    assert reports[-1].tweets == 0


def test_the_data_clock_replays_days_of_history_published_at_once():
    rows = brand_stream("climb", 84, lambda h: 50, ramp(0.40, 0.70, 60, 2, 70), seed=8,
                        buzz=lambda h: 60 <= h < 70)
    rows.sort(key=lambda row: row["created_at"])
    tweets = [parse_scored(row) for row in rows]
    # the DirectRunner's Pub/Sub watermark is the wall clock: already past every event time
    stream = (EventStream().advance_watermark_to(START + 30 * 24 * HOUR)
              .add_elements([TimestampedValue(t, t.time) for t in tweets]).advance_watermark_to_infinity())
    alerts, reports, late = run_stream(stream, DetectionSettings(event_clock="data"))
    assert [a["type"] for a in alerts] == ["bad_buzz", "resolved"]
    assert rfc3339(START + 60 * HOUR) < alerts[0]["detected_at"] <= rfc3339(START + 64 * HOUR)
    assert late == []
    assert sum(r.tweets for r in reports) < len(tweets)  # the last buckets wait for later tweets
