"""Developer tools, never imported by the pipeline: the demo export generator (`demo/`), seeding an
empty data directory with it (`seed_demo`, what `make run` calls first) and the benchmark (`bench`).
They may import anything in `orchestration/` and `schemas/`.
"""
