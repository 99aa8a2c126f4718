"""iochub package."""
