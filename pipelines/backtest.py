"""``python -m pipelines backtest``: what the bad-buzz detection would have sent over a file of tweets.

    python -m pipelines backtest --input tweets.jsonl --output alerts.jsonl [--plot share.png]
        [--model M] [--brand-field brand] [--rejected rejected.jsonl] [detection options]

Input: JSON lines ``{"id", "text", "created_at", "brand"}`` (RFC 3339 times); a line that already
carries a model's answer (``sentiment`` and ``probabilities`` or ``probability_positive``, as on
the ``tweets-scored`` topic) is taken as scored, any other is scored with the bundle (``--model``,
default the committed one). The same transforms as the stream run on the DirectRunner, in batch:
every bucket of every brand is decided in event-time order. Output: the alerts, one JSON object a
line in the order they would have been sent; a summary per brand on stderr; ``--plot`` draws the
negative share of each brand over time with its baseline and the alerts.

Exit status: 0 when the run completed (alerts or not), 2 on bad arguments or an unreadable input.
Lines that cannot be read are counted by reason on stderr (and written to ``--rejected``), never
silently dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from . import settings as detection_settings

SUMMARY_REPORTS = "reports.pickle"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="JSON lines of tweets (a local path)")
    parser.add_argument("--output", required=True, help="where the alerts go, as JSON lines ('-': stdout)")
    parser.add_argument("--plot", help="a PNG of each brand's negative share, baseline and alerts")
    parser.add_argument("--model", help="bundle directory or gs://bucket/prefix for tweets without a score "
                                        "(default: the committed model)")
    parser.add_argument("--brand-field", "--brand_field", dest="brand_field", default="brand",
                        help="the field naming a tweet's brand (default brand; one key when absent)")
    parser.add_argument("--rejected", help="where lines that cannot be used go, as JSON lines")
    detection_settings.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        settings = detection_settings.from_arguments(arguments)
    except ValueError as error:
        print(f"backtest: {error}", file=sys.stderr)
        return 2
    source = Path(arguments.input)
    if not source.is_file():
        print(f"backtest: no such file: {arguments.input}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = run(source, settings, brand_field=arguments.brand_field, model=arguments.model)
    seconds = time.perf_counter() - started
    write_lines(arguments.output, result.alerts)
    if arguments.rejected:
        write_lines(arguments.rejected, result.rejected)
    print(summary(result, settings, seconds), file=sys.stderr)
    if arguments.plot:
        from .plot import plot_backtest

        plot_backtest(result, settings, Path(arguments.plot))
        print(f"plot written to {arguments.plot}", file=sys.stderr)
    return 0


class Result:
    def __init__(self, alerts: list[dict], reports: list, rejected: list[dict], counters: dict[str, int]):
        self.alerts, self.reports, self.rejected, self.counters = alerts, reports, rejected, counters


def run(source: Path, settings, *, brand_field: str = "brand", model: str | None = None,
        pipeline_args: list[str] | None = None) -> Result:
    """The detection over a file, on the DirectRunner; everything it produced, in memory."""
    import apache_beam as beam
    from apache_beam.coders import BytesCoder
    from apache_beam.options.pipeline_options import PipelineOptions

    from .backtest_input import DecodeLine, needs_scoring, score_unscored
    from .detect import BUCKETS, NAMESPACE, REJECTED, DetectBadBuzz, ParseScored

    with tempfile.TemporaryDirectory(prefix="backtest-") as scratch:
        out = Path(scratch)
        options = PipelineOptions(pipeline_args or [], runner="DirectRunner")
        with beam.Pipeline(options=options) as pipeline:
            rows = (pipeline
                    | "Read" >> beam.io.ReadFromText(str(source), coder=BytesCoder())
                    | "Decode" >> beam.ParDo(DecodeLine()).with_outputs(REJECTED, main="rows"))
            split = rows.rows | "Scored?" >> beam.Partition(lambda row, _: int(needs_scoring(row)), 2)
            scored, scoring_rejected = score_unscored(split[1], model)
            parsed = ((split[0], scored) | "Together" >> beam.Flatten()
                      | "Parse" >> beam.ParDo(ParseScored(brand_field)).with_outputs(REJECTED, main="tweets"))
            detected = parsed.tweets | "Detect" >> DetectBadBuzz(settings, streaming=False)
            rejected = ((rows[REJECTED], scoring_rejected, parsed[REJECTED]) | "Rejected" >> beam.Flatten())
            _collect(detected.alerts, out / "alerts.pickle")
            _collect(detected[BUCKETS], out / SUMMARY_REPORTS)
            _collect(rejected, out / "rejected.pickle")
        counters = {}
        for counter in pipeline.result.metrics().query()["counters"]:
            if counter.key.metric.namespace == NAMESPACE:
                counters[counter.key.metric.name] = counters.get(counter.key.metric.name, 0) + counter.committed
        alerts, reports, rejected = (_read(out / name) for name in ("alerts.pickle", SUMMARY_REPORTS,
                                                                     "rejected.pickle"))
    alerts.sort(key=lambda a: (a["detected_at"], a["brand"], a["type"] != "bad_buzz"))
    reports.sort(key=lambda r: (r.brand, r.start))
    return Result(alerts, reports, rejected, counters)


def _collect(pcollection, path: Path) -> None:
    import pickle

    import apache_beam as beam

    def write(items):
        path.write_bytes(pickle.dumps(list(items)))

    pcollection | f"Collect{path.stem.title()}" >> beam.combiners.ToList() | f"Write{path.stem.title()}" >> \
        beam.Map(write)


def _read(path: Path) -> list:
    import pickle

    return pickle.loads(path.read_bytes()) if path.exists() else []


def write_lines(target: str, items: list[dict]) -> None:
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")


def summary(result: Result, settings, seconds: float) -> str:
    per_brand: dict[str, dict] = defaultdict(lambda: {"tweets": 0, "negative": 0, "baselines": [], "alerts": []})
    for report in result.reports:
        brand = per_brand[report.brand]
        brand["tweets"] += report.tweets
        brand["negative"] += report.negative
        if report.baseline_share is not None:
            brand["baselines"].append(report.baseline_share)
    for alert in result.alerts:
        per_brand[alert["brand"]]["alerts"].append(alert)
    tweets = sum(b["tweets"] for b in per_brand.values())
    lines = [f"backtest: {tweets:,} tweets, {len(per_brand)} brands, {len(result.alerts)} alert messages "
             f"in {seconds:.1f} s ({tweets / max(seconds, 1e-9):,.0f} tweets/s)",
             f"{'brand':<24} {'tweets':>7} {'negative':>8} {'baseline':>8}  alerts"]
    for name in sorted(per_brand):
        brand = per_brand[name]
        shares = sorted(brand["baselines"])
        baseline = f"{shares[len(shares) // 2]:.2f}" if shares else "n/a"
        buzz = [a for a in brand["alerts"] if a["type"] == "bad_buzz"]
        told = "; ".join(f"{a['detected_at'][:16]} {a.get('test')} z={a.get('score')} {a.get('negative_share', 0):.2f}"
                         f" vs {a.get('baseline_share', 0):.2f}" for a in buzz) or "none"
        share = brand["negative"] / brand["tweets"] if brand["tweets"] else 0.0
        lines.append(f"{name[:24]:<24} {brand['tweets']:>7,} {share:>8.2f} {baseline:>8}  {len(buzz)}: {told}")
    rejected = Counter(item.get("reason", "?") for item in result.rejected)
    if rejected:
        lines.append("rejected lines: " + ", ".join(f"{reason} {count}" for reason, count in rejected.most_common()))
    late = {k: v for k, v in result.counters.items() if k in ("late_tweets", "too_late_tweets") and v}
    if late:
        lines.append("late: " + ", ".join(f"{k} {v}" for k, v in late.items()))
    return "\n".join(lines)
