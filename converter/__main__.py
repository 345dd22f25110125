"""``python -m converter``: train, convert, publish, promote, evaluate. ``--help`` on each."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter hides our progress

from .data import REPO_ROOT, DataError, data_dir  # noqa: E402

ARTIFACTS = REPO_ROOT / "artifacts"


def _train(args: argparse.Namespace) -> int:
    from .embeddings import EmbeddingConfig
    from .train import TrainConfig, train

    output = args.output or ARTIFACTS / "runs" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    embedding = EmbeddingConfig(seed=args.seed, **_values(args, EmbeddingConfig, EMBEDDING_PREFIX))
    config = TrainConfig(data_dir=str(data_dir(args.data_dir)), output_dir=str(output), embedding=embedding,
                         **_values(args, TrainConfig))
    print(train(config))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from sentiment import bundle as bundles

    from .convert import ParityLimits, convert_run

    limits = ParityLimits(**_values(args, ParityLimits))
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else None
    previous = None if args.previous.lower() == "none" else bundles.fetch(args.previous).manifest
    bundle_dir = convert_run(Path(args.run), Path(args.output), args.quantization, limits, notes=notes,
                             previous=previous)
    print(bundle_dir)
    return 0


# --- options from the dataclasses: each default is written once, in the dataclass -------------------

EMBEDDING_PREFIX = "embedding_"
_NOT_OPTIONS = {"seed"}  # EmbeddingConfig.seed follows --seed


def _options(cls) -> list[dataclasses.Field]:
    """The fields a command line sets: those with a plain default (not the nested configurations)."""
    return [f for f in dataclasses.fields(cls)
            if f.metadata.get("cli", True) and f.default is not dataclasses.MISSING]


def _add_options(parser: argparse.ArgumentParser, cls, prefix: str = "", skip: frozenset = frozenset()) -> None:
    """One ``--option`` per field of ``cls``, its default and type taken from the field."""
    for f in _options(cls):
        if f.name in skip:
            continue
        flag = "--" + (prefix + f.name).replace("_", "-")
        help_text = f.metadata.get("help", "")
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
        else:
            kind = f.metadata.get("type", type(f.default))
            parser.add_argument(flag, type=kind, default=f.default,
                                help=f"{help_text} (default: %(default)s)".lstrip())


def _values(args: argparse.Namespace, cls, prefix: str = "") -> dict:
    names = {f.name for f in _options(cls)} - (_NOT_OPTIONS if prefix else set())
    return {name: getattr(args, prefix + name) for name in names}


def _publish(args: argparse.Namespace) -> int:
    from .publish import publish

    print(publish(Path(args.bundle), args.to, move_latest=not args.no_latest))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from .publish import set_latest

    set_latest(args.store, args.version)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from sentiment import model as models

    from .evaluate import evaluate, load_examples
    from .plots import confusion_matrices

    examples, report = load_examples(Path(args.input), args.text_column, args.label_column)
    logging.getLogger("converter").info("%s", report)
    metrics = evaluate(models.load(args.model), examples)
    if args.plot:
        confusion_matrices({Path(args.input).name: metrics["confusion"]}, Path(args.plot))
    print(json.dumps(metrics, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    from sentiment.bundle import QUANTIZATIONS
    from sentiment.config import DEFAULT_MODEL_STORE

    from .convert import QUANTIZATION, ParityLimits
    from .embeddings import EmbeddingConfig
    from .train import TrainConfig

    root = argparse.ArgumentParser(prog="python -m converter", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train Word2Vec + the two-head BiLSTM on the shared data")
    train.add_argument("--data-dir", help="shared data folder (default: $SENTIMENT_DATA_DIR or ../shared/data)")
    train.add_argument("--output", type=Path, help="run directory (default: artifacts/runs/<UTC time>)")
    _add_options(train, TrainConfig)
    _add_options(train, EmbeddingConfig, EMBEDDING_PREFIX, skip=frozenset(_NOT_OPTIONS))
    train.set_defaults(handler=_train)

    convert = commands.add_parser("convert", help="a training run → TFLite bundle, behind the parity gate")
    convert.add_argument("run", help="training run directory (what `train` printed)")
    convert.add_argument("--output", default=str(ARTIFACTS / "bundles"), help="bundles are written to OUTPUT/<version>")
    convert.add_argument("--quantization", choices=QUANTIZATIONS, default=QUANTIZATION)
    _add_options(convert, ParityLimits)
    convert.add_argument("--notes", help="a markdown file appended to the model card (e.g. the experiments behind it)")
    convert.add_argument("--previous", default=str(DEFAULT_MODEL_STORE),
                         help="the bundle (or store, via its LATEST) the new one replaces: its figures go beside the "
                              "new ones in the model card; 'none' for no comparison (default: the committed models/)")
    convert.set_defaults(handler=_convert)

    publish = commands.add_parser("publish", help="upload a bundle to a store and move its LATEST")
    publish.add_argument("bundle", help="bundle directory (what `convert` printed)")
    publish.add_argument("--to", required=True, help="gs://BUCKET/PREFIX or a local directory")
    publish.add_argument("--no-latest", action="store_true", help="upload only; leave LATEST alone")
    publish.set_defaults(handler=_publish)

    promote = commands.add_parser("promote", help="point a store's LATEST at a published version (rollback)")
    promote.add_argument("store", help="gs://BUCKET/PREFIX or a local directory")
    promote.add_argument("version")
    promote.set_defaults(handler=_promote)

    evaluate = commands.add_parser("evaluate", help="metrics of a bundle on labelled tweets")
    evaluate.add_argument("--model", default=str(DEFAULT_MODEL_STORE), help="bundle dir, store or gs:// URI")
    evaluate.add_argument("--input", required=True,
                          help="labelled CSV/JSONL (text + label columns), a Sentiment140 file or a TweetEval folder")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", help="default: the first of label, polarity, sentiment, target")
    evaluate.add_argument("--plot", help="write the confusion matrix to this PNG")
    evaluate.set_defaults(handler=_evaluate)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("gensim").setLevel(logging.WARNING)  # one line per internal step otherwise
    args = parser().parse_args(argv)
    from sentiment.errors import SentimentError

    from .errors import ConversionError, ParityError

    try:
        return args.handler(args)
    except (SentimentError, DataError, ConversionError, ParityError, FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
