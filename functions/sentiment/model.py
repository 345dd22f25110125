"""The runtime half of the model: a verified bundle scored by the LiteRT interpreter.

Each tweet runs at its exact token length (the TFLite graph takes ``[1, n]`` ids and the model was
trained with masking), so a tweet's score never depends on the other tweets of a request. The graph
answers ``[1, 3]``: the probabilities of negative, neutral and positive (``prediction.CLASSES``), already
calibrated; nothing here changes them, ``prediction.Prediction`` only names them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import bundle as bundles
from .errors import BundleError, EmptyText
from .prediction import CLASSES, Prediction
from .storage import GcsReader, Location

log = logging.getLogger(__name__)


def interpreter_class():
    """LiteRT when installed, else the legacy tflite-runtime (same API). Imported on first use."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise BundleError(
                "no TFLite runtime: install ai-edge-litert (or tflite-runtime)"
            ) from None
    return Interpreter


# The probabilities come out of a softmax (float32); dynamic-range quantization leaves it in float, so
# their sum is 1 to about 1e-6. Anything further off is a graph that is not a three-class softmax.
SUM_TOLERANCE = 1e-3


class SentimentModel:
    """One interpreter, guarded by a lock (a TFLite interpreter is not thread-safe)."""

    def __init__(self, bundle: bundles.Bundle, num_threads: int = 1):
        self.manifest = bundle.manifest
        self.version = bundle.manifest.model_version
        self.vocabulary = bundle.manifest.vocab
        self._lock = threading.Lock()
        try:  # from the verified bytes in memory: no file can change under the interpreter
            self._interpreter = interpreter_class()(model_content=bundle.model_content, num_threads=num_threads)
        except (ValueError, RuntimeError) as error:
            raise BundleError(f"the runtime cannot read the model of {bundle.source}: {error}") from None
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise BundleError("the model must have exactly one input and one output")
        signature = list(inputs[0].get("shape_signature", inputs[0]["shape"]))
        if inputs[0]["dtype"] != np.int32 or len(signature) != 2 or signature[0] != 1:
            raise BundleError(f"the model input must be int32 [1, n], found {signature}")
        output = [int(n) for n in outputs[0].get("shape_signature", outputs[0]["shape"])]
        if outputs[0]["dtype"] != np.float32 or output != [1, len(CLASSES)]:
            raise BundleError(
                f"the model output must be float32 [1, {len(CLASSES)}] (the probabilities of "
                f"{', '.join(CLASSES)}), found {np.dtype(outputs[0]['dtype']).name} {output}"
            )
        self._input, self._output = inputs[0]["index"], outputs[0]["index"]
        self._length = -1
        self._self_test()

    def _self_test(self) -> None:
        """Score the largest id once: a vocabulary/embedding mismatch, a broken graph or an output that is
        not a probability per class fails here, before the model serves anything."""
        try:
            values = self.probabilities_of_ids([2, len(self.vocabulary) - 1])
        except (ValueError, RuntimeError) as error:
            raise BundleError(f"the model fails on its own vocabulary: {error}") from None
        shown = ", ".join(f"{name} {value:.6g}" for name, value in zip(CLASSES, values, strict=True))
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            raise BundleError(f"the model answered {shown}: not probabilities")
        if abs(sum(values) - 1.0) > SUM_TOLERANCE:
            raise BundleError(f"the model answered {shown}, which sum to {sum(values):.6g}, not 1")

    def encode(self, text: str) -> list[int]:
        return self.vocabulary.encode(text)

    def encode_tokens(self, tokens: Sequence[str]) -> list[int]:
        """Ids of tokens already produced by ``sentiment.text.tokenize`` (saves tokenizing twice)."""
        return self.vocabulary.encode_tokens(tokens)

    def probabilities_of_ids(self, ids: Sequence[int]) -> list[float]:
        """The model's output for one tweet: one probability per class, in ``CLASSES`` order."""
        if not ids:
            raise EmptyText()
        tokens = np.asarray(ids, dtype=np.int32).reshape(1, -1)
        with self._lock:
            if tokens.shape[1] != self._length:  # re-plan memory only when the length changes
                self._interpreter.resize_tensor_input(self._input, tokens.shape, strict=True)
                self._interpreter.allocate_tensors()
                self._length = tokens.shape[1]
            self._interpreter.set_tensor(self._input, tokens)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output)[0].tolist()  # a copy: the buffer is reused

    def predict_ids(self, ids: Sequence[int]) -> Prediction:
        return Prediction.of(self.probabilities_of_ids(ids), self.version)

    def encode_all(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of every text; raises ``EmptyText`` (naming the index) before any is scored."""
        encoded = [self.encode(text) for text in texts]
        for index, ids in enumerate(encoded):
            if not ids:
                raise EmptyText(index)
        return encoded

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return [self.predict_ids(ids) for ids in self.encode_all(texts)]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Raw probabilities (not rounded), ``(len(texts), 3)`` in ``CLASSES`` order: for evaluation and the
        converter's parity gate."""
        rows = [self.probabilities_of_ids(ids) for ids in self.encode_all(texts)]
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(CLASSES))


def load(source: str | Location | bundles.Resolved | bundles.Bundle, *, cache_dir: Path | None = None,
         reader: GcsReader | None = None, num_threads: int = 1) -> SentimentModel:
    """The one way to assemble a model: resolve ``source`` (following LATEST), fetch, verify, interpret.

    Used by the functions (through ``provider``), the CLI, the converter's checks and the benchmarks.
    An already fetched ``Bundle`` is interpreted as it is.
    """
    bundle = source if isinstance(source, bundles.Bundle) else bundles.fetch(source, cache_dir, reader)
    return SentimentModel(bundle, num_threads=num_threads)
