"""The demo's embedded default: the hand-written XML 130 inbox, copied into the demo province.

``ioc sim seed`` puts the fixture files where a hospital system would drop them
(``IOC_HOME/sim/health/xml130/inbox``). The full simulated province (issue: demo province) will
write into the same folders; this module only ships the small known-answer set.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
XML130_INBOX = FIXTURES / "xml130" / "inbox"


def seed_xml130_inbox(sim_dir: Path) -> Path:
    """Copy the fixture inbox into ``sim_dir``; files already there are left as they are."""
    target = sim_dir / "health" / "xml130" / "inbox"
    for path in sorted(XML130_INBOX.rglob("*.xml")):
        dest = target / path.relative_to(XML130_INBOX)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    return target
