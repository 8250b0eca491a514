"""Demo archive: loaded in demo.py's loader (order 70)."""
