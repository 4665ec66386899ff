"""`intake demo`: the whole job on the embedded defaults, with the sample mailbox."""

from __future__ import annotations

import shutil
from pathlib import Path

from intake.sources.maildir import MaildirSource

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "maildir"


def seed_maildir(target: Path, samples: Path = SAMPLES) -> int:
    """Put every sample email into the demo Maildir's new/ folder again.

    The demo mailbox is reset to the samples on each run, so a second run sees the same
    messages again; the database must recognise them and store nothing twice.
    """
    MaildirSource(target)  # creates the folders
    count = 0
    for sub in ("new", "cur"):
        folder = samples / sub
        if not folder.is_dir():
            continue
        for file in sorted(folder.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                shutil.copyfile(file, target / "new" / file.name.split(":", 1)[0])
                count += 1
    return count
