"""The backtest's picture: per brand, the negative share over its shortest window, the baseline's share
with the least rise that may alert above it, and the alerts (a red band from alert to resolution)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path


def plot_backtest(result, settings, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    reports = defaultdict(list)
    for report in result.reports:
        reports[report.brand].append(report)
    brands = sorted(reports) or ["(no tweets)"]
    figure, axes = plt.subplots(len(brands), 1, figsize=(12, 2.4 * len(brands)), sharex=True, squeeze=False)
    span = settings.buckets(min(settings.windows_hours))
    for axis, brand in zip(axes[:, 0], brands, strict=True):
        rows = reports.get(brand, [])
        times = [datetime.fromtimestamp(r.end, UTC) for r in rows]
        shares = []
        for i in range(len(rows)):
            chosen = rows[max(0, i - span + 1):i + 1]
            tweets = sum(r.tweets for r in chosen)
            shares.append(sum(r.negative for r in chosen) / tweets if tweets else float("nan"))
        base = [r.baseline_share if r.baseline_share is not None else float("nan") for r in rows]
        upper = [b + settings.min_effect for b in base]
        label = f"negative share ({min(settings.windows_hours):g} h)"
        axis.plot(times, shares, color="black", linewidth=0.9, label=label)
        axis.plot(times, base, color="tab:blue", linewidth=1.2, label="baseline share")
        axis.fill_between(times, base, upper, color="tab:blue", alpha=0.15,
                          label=f"baseline + {settings.min_effect:g}")
        opened = None
        for alert in (a for a in result.alerts if a["brand"] == brand):
            at = datetime.fromisoformat(alert["detected_at"])
            if alert["type"] == "bad_buzz":
                axis.axvline(at, color="tab:red", linewidth=1.5)
                opened = at
            elif opened is not None:
                axis.axvspan(opened, at, color="tab:red", alpha=0.15)
                opened = None
        if opened is not None and times:
            axis.axvspan(opened, times[-1], color="tab:red", alpha=0.15)
        axis.set_ylim(0, 1)
        axis.set_ylabel("negative")
        axis.set_title(brand, loc="left", fontsize=10)
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
