"""The fault suite: real processes, real faults, numbers from the system's own records.

`python -m tests.chaos.run` (or `make chaos`) runs every row and writes results.md;
test_short.py runs a quick subset inside `make test`.
"""
