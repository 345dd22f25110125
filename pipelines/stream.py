"""``python -m pipelines stream``: bad-buzz detection over the scored-tweet stream, alerts to the alert topic.

    python -m pipelines stream --subscription projects/P/subscriptions/S --alert-topic projects/P/topics/T
        [--brand-field brand] [detection options] [Beam pipeline options: --runner DataflowRunner ...]

Event time: the ``created_at`` attribute the scoring function sets from the tweet (Beam's
``timestamp_attribute``; Pub/Sub's publish time for tweets without one), so on Dataflow the watermark
follows the tweets' own times and a backlog or a replay is not compressed into minutes. Duplicates:
on Dataflow the source deduplicates on the ``source_message_id`` attribute (a redelivered tweet
scored twice counts once); the DirectRunner cannot, and a duplicate then counts twice in its bucket.

Alerts go out as JSON with the attributes ``type``, ``brand`` and ``alert_id``
(``sentiment.alert_payload``), one ``bad_buzz`` and one ``resolved`` per buzz and brand whatever the
number of scoring instances: the only state is here, per brand. Allowed lateness: see
``--allowed-lateness-minutes`` (docs/bad_buzz.md). On Dataflow, update the job with a drain (its state,
the brands' histories, is then rebuilt from the next two days of tweets) or ``--update`` (kept).
Every option is also accepted with underscores (``--alert_topic``), as Flex Templates pass them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import settings as detection_settings

log = logging.getLogger(__name__)
DEDUPE_ATTRIBUTE = "source_message_id"  # set by the scoring function on every scored tweet
RUNNING = "pipeline running"  # logged once the pipeline runs (the local stack waits for it)


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m pipelines stream", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscription", required=True, help="projects/P/subscriptions/S on tweets-scored")
    parser.add_argument("--alert-topic", "--alert_topic", dest="alert_topic", required=True,
                        help="projects/P/topics/T receiving the alerts")
    parser.add_argument("--brand-field", "--brand_field", dest="brand_field", default="brand",
                        help="the scored tweet's field naming its brand (default brand; one key when absent)")
    parser.add_argument("--no-wait", "--no_wait", dest="no_wait", action="store_true",
                        help="on Dataflow: submit the job and return (what a Flex Template launcher needs)")
    detection_settings.add_arguments(parser)
    return parser.parse_known_args(argv)


def to_message(payload: dict):
    from apache_beam.io.gcp.pubsub import PubsubMessage

    from sentiment import alert_payload

    from .alerts import encode

    return PubsubMessage(encode(payload), alert_payload.attributes(payload))


def log_rejected(item: dict) -> None:
    log.warning("scored tweet not counted (%s): %s", item["reason"], item["error"], extra={"rejected": item})


def log_late(item: dict) -> None:
    where = "counted in its bucket's baseline" if item["in_baseline"] else "older than the brand's history"
    log.info("late tweet %s of %s: %s", item["id"], item["brand"], where)


def log_alert(payload: dict) -> dict:
    summary = {key: payload.get(key) for key in ("type", "brand", "alert_id", "detected_at", "test", "score",
                                                  "negative_share", "baseline_share", "tweets")}
    log.warning("alert %s", json.dumps(summary))
    return payload


def build(pipeline, arguments: argparse.Namespace, settings, direct: bool):
    import apache_beam as beam

    from sentiment.event_time import ATTRIBUTE

    from .detect import LATE, REJECTED, DetectBadBuzz, ParseScored

    messages = pipeline | "Read" >> beam.io.ReadFromPubSub(
        subscription=arguments.subscription, timestamp_attribute=ATTRIBUTE,
        id_label=None if direct else DEDUPE_ATTRIBUTE)
    parsed = messages | "Parse" >> beam.ParDo(ParseScored(arguments.brand_field, element_time=True)).with_outputs(
        REJECTED, main="tweets")
    detected = parsed.tweets | "Detect" >> DetectBadBuzz(settings, streaming=True)
    (detected.alerts | "Log" >> beam.Map(log_alert) | "ToMessages" >> beam.Map(to_message)
     | "Publish" >> beam.io.WriteToPubSub(arguments.alert_topic, with_attributes=True))
    parsed[REJECTED] | "LogRejected" >> beam.Map(log_rejected)
    detected[LATE] | "LogLate" >> beam.Map(log_late)
    return detected


def main(argv: list[str] | None = None) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    arguments, beam_args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        settings = detection_settings.from_arguments(arguments)
    except ValueError as error:
        print(f"stream: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = PipelineOptions(beam_args)
    options.view_as(StandardOptions).streaming = True
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    direct = "Direct" in str(runner)
    log.info("bad-buzz detection: %s -> %s on %s, %s", arguments.subscription, arguments.alert_topic, runner,
             settings)
    pipeline = beam.Pipeline(options=options)
    build(pipeline, arguments, settings, direct)
    result = pipeline.run()
    log.info("%s: reading %s", RUNNING, arguments.subscription)
    if arguments.no_wait and not direct:  # a streaming job runs on until drained: the launcher returns now
        log.info("submitted job %s", getattr(result, "job_id", lambda: "?")())
        return 0
    result.wait_until_finish()
    return 0
