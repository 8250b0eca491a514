"""Demo data for the knowledge base (filled in below)."""
