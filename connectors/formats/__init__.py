"""File formats the ``files`` kind reads: each turns one file into records per table."""

from __future__ import annotations


class UnreadableFile(Exception):
    """A file that cannot be read into records at all; ``reason`` is machine-readable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[UnreadableFile], tuple[str, str]]:
        # Rebuilt from both fields when it crosses from a decoding process.
        return (type(self), (self.reason, self.detail))
