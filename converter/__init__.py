"""Offline tools: train the BiLSTM, convert it to a TFLite bundle, publish and evaluate it."""
