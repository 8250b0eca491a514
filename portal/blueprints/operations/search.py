"""Orders and their events in the search index (kind `order`)."""
