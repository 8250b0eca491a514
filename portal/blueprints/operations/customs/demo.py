"""Demo placeholder, replaced below."""
