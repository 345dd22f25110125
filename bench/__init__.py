"""Benchmarks: run with ``python -m bench.<name>``; each prints its measurement and the ratio that matters."""
