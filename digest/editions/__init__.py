"""The edition store: the one owner of what an edition is and where it lives.

    ids.py       edition ids (2026-W47, 2026-11-02_2026-11-10, 2026-W47-r2) and slugs
    layout.py    the folder layout under the output folder
    manifest.py  manifest.json and index.json, as `digest build` writes them
    write.py     writing an edition folder in one swap
    read.py      reading editions for the preview (tolerant)
    built.py     reading one newsletter's edition for the sender (strict)

and, in the database, each newsletter's lifecycle (draft -> sending -> sent):

    states.py    the states
    frozen.py    the copy the first real send freezes: what every run sends, what the archive shows
    lease.py     one writer at a time: a send of a newsletter, or a build of the edition
    lifecycle.py what a build may write (drafts only), and corrections (2026-W47-r2)

Build, send, preview and the archive all go through here.
"""

from digest.editions.built import BuiltEdition, load_built
from digest.editions.ids import check_names, is_edition_id, is_slug
from digest.editions.read import Edition, Newsletter, list_editions, read_edition

__all__ = [
    "BuiltEdition",
    "Edition",
    "Newsletter",
    "check_names",
    "is_edition_id",
    "is_slug",
    "list_editions",
    "load_built",
    "read_edition",
]
