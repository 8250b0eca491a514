"""Dashboard panels of the operations register."""
