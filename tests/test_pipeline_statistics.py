"""The bad-buzz tests on counts alone: share z, overdispersion, volume z, CUSUM, drivers."""

from __future__ import annotations

import math
import random

import pytest

from pipelines import drivers, statistics
from pipelines.settings import DetectionSettings


def test_share_z_is_zero_at_the_baseline_share_and_grows_with_the_window():
    assert statistics.share_z(40, 100, 400, 1000, 0.0) == pytest.approx(0.0)
    small = statistics.share_z(13, 20, 400, 1000, 0.0)
    large = statistics.share_z(130, 200, 400, 1000, 0.0)
    assert 0 < small < large
    # without overdispersion, 0.65 against 0.40 over 200 tweets is about 7 sigma
    assert large == pytest.approx((0.65 - 0.4) / math.sqrt(0.24 * (1 / 200 + 1 / 1000)), rel=1e-9)


def test_overdispersion_bounds_the_z_of_a_huge_window():
    tau2 = 0.05 ** 2
    z = statistics.share_z(4_500, 10_000, 40_000, 100_000, tau2)
    assert z < (0.45 - 0.40) / 0.05 + 1e-9  # never more than effect / tau, whatever the volume


def test_share_z_of_an_empty_window_or_baseline_is_zero():
    assert statistics.share_z(0, 0, 10, 100, 0.0) == 0.0
    assert statistics.share_z(3, 10, 0, 0, 0.0) == 0.0
    assert math.isfinite(statistics.share_z(10, 10, 0, 500, 0.0))  # a baseline share of 0 is clipped


def test_excess_variance_is_the_floor_for_binomial_blocks_and_finds_real_spread():
    rng = random.Random(3)
    binomial = [(sum(rng.random() < 0.4 for _ in range(90)), 90) for _ in range(16)]
    assert statistics.excess_variance(binomial, 0.4, 0.02) == pytest.approx(0.02 ** 2)
    spread = []
    for i in range(16):
        p = 0.25 if i % 2 else 0.55  # the share swings by 0.15 around 0.40
        spread.append((sum(rng.random() < p for _ in range(90)), 90))
    tau = math.sqrt(statistics.excess_variance(spread, 0.4, 0.02))
    assert 0.09 < tau <= statistics.MAX_TAU
    assert statistics.excess_variance([(1, 2), (3, 5)], 0.4, 0.03) == pytest.approx(0.03 ** 2)  # too few blocks


def test_volume_z_counts_overdispersion_and_an_empty_usual_count():
    assert statistics.volume_z(20, 20, 0.3, 2) == pytest.approx(0.0)
    assert statistics.volume_z(60, 20, 0.3, 2) > 4 > statistics.volume_z(40, 20, 0.3, 2)
    assert math.isfinite(statistics.volume_z(5, 0.0, 0.3, 2))


def test_cusum_accumulates_a_lasting_excess_and_forgets_a_blip():
    cusum = statistics.Cusum()
    cusum.update(0, 12, 20, 0.4, 0.03)  # +3.4 excess
    assert cusum.start == 0 and cusum.score == pytest.approx(12 - 20 * 0.43)
    cusum.update(1, 2, 20, 0.4, 0.03)  # a calm bucket brings it back to 0
    assert cusum.start is None and cusum.score == 0
    for bucket in range(5):
        cusum.update(bucket, 11, 20, 0.4, 0.03)
    assert cusum.start == 0 and cusum.tweets == 100 and cusum.negative == 55
    cusum.update(9, 0, 0, 0.4, 0.03)  # an empty bucket changes nothing
    assert cusum.tweets == 100


def test_drivers_are_the_terms_over_represented_in_the_window():
    window = {("term", "lost"): 30, ("hashtag", "#baggagefail"): 25, ("term", "delayed"): 6,
              ("mention", "@airparadis"): 5}
    baseline = {("term", "lost"): 2, ("term", "delayed"): 60, ("mention", "@airparadis"): 50}
    found = drivers.over_represented(window, 40, baseline, 400)
    assert [d["term"] for d in found[:2]] == ["lost", "#baggagefail"] or \
        [d["term"] for d in found[:2]] == ["#baggagefail", "lost"]
    assert all(d["term"] not in ("delayed", "@airparadis") for d in found)
    lost = next(d for d in found if d["term"] == "lost")
    assert lost == {"term": "lost", "kind": "term", "count": 30, "baseline_count": 2,
                    "lift": round((30 / 40) / (2.5 / 400.5), 2)}
    assert drivers.over_represented(window, 0, baseline, 400) == []


def test_features_split_hashtags_mentions_and_words():
    found = drivers.features("@AirParadis my bag is LOST again!!! #BaggageFail http://t.co/x 😡")
    assert ("hashtag", "#baggagefail") in found and ("mention", "@airparadis") in found
    assert ("term", "bag") in found and ("term", "lost") in found
    assert not any(term in ("my", "is", "baggagefail", "<url>", "<user>") for _, term in found)


def test_words_after_a_negation_are_drivers_as_written():
    """The tokenizer marks the words after a negation (neg_...): a driver is the word, and a stopword stays out."""
    found = drivers.features("no refund, no apology after the outage")
    assert {("term", "refund"), ("term", "apology"), ("term", "outage")} <= found
    assert not any(term.startswith("neg_") or term == "after" for _, term in found)


@pytest.mark.parametrize("change, message", [
    ({"windows_hours": (3.0, 6.25)}, "multiple of the bucket"),
    ({"z_resolve": 5.0}, "z_resolve"),
    ({"min_effect": 0.0}, "within 0..1"),
    ({"event_clock": "wall"}, "event_clock"),
    ({"baseline_hours": 12.0}, "baseline_hours"),
    ({"resolve_buckets": 0}, "resolve_buckets"),
])
def test_settings_refuse_what_cannot_work(change, message):
    with pytest.raises(ValueError, match=message):
        DetectionSettings(**change)
