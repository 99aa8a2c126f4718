"""Per-source extraction state under ``IOC_HOME/state/<source>/``, committed after the manifest.

For file drops the state is the set of content hashes already handled (landed or quarantined),
so a file re-sent under another name, or the same inbox scanned twice, is not loaded twice,
while a corrected file (new content) is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from iochub.settings import Settings


class SeenFiles:
    """Content hashes of the files a source has already handled, with the run that did it."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.path = settings.state_dir / source / "files_seen.json"
        self.entries: dict[str, dict[str, str]] = (
            json.loads(self.path.read_text()) if self.path.exists() else {}
        )

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self.entries

    def add(self, sha256: str, item: str, run_id: str, outcome: str) -> None:
        self.entries[sha256] = {"item": item, "run_id": run_id, "outcome": outcome}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp: Path = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
