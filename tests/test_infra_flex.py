"""pipelines/flex/: the Flex Template image (Dockerfile), its launch program, the templates' metadata and the
images' tag, checked offline (no Docker here: the image's layout is rebuilt from the Dockerfile's own COPY and
ENV instructions and run with this virtualenv's Python).

As in the other infra tests, the check passes on pipelines/flex/ as it is, and each break of a copy is reported
(and is not reported on the files as they are).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import infra_checks as checks
from .infra_checks import edit, reported

FLEX = checks.FLEX
REPO = checks.REPO


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


image_tag = _load("flex_image_tag", FLEX / "image_tag.py")


@pytest.fixture
def flex_copy(tmp_path) -> Path:
    copy = tmp_path / "flex"
    shutil.copytree(FLEX, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_flex_passes():
    assert checks.check_flex() == []


BREAKS = {
    "unpinned-launcher": (
        [("Dockerfile", "python311-template-launcher-base:20240812-rc01", "python311-template-launcher-base:latest")],
        [("python311-template-launcher-base:latest is not pinned",)]),
    "beam-image-not-the-pinned-release": (
        [("Dockerfile", "FROM apache/beam_python3.11_sdk:2.77.0", "FROM apache/beam_python3.11_sdk:2.76.0")],
        [("apache/beam_python3.11_sdk:2.76.0 is Beam 2.76.0, pipelines/requirements.txt pins 2.77.0",)]),
    "beam-image-of-another-python": (
        [("Dockerfile", "FROM apache/beam_python3.11_sdk:2.77.0", "FROM apache/beam_python3.12_sdk:2.77.0")],
        [("is not the Beam SDK image of Python 3.11",)]),
    "no-committed-bundle": (
        [("Dockerfile", "COPY models models\n", "")],
        [("Dockerfile does not copy models",)]),
    "launcher-not-copied-and-wrong-program": (
        [("Dockerfile", re.compile(r"COPY --from=launcher .*\n"), ""),
         ("Dockerfile", "FLEX_TEMPLATE_PYTHON_PY_FILE=/template/pipelines/flex/launch.py",
          "FLEX_TEMPLATE_PYTHON_PY_FILE=/template/main.py")],
        [("does not copy the Flex Template launcher",), ("FLEX_TEMPLATE_PYTHON_PY_FILE='/template/main.py'",)]),
    "launcher-entry-point": (
        [("Dockerfile", 'ENTRYPOINT ["/opt/apache/beam/boot"]',
          'ENTRYPOINT ["/opt/google/dataflow/python_template_launcher"]')],
        [("the entry point must be the Beam boot program",)]),
    "hyphenated-parameter": (
        [("stream_metadata.json", '"name": "alert_topic"', '"name": "alert-topic"')],
        [("stream_metadata.json declares 'alert-topic', which is not a dest name",),
         ("stream_metadata.json does not declare alert_topic",)]),
    "required-parameter-optional": (
        [("score_metadata.json", '"name": "output",', '"name": "output",\n      "isOptional": true,')],
        [("score_metadata.json: output must be required",)]),
    "broken-regex-and-batch-stream": (
        [("score_metadata.json", '"regexes": ["^gs://[a-z0-9][-_.a-z0-9]{1,220}/.+$"]',
          '"regexes": ["^gs://[a-z0-9][-_.a-z0-9{1,220}/.+$"]'),
         ("stream_metadata.json", '"streaming": true', '"streaming": false')],
        [("score_metadata.json: input: regex", "does not compile"), ("stream_metadata.json: streaming must be true",)]),
}


@pytest.mark.parametrize(("edits", "expected"), BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_copy_is_reported(flex_copy, edits, expected):
    as_it_is = checks.check_flex()
    for file, old, new in edits:
        edit(flex_copy / file, old, new, count=1)
    problems = checks.check_flex(flex_copy)
    for fragments in expected:
        assert not reported(as_it_is, *fragments)
        assert reported(problems, *fragments), f"{fragments} not in {problems}"


def test_the_metadata_regexes_take_what_terraform_passes_and_refuse_the_rest():
    stream = {p["name"]: p for p in checks.template_metadata("stream")["parameters"]}
    score = {p["name"]: p for p in checks.template_metadata("score")["parameters"]}

    def accepts(parameter: dict, value: str) -> bool:
        return all(re.fullmatch(regex, value) for regex in parameter.get("regexes", []))

    assert accepts(stream["subscription"], "projects/air-paradis-prod/subscriptions/tweets-scored-to-sentiment-buzz")
    assert accepts(stream["alert_topic"], "projects/air-paradis-prod/topics/sentiment-alerts")
    assert not accepts(stream["subscription"], "tweets-scored-to-sentiment-buzz")
    assert not accepts(stream["alert_topic"], "projects/air-paradis-prod/subscriptions/sentiment-alerts")
    assert not accepts(stream["brand_field"], "brand; drop")
    assert accepts(score["input"], "gs://air-paradis-prod-sentiment-bulk/input/*.jsonl")
    assert not accepts(score["input"], "/local/archive.jsonl")
    assert accepts(score["model"], "gs://air-paradis-prod-sentiment-models/sentiment")
    assert accepts(score["model"], "/template/models")
    assert accepts(score["bigquery_table"], "air-paradis-prod:air_paradis_sentiment.scored_tweets")


# --- The image's layout, rebuilt from the Dockerfile ---------------------------------------------

def image_tree(root: Path) -> tuple[Path, dict[str, str]]:
    """The files the Dockerfile copies into WORKDIR, under ``root``, and the environment its ENV sets."""
    instructions = checks.dockerfile_instructions(FLEX / "Dockerfile")
    workdir = next(args for kind, args in instructions if kind == "WORKDIR").strip()
    tree = root / workdir.lstrip("/")
    for kind, args in instructions:
        words = args.split()
        if kind != "COPY" or words[0].startswith("--from"):
            continue
        for source in words[:-1]:
            target = tree / words[-1]
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / source, target)
    env = {}
    for kind, args in instructions:
        if kind == "ENV":
            env.update({k: v.replace(workdir, str(tree)) for k, v in re.findall(r"(\w+)=(\S+)", args)})
    return tree, env


def run_in_image(tree: Path, env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIPELINES_COMMAND")}
    environment.update(env)
    environment.update(extra)
    return subprocess.run([sys.executable, *args], cwd=tree, env=environment, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    return image_tree(tmp_path_factory.mktemp("image"))


def test_in_the_image_the_library_finds_the_committed_bundle_it_copies(image):
    tree, env = image
    result = run_in_image(tree, env, "-c", "import sentiment.config as c, sentiment.model as m, pipelines; "
                          "print(c.DEFAULT_MODEL_STORE); print(pipelines.__file__); "
                          "print(m.load(str(c.DEFAULT_MODEL_STORE)).version)")
    assert result.returncode == 0, result.stderr
    store, package, version = result.stdout.split()
    assert Path(store) == tree / "models", "the image's own copy of the bundle, not the repository's"
    assert Path(package).is_relative_to(tree)
    assert version == (REPO / "models" / "LATEST").read_text(encoding="utf-8").split()[0]


def test_the_launch_program_refuses_an_image_without_its_command(image):
    tree, env = image
    program = env["FLEX_TEMPLATE_PYTHON_PY_FILE"]
    for command in ("", "backtest", "stream; rm -rf /"):
        result = run_in_image(tree, env, program, "--help", PIPELINES_COMMAND=command)
        assert result.returncode == 2
        assert "PIPELINES_COMMAND must be one of stream, score" in result.stderr


@pytest.mark.parametrize("command", ["stream", "score"])
def test_the_template_parameters_are_the_commands_options(image, command):
    module = {"stream": "stream", "score": "bulk"}[command]
    if not (REPO / "pipelines" / f"{module}.py").is_file():
        pytest.skip(f"pipelines/{module}.py is not in this tree yet: its options are checked once it is")
    tree, env = image
    result = run_in_image(tree, env, env["FLEX_TEMPLATE_PYTHON_PY_FILE"], "--help", PIPELINES_COMMAND=command)
    assert result.returncode == 0, result.stderr
    options = {name.replace("-", "_") for name in re.findall(r"--([a-z][a-z0-9_-]*)", result.stdout)} - {"help"}
    declared = {p["name"] for p in checks.template_metadata(command)["parameters"]}
    assert declared <= options, f"the template declares {declared - options}, which {command} does not take"
    expected = checks.TEMPLATE_PARAMETERS[command]
    assert expected["required"] | expected["optional"] <= options


# --- The images' tag -----------------------------------------------------------------------------

def test_the_tag_is_the_hash_of_what_the_image_copies(tmp_path):
    context = tmp_path / "context"
    for source in image_tag.copied_paths() + ["pipelines/flex/Dockerfile"]:
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, context / source, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (context / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / source, context / source)
    dockerfile = context / "pipelines" / "flex" / "Dockerfile"
    first = image_tag.image_tag(context, dockerfile)
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first == image_tag.image_tag(context, dockerfile) == image_tag.image_tag(REPO)
    (context / "tests").mkdir()
    (context / "tests" / "test_new.py").write_text("x = 1\n", encoding="utf-8")
    (context / "pipelines" / "__pycache__").mkdir(exist_ok=True)
    (context / "pipelines" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert image_tag.image_tag(context, dockerfile) == first, "what the image does not copy does not count"
    with (context / "pipelines" / "__main__.py").open("a", encoding="utf-8") as source:
        source.write("\n# changed\n")
    second = image_tag.image_tag(context, dockerfile)
    assert second != first
    manifest = next((context / "models").glob("*/manifest.json"))
    manifest.write_text(manifest.read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert image_tag.image_tag(context, dockerfile) not in (first, second), "a new bundle is a new image"
    shutil.rmtree(context / "models")
    with pytest.raises(FileNotFoundError, match="copies models"):
        image_tag.image_tag(context, dockerfile)


def test_the_tag_command_prints_the_tag():
    result = subprocess.run([sys.executable, str(FLEX / "image_tag.py")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == image_tag.image_tag(REPO)


def test_terraform_reads_the_stream_templates_parameters():
    """dataflow.tf's precondition reads the parameter names from the metadata file this directory holds."""
    text = (checks.INFRA / "dataflow.tf").read_text(encoding="utf-8")
    assert 'file("${path.module}/../pipelines/flex/stream_metadata.json")' in text
    assert json.loads((FLEX / "stream_metadata.json").read_text(encoding="utf-8"))["parameters"]
