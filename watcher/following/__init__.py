"""Following a dossier, from its first alert to its decrees.

- ``identity``: what names a dossier (its key, its law, a name a user types);
- ``steps``: what a step is called, when a dossier ends;
- ``plan``: which stored texts a poll shows to be steps, and who gets them (pure);
- ``streams``: a followed dossier's own stream, read like a source;
- ``report``: ``watcher dossiers``, each dossier and its steps.

The dossiers and their followers are stored by ``store/dossiers.py``.
"""

from watcher.following.identity import (
    cited_laws,
    cites,
    follow_keys,
    law_of,
    parse_dossier,
    subject_of,
)
from watcher.following.steps import (
    FOLLOW_AFTER_LAW,
    ends_at,
    is_followed,
    stage_label,
    step_date,
    step_key,
)

__all__ = [
    "FOLLOW_AFTER_LAW",
    "cited_laws",
    "cites",
    "ends_at",
    "follow_keys",
    "is_followed",
    "law_of",
    "parse_dossier",
    "stage_label",
    "step_date",
    "step_key",
    "subject_of",
]
