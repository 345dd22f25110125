"""Configuration: defaults that run locally, invalid values refused by name, nothing heavy at import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sentiment.config import SETTINGS, Config, ConfigError

from .functions_support import MAIN, REPO


def test_defaults_run_locally_without_a_cloud_account():
    config = Config.from_env({})
    assert config.model_uri.endswith("models") and config.project == ""
    assert config.metrics_exporter == "log"
    assert (config.output_topic, config.dead_letter_topic, config.feedback_topic) == (
        "tweets-scored", "tweets-dead-letter", "sentiment-feedback")


def test_environment_wins_and_empty_means_default():
    config = Config.from_env({"MAX_BATCH_SIZE": " 20 ", "LOG_LEVEL": "debug", "OUTPUT_TOPIC": ""})
    assert config.max_batch_size == 20 and config.log_level == "DEBUG" and config.output_topic == "tweets-scored"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MAX_BATCH_SIZE", "abc"), ("MAX_BATCH_SIZE", "0"), ("MAX_TEXT_CHARS", "1e3"), ("MAX_REQUEST_BYTES", "10"),
     ("METRICS_FLUSH_SECONDS", "5"), ("METRICS_EXPORTER", "stackdriver"), ("LOG_LEVEL", "LOUD"),
     ("MODEL_REFRESH_SECONDS", "soon"), ("NOTIFY_MAX_PER_BRAND", "nan")],
)
def test_invalid_values_are_refused_naming_the_variable(variable, value):
    with pytest.raises(ConfigError, match=f"^{variable}='{value}' is invalid: expected "):
        Config.from_env({variable: value})


def test_variables_it_does_not_know_are_ignored():
    """An environment left over from the per-instance detector (BUZZ_*, ALERT_TOPIC) still starts a function."""
    leftovers = {"BUZZ_WINDOW_SECONDS": "nan", "BUZZ_NEGATIVE_SHARE": "1.5", "BUZZ_MIN_TWEETS": "-1",
                 "BUZZ_COOLDOWN_SECONDS": "x", "ALERT_TOPIC": "sentiment-alerts"}
    assert Config.from_env(leftovers) == Config.from_env({})


def test_topic_paths():
    assert Config.from_env({"GOOGLE_CLOUD_PROJECT": "p"}).topic_path("t") == "projects/p/topics/t"
    assert Config.from_env({}).topic_path("projects/x/topics/t") == "projects/x/topics/t"
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        Config.from_env({}).topic_path("t")


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert setting.env.isupper() and len(setting.description) > 20, setting.env


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=REPO / "functions", env={"PATH": "/usr/bin:/bin", **env})


def test_a_bad_variable_stops_the_function_at_import():
    result = run_python("import main", MAX_BATCH_SIZE="lots")
    assert result.returncode != 0
    assert "MAX_BATCH_SIZE='lots' is invalid" in result.stderr


def test_importing_the_entry_points_loads_nothing_heavy():
    """Cold start: the model runtime and Google clients are imported on first use, not at import."""
    code = ("import json, sys, main; heavy = ['ai_edge_litert', 'tflite_runtime', 'google.cloud.pubsub_v1', "
            "'google.cloud.monitoring_v3', 'google.cloud.storage', 'tensorflow', 'numpy']; "
            "print(json.dumps([m for m in heavy if m in sys.modules]))")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [], "the runtime comes with the first load"
    assert MAIN.is_file()
