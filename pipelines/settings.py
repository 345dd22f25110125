"""The detection's settings: every default written once, here, with what it means.

``python -m pipelines stream`` and ``backtest`` take each one as an option (``--min-effect 0.08``,
also spelled ``--min_effect``, as Flex Templates pass parameters by name); docs/bad_buzz.md says
why each default is what it is (chosen on simulated weeks of real hand-labelled tweets).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

CLOCKS = ("watermark", "data")


def _setting(default, help: str, **extra):
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class DetectionSettings:
    bucket_minutes: int = _setting(30, "event-time bucket: tweets are counted per brand and bucket, and each "
                                       "closed bucket is one decision")
    windows_hours: tuple[float, ...] = _setting((3.0, 6.0), "the sliding windows whose negative share is tested "
                                                            "(hours, comma-separated, multiples of the bucket)")
    baseline_hours: float = _setting(48.0, "the brand's trailing history a window is compared with (the window "
                                           "itself and the buckets of an alert excluded)")
    min_baseline_hours: float = _setting(24.0, "no decision before the baseline spans this much event time ...")
    min_baseline_tweets: int = _setting(200, "... and holds this many tweets")
    min_window_tweets: int = _setting(30, "fewest tweets in a window for its share to be tested")
    z_alert: float = _setting(3.5, "z-score a test must reach (in confirm_buckets consecutive buckets) to alert")
    confirm_buckets: int = _setting(2, "a test must fire in this many consecutive buckets to alert (chance peaks "
                                       "last one bucket)")
    z_resolve: float = _setting(2.0, "an alert resolves once every test stays below this z ...")
    resolve_buckets: int = _setting(2, "... for this many consecutive buckets")
    min_effect: float = _setting(0.08, "least rise of the window's negative share over the baseline's for a share "
                                       "alert (the model's share, which under-reads a human rise)")
    cusum_slack: float = _setting(0.03, "the sequential test accumulates the negatives in excess of the baseline "
                                        "share plus this")
    min_tau: float = _setting(0.02, "floor of the share's spread between windows beyond sampling noise "
                                    "(overdispersion)")
    volume_ratio: float = _setting(3.0, "least ratio of a window's negatives to their usual count for a volume "
                                        "alert")
    min_volume_negative: int = _setting(20, "fewest negative tweets in a window for a volume alert")
    volume_cv: float = _setting(0.3, "relative spread of a brand's usual negative count from day to day")
    cooldown_hours: float = _setting(6.0, "no new alert for a brand this long after its last resolution")
    allowed_lateness_minutes: float = _setting(15.0, "a bucket is decided this long after its end (event time); "
                                                     "later tweets still count in the brand's baseline, not in the "
                                                     "decision already taken")
    event_clock: str = _setting("watermark", "what closes a bucket: Beam's watermark (Dataflow, batch), or 'data': "
                                             "the latest event time seen for the brand (replays of history "
                                             "published faster than real time on the DirectRunner, whose Pub/Sub "
                                             "watermark is the wall clock)", choices=CLOCKS)

    def __post_init__(self):
        problems = []
        if not 1 <= self.bucket_minutes <= 24 * 60:
            problems.append("bucket_minutes must be within 1..1440")
        if not self.windows_hours or any(w <= 0 or (w * 60) % self.bucket_minutes for w in self.windows_hours):
            problems.append("each of windows_hours must be a positive multiple of the bucket")
        if self.baseline_hours < self.min_baseline_hours or self.min_baseline_hours < 0:
            problems.append("baseline_hours must be >= min_baseline_hours >= 0")
        if not 0 < self.min_effect < 1 or not 0 <= self.cusum_slack < 1 or not 0 <= self.min_tau < 1:
            problems.append("min_effect, cusum_slack and min_tau are shares within 0..1")
        if self.z_resolve > self.z_alert:
            problems.append("z_resolve must not exceed z_alert")
        if self.event_clock not in CLOCKS:
            problems.append(f"event_clock must be one of {', '.join(CLOCKS)}")
        if min(self.min_window_tweets, self.min_baseline_tweets, self.min_volume_negative) < 0 \
                or min(self.cooldown_hours, self.allowed_lateness_minutes, self.volume_cv) < 0 \
                or self.volume_ratio < 1 or self.resolve_buckets < 1 or self.confirm_buckets < 1:
            problems.append("counts and durations must not be negative; volume_ratio >= 1; resolve_buckets and "
                            "confirm_buckets >= 1")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def bucket_seconds(self) -> float:
        return self.bucket_minutes * 60.0

    @property
    def lateness_seconds(self) -> float:
        return self.allowed_lateness_minutes * 60.0

    def buckets(self, hours: float) -> int:
        return max(1, round(hours * 3600 / self.bucket_seconds))

    @property
    def history_buckets(self) -> int:
        """Closed buckets a brand keeps: the longest window and its baseline, and at least two days for the
        volume test's same hours of the previous days."""
        return self.buckets(max(self.windows_hours) + max(self.baseline_hours, 48.0))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("detection (docs/bad_buzz.md)")
    for spec in fields(DetectionSettings):
        default = spec.default
        shown = ",".join(f"{w:g}" for w in default) if isinstance(default, tuple) else default
        kind = str if isinstance(default, tuple | str) else type(default)
        group.add_argument(f"--{spec.name.replace('_', '-')}", f"--{spec.name}", dest=spec.name, type=kind,
                           default=shown, choices=spec.metadata.get("choices"),
                           help=f"{spec.metadata['help']} (default {shown})")


def from_arguments(arguments: argparse.Namespace) -> DetectionSettings:
    """The settings the command line asked for; ValueError naming what is wrong."""
    values = {spec.name: getattr(arguments, spec.name) for spec in fields(DetectionSettings)}
    try:
        values["windows_hours"] = tuple(float(w) for w in str(values["windows_hours"]).split(",") if w.strip())
    except ValueError:
        raise ValueError(f"--windows-hours must be numbers separated by commas, not {values['windows_hours']!r}") \
            from None
    return DetectionSettings(**values)
