"""Cost per million tweets, from the measured throughput of one instance, at published list prices.

Cloud Run functions (Cloud Functions 2nd gen) are billed as Cloud Run services with request-based
billing: CPU and memory are billed while the instance handles requests (rounded up to 100 ms), plus a
fee per request. An instance kept busy by a stream of tweets is billed for its whole time, so per
million tweets: instance seconds = 10^6 / (tweets per second of one instance); vCPU-seconds = that ×
the vCPUs configured (1, infra/variables.tf); GiB-seconds = that × the memory configured (512 MiB).
Free tiers are left out (they are per billing account, not per tweet). The process CPU time the
server actually used per tweet is reported next to it: the bill counts allocated, not used, CPU.
"""

from __future__ import annotations

PRICES = {
    "source": "https://cloud.google.com/run/pricing (Tier 1 regions, request-based billing; Cloud Run functions "
              "are priced as Cloud Run)",
    "as_of": "list prices as found in stored copies of the pricing pages consulted on 2026-11-25 (the pages carry "
             "no price date); check them before quoting a bill",
    "vcpu_second": 0.000024,
    "gib_second": 0.0000025,
    "per_million_requests": 0.40,
}
NATURAL_LANGUAGE = {
    "source": "https://cloud.google.com/natural-language/pricing (Sentiment Analysis; 1 unit = up to 1,000 "
              "characters, so one tweet = 1 unit; first 5,000 units a month free)",
    "as_of": PRICES["as_of"],
    "tiers": [("up to 1M units/month", 1.00), ("1M-5M", 0.50), ("above 5M", 0.25)],  # USD per 1,000 units
}
VCPU = 1
MEMORY_GIB = 0.5
DATAFLOW = {
    "source": "https://cloud.google.com/dataflow/pricing (batch workers, Dataflow Shuffle, Persistent Disk; "
              "us-central1 list prices, the rates Apache Beam 2.77 itself uses in "
              "apache_beam/testing/load_tests/dataflow_cost_consts.py)",
    "as_of": "consulted on 2026-12-02 (the stored pricing pages list the billed components; their rate tables "
             "were not in the copies, so the rates are Beam 2.77's); check them before quoting a bill",
    "vcpu_hour": 0.056,
    "gb_hour": 0.003557,
    "pd_gb_hour": 0.000054,
    "shuffle_gb": 0.011,
    # Dataflow's default batch worker: n1-standard-1 (1 vCPU, 3.75 GB), a 25 GB boot disk with Dataflow Shuffle.
    "worker_vcpu": 1,
    "worker_gb": 3.75,
    "worker_disk_gb": 25,
}


def per_million(tweets_per_second: float, tweets_per_request: int, cpu_seconds_per_tweet: float | None = None,
                vcpu: float = VCPU, memory_gib: float = MEMORY_GIB) -> dict:
    instance_seconds = 1e6 / tweets_per_second
    vcpu_seconds = instance_seconds * vcpu
    gib_seconds = instance_seconds * memory_gib
    requests = 1e6 / tweets_per_request
    usd = (vcpu_seconds * PRICES["vcpu_second"] + gib_seconds * PRICES["gib_second"]
           + requests / 1e6 * PRICES["per_million_requests"])
    return {"tweets_per_second": tweets_per_second, "vcpu": vcpu, "memory_gib": memory_gib,
            "vcpu_seconds": vcpu_seconds, "gib_seconds": gib_seconds, "requests": requests, "usd": usd,
            "used_cpu_seconds": cpu_seconds_per_tweet * 1e6 if cpu_seconds_per_tweet is not None else None}


def dataflow_per_million(cpu_seconds_per_million: float, shuffle_bytes_per_million: float) -> dict:
    """A batch job's cost per million tweets on default workers kept busy: the measured CPU time is the vCPU
    time billed (the job is CPU-bound), memory and disk come with each vCPU, Shuffle bills the data through
    the reshuffles (about the archive's size). A job's start (~2-3 worker-minutes) is left out."""
    p = DATAFLOW
    vcpu_hours = cpu_seconds_per_million / 3600
    worker_hours = vcpu_hours / p["worker_vcpu"]
    parts = {"vcpu": vcpu_hours * p["vcpu_hour"], "memory": worker_hours * p["worker_gb"] * p["gb_hour"],
             "disk": worker_hours * p["worker_disk_gb"] * p["pd_gb_hour"],
             "shuffle": shuffle_bytes_per_million / 1e9 * p["shuffle_gb"]}
    return {"vcpu_hours": vcpu_hours, "usd": sum(parts.values()), "parts": parts}


def natural_language_per_million() -> list[tuple[str, float]]:
    """USD per million tweets at each volume tier of the Natural Language API."""
    return [(tier, usd_per_1000 * 1000) for tier, usd_per_1000 in NATURAL_LANGUAGE["tiers"]]


def run(http: dict, pubsub: dict | None, keras_tps: float | None, bulk: dict | None = None) -> dict:
    phases = http["phases"]
    rows = {
        "HTTP, one tweet per request (4 clients)": per_million(
            phases["concurrency4"]["tweets_per_second"], 1, phases["concurrency4"]["server_cpu_seconds_per_tweet"]),
        "HTTP, batches of 100 (4 clients)": per_million(
            phases["batch100x4"]["tweets_per_second"], 100, phases["batch100x4"]["server_cpu_seconds_per_tweet"]),
    }
    if pubsub:
        direct = pubsub["direct"]
        rows["Pub/Sub push, one tweet per message, 4 pushes in flight"] = per_million(
            direct["tweets_per_second"], 1, direct["server_cpu_seconds_per_tweet"])
        rows["Pub/Sub push through the emulator (~1 push in flight)"] = per_million(
            pubsub["tweets_per_second"], 1, pubsub["server_cpu_seconds_per_tweet"])
    if keras_tps:
        rows["replaced design: Flask + Keras, one tweet per request, 2 GiB"] = per_million(keras_tps, 1, None,
                                                                                          memory_gib=2.0)
    dataflow = None
    if bulk:
        dataflow = dataflow_per_million(bulk["pipeline"]["cpu_seconds_per_million"],
                                        bulk["archive_bytes"] / bulk["count"] * 1e6)
    return {"rows": rows, "natural_language": natural_language_per_million(), "prices": PRICES,
            "natural_language_prices": NATURAL_LANGUAGE, "dataflow": dataflow, "dataflow_prices": DATAFLOW}
