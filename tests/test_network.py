"""The two heads, their masked loss, the row weights, the calibration and the converter's command line."""

import dataclasses

import numpy as np
import pytest

from converter.data import NEGATIVE, NEUTRAL, POSITIVE, Example
from converter.train import TrainConfig, head_targets, polarity_balance, row_weights

ROWS = [
    Example("a", NEGATIVE, "sentiment140_pool", random_sample=True),
    Example("b", POSITIVE, "sentiment140_textonly_pool"),  # not a random sample: confounded
    Example("c", NEUTRAL, "semeval2017_task4A_train_dev"),  # general family
    Example("d", POSITIVE, "semeval2017_task4A_train_dev"),
    Example("e", NEGATIVE, "crowdflower_apple_twitter"),  # customer family
]


def test_row_weights_follow_the_configuration():
    config = TrainConfig(handlabelled_weight=4.0, customer_weight=3.0, confounded_weight=0.2)
    weights = row_weights(ROWS, config)
    raw = np.array([1.0, 0.2, 4.0, 4.0, 12.0])
    np.testing.assert_allclose(weights, raw * len(raw) / raw.sum(), rtol=1e-6)
    assert weights.mean() == pytest.approx(1.0)


def test_each_head_learns_only_from_the_rows_that_label_it():
    targets = head_targets(ROWS, np.ones(len(ROWS), dtype=np.float32))
    polarity_label, polarity_weight, neutral_label, neutral_weight = targets.T
    assert polarity_weight.tolist() == [1, 1, 0, 1, 1]  # a neutral row teaches no polarity
    assert polarity_label.tolist() == [0, 1, 0, 1, 0]
    assert neutral_weight.tolist() == [0, 0, 1, 1, 1]  # Sentiment140 has no neutral: masked, not "not neutral"
    assert neutral_label.tolist() == [0, 0, 1, 0, 0]


def test_polarity_balance_evens_out_each_sets_negatives_and_positives():
    rows = [Example(t, NEGATIVE, "crowdflower_coachella_2015") for t in "ab"] + [
        Example(t, POSITIVE, "crowdflower_coachella_2015") for t in "cdefgh"] + [
        Example("i", NEUTRAL, "crowdflower_coachella_2015"),
        Example("j", NEGATIVE, "semeval2017_task4A_train_dev"), Example("k", POSITIVE, "semeval2017_task4A_train_dev"),
        Example("l", NEGATIVE, "sentiment140_pool", random_sample=True), Example("m", POSITIVE, "sentiment140_pool")]
    np.testing.assert_allclose(polarity_balance(rows, 0.0), 1.0)
    full = polarity_balance(rows, 1.0)
    assert full[:2].sum() == pytest.approx(full[2:8].sum())  # 2 negatives weigh as much as 6 positives
    assert full[:8].sum() == pytest.approx(8)  # the set keeps its total polarity weight
    np.testing.assert_allclose(full[8:], 1.0)  # neutral, an already balanced set, Sentiment140: untouched
    half = polarity_balance(rows, 0.5)
    assert 1 < half[0] < full[0] and full[2] < half[2] < 1 and half[:8].sum() == pytest.approx(8)
    polarity_weight, neutral_weight = head_targets(rows, np.ones(len(rows), dtype=np.float32), full)[:, [1, 3]].T
    np.testing.assert_allclose(polarity_weight[:8], full[:8], rtol=1e-6)
    np.testing.assert_allclose(neutral_weight[:11], 1.0)  # the neutral head is not rebalanced


def test_customer_polarity_balance_applies_to_the_customer_sets_only():
    rows = [Example("a", NEGATIVE, "crowdflower_coachella_2015")] + [
        Example(t, POSITIVE, "crowdflower_coachella_2015") for t in "bcd"] + [  # customer: 1 negative, 3 positives
        Example(t, NEGATIVE, "crowdflower_gop_debate") for t in "efg"] + [
        Example("h", POSITIVE, "crowdflower_gop_debate")]  # general: 3 negatives, 1 positive
    customer_only = polarity_balance(rows, 0.0, customer_strength=1.0)
    assert customer_only[0] == pytest.approx(customer_only[1:4].sum())  # the customer set is balanced
    np.testing.assert_allclose(customer_only[4:], 1.0)  # the debate keeps its own mix
    general_only = polarity_balance(rows, 1.0, customer_strength=0.0)
    np.testing.assert_allclose(general_only[:4], 1.0)
    assert general_only[4:7].sum() == pytest.approx(general_only[7])
    np.testing.assert_array_equal(polarity_balance(rows, 0.5, None), polarity_balance(rows, 0.5, 0.5))


