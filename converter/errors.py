"""Errors of the offline tools that the CLI turns into a one-line message and exit status 1."""


class ConversionError(RuntimeError):
    """The Keras model cannot become a builtin-ops TFLite model."""


class ParityError(RuntimeError):
    """The converted model disagrees with the Keras model beyond the gate's limits."""

    def __init__(self, report: dict, limits: dict):
        self.report = report
        super().__init__(
            f"parity gate failed: {report['label_flips']}/{report['n']} labels flipped "
            f"({report['flip_rate']:.2%}, limit {limits['max_flip_rate']:.2%}), max |Δp| "
            f"{report['max_abs_diff']:.4f} (limit {limits['max_abs_diff']}); no bundle written"
        )
