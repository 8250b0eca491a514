"""Demo data: below."""
