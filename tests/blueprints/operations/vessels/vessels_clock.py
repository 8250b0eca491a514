"""The fixed time the vessel call tests place their calls around (a Monday, 12:00 in Shanghai)."""
from datetime import UTC, datetime

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
