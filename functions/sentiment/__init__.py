"""Sentiment scoring of tweets: tokenizer, model bundle, runtime and telemetry."""
