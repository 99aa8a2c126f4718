"""Connector kinds: the code for each kind of source, written once, driven by the registry."""
