"""Benchmarks of etl_service: each figure is a ratio against a baseline measured in the same run.

``python -m bench`` (``make bench``) runs every figure and writes ``bench/results.json`` and
``bench/RESULTS.md``; ``python -m bench --help`` lists the options.
"""
