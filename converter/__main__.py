"""``python -m converter``: train, convert, publish, promote, evaluate. ``--help`` on each."""

from __future__ import annotations

import argparse
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
    config = TrainConfig(
        data_dir=str(data_dir(args.data_dir)), output_dir=str(output), epochs=args.epochs,
        patience=args.patience, batch_size=args.batch_size, learning_rate=args.learning_rate,
        max_train_rows=args.max_train_rows, validation_size=args.validation_size,
        confounded_weight=args.confounded_weight, lstm_units=args.lstm_units,
        dense_units=args.dense_units, train_embeddings=args.train_embeddings,
        fine_tune_epochs=args.fine_tune_epochs, seed=args.seed,
        embedding=EmbeddingConfig(dim=args.embedding_dim, epochs=args.word2vec_epochs,
                                  max_vocabulary=args.max_vocabulary, seed=args.seed),
        mlflow=not args.no_mlflow,
    )
    run_dir = train(config)
    print(run_dir)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .convert import ParityLimits, convert_run

    limits = ParityLimits(args.max_flip_rate, args.max_abs_diff)
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else None
    bundle_dir = convert_run(Path(args.run), Path(args.output), args.quantization, limits, notes=notes)
    print(bundle_dir)
    return 0


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
    from sentiment.config import DEFAULT_MODEL_STORE

    root = argparse.ArgumentParser(prog="python -m converter", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train Word2Vec + BiLSTM and the TF-IDF baseline")
    train.add_argument("--data-dir", help="shared data folder (default: $SENTIMENT_DATA_DIR or ../shared/data)")
    train.add_argument("--output", type=Path, help="run directory (default: artifacts/runs/<UTC time>)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--patience", type=int, default=3, help="epochs without TweetEval-AUC progress")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--max-train-rows", type=int, help="train on the first N rows only (a quick run)")
    train.add_argument("--validation-size", type=int, default=6_000)
    train.add_argument("--confounded-weight", type=float, default=0.2,
                       help="sample weight of head/tail and text-only rows (random-sample rows weigh 1)")
    train.add_argument("--embedding-dim", type=int, default=200)
    train.add_argument("--word2vec-epochs", type=int, default=8)
    train.add_argument("--max-vocabulary", type=int, default=30_000)
    train.add_argument("--lstm-units", type=int, default=64)
    train.add_argument("--dense-units", type=int, default=64)
    train.add_argument("--train-embeddings", action="store_true", help="train the Word2Vec vectors from the start")
    train.add_argument("--fine-tune-epochs", type=int, default=3,
                       help="after the frozen-embedding phase, tune the embedding for up to N epochs")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")
    train.set_defaults(handler=_train)

    convert = commands.add_parser("convert", help="a training run → TFLite bundle, behind the parity gate")
    convert.add_argument("run", help="training run directory (what `train` printed)")
    convert.add_argument("--output", default=str(ARTIFACTS / "bundles"), help="bundles are written to OUTPUT/<version>")
    convert.add_argument("--quantization", choices=("dynamic", "float16", "float32"), default="dynamic")
    convert.add_argument("--max-flip-rate", type=float, default=0.005)
    convert.add_argument("--max-abs-diff", type=float, default=0.05)
    convert.add_argument("--notes", help="a markdown file appended to the model card (e.g. the experiments behind it)")
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
