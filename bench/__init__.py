"""Benchmarks run by ``make bench``: alternatives timed side by side in one run, as ratios."""
