"""expectations package."""