def test_masked_loss_ignores_a_masked_head():
    from converter.network import masked_head_loss

    logits = np.array([[3.0, -20.0], [3.0, 20.0]], dtype=np.float32)  # the second row's neutral head is wrong
    unmasked = np.array([[1, 1, 0, 1], [1, 1, 0, 1]], dtype=np.float32)
    masked = np.array([[1, 1, 0, 1], [1, 1, 0, 0]], dtype=np.float32)
    loss_unmasked = np.asarray(masked_head_loss(unmasked, logits))
    loss_masked = np.asarray(masked_head_loss(masked, logits))
    assert loss_unmasked[1] > 19  # BCE of a confident wrong answer
    assert loss_masked[1] == pytest.approx(loss_masked[0], abs=1e-6) == pytest.approx(np.log1p(np.exp(-3.0)), abs=1e-5)


def test_the_three_probabilities_combine_the_heads():
    from converter.network import Calibration, probabilities_of_logits

    logits = np.array([[0.0, 0.0], [2.0, -1.0], [-30.0, 30.0], [40.0, -40.0]])
    p, n = 1 / (1 + np.exp(-logits[:, 0])), 1 / (1 + np.exp(-logits[:, 1]))
    expected = np.stack([(1 - n) * (1 - p), n, (1 - n) * p], axis=1)
    probabilities = probabilities_of_logits(logits, Calibration())
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert np.isfinite(probabilities).all()


def test_calibration_matches_the_predicted_shares_to_the_true_shares():
    """Heads whose logits are biased (too few neutral answers) get shares within a point after calibration."""
    from converter import calibrate
    from converter.network import Calibration, probabilities_of_logits

    rng = np.random.default_rng(0)
    labels = rng.choice([NEGATIVE, NEUTRAL, POSITIVE], size=6_000, p=[0.3, 0.45, 0.25])
    sign = np.where(labels == POSITIVE, 1.0, np.where(labels == NEGATIVE, -1.0, 0.0))
    polarity = sign * 2 + rng.normal(0, 1.5, 6_000)
    neutral = np.where(labels == NEUTRAL, 1.0, -1.0) * 1.2 - 1.5 + rng.normal(0, 1.5, 6_000)  # shifted down
    logits = np.stack([polarity, neutral], axis=1)
    before = calibrate.shares(probabilities_of_logits(logits, Calibration()))
    fitted = calibrate.fit(logits, labels)
    after = calibrate.shares(probabilities_of_logits(logits, fitted))
    true = np.array([np.mean(labels == label) for label in (NEGATIVE, NEUTRAL, POSITIVE)])
    assert np.max(np.abs(before - true)) > 0.1
    assert np.max(np.abs(after - true)) < 0.01
    assert Calibration.from_dict(fitted.to_dict()) == fitted


def test_every_train_option_defaults_to_its_dataclass():
    """Each default is written once: the command line reads it from the dataclass."""
    from converter.__main__ import EMBEDDING_PREFIX, parser
    from converter.convert import ParityLimits
    from converter.embeddings import EmbeddingConfig

    train = vars(parser().parse_args(["train"]))
    for cls, prefix in ((TrainConfig, ""), (EmbeddingConfig, EMBEDDING_PREFIX)):
        for f in dataclasses.fields(cls):
            if f.default is dataclasses.MISSING or not f.metadata.get("cli", True) or (prefix and f.name == "seed"):
                continue  # nested configurations, paths, and the embedding's seed (it follows --seed)
            assert train[prefix + f.name] == f.default, f.name
    convert = vars(parser().parse_args(["convert", "run"]))
    limits = ParityLimits()
    assert (convert["max_flip_rate"], convert["max_abs_diff"]) == (limits.max_flip_rate, limits.max_abs_diff)
    assert vars(parser().parse_args(["train", "--no-mlflow", "--embedding-dim", "50"]))["embedding_dim"] == 50
