"""Per-source extraction state, read back from the committed manifests.

The state a run starts from (the cursor of each incremental table, the content hashes of files
already handled) is whatever the committed manifests of that source say. It is written inside
the manifest, in the same atomic rename as the batch it belongs to, so a run that dies before
its manifest leaves the state exactly as it was, and the re-run loads the same input again.
"""

from __future__ import annotations

from connectors.landing import Manifest, read_manifests
from iochub.settings import Settings


class SourceState:
    """Watermarks and handled items of one source, as of its last committed manifest."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.watermarks: dict[str, str] = {}
        self.items: dict[str, str] = {}
        self.files: dict[str, str] = {}  # files read before: path -> "size:mtime_ns"
        for manifest in read_manifests(settings, source):
            self.follow(manifest)

    def follow(self, manifest: Manifest) -> None:
        """Take in a manifest just committed, as reading them all again would."""
        self.watermarks.update(manifest.watermark_after)
        self.items.update(manifest.items)
        self.files.update(manifest.seen_files)

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self.items
