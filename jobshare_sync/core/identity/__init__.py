"""Identity: one source, one record, across the whole network (DESIGN sections 3 and 9).

Pure functions (no I/O, no git, no click) for finding contacts that are likely one
source, combining them by hand, and keeping every repository in agreement about
which record a source lives in.

Finding (matching.py)
    `find_duplicates(records, region=, min_score=, only=)` groups contacts by strong
    reasons (same email, same phone number, same web site, similar name) and weak
    ones (similar organisation, same email or web domain), each with the values and
    JSON pointers in both records, and a score; it compares only records that share a
    blocking key, never all pairs.

Combining (combining.py, notes.py)
    `combine(keep, others, chosen_fields)` makes one record of several and loses
    nothing: the union of every set value, every record's notes under a line naming
    it, and for single-valued fields that differ the value taken and the values not
    taken (`FieldChoice`, for the commit message). Its result does not depend on the
    order of `others`.

Aliases (aliases.py)
    A combined record does not vanish: `contacts/<other>.yaml` becomes an alias,

        id: acme-ltd-x9z3
        alias_of: acme-recruiting-7k2q      # the survivor (or the next alias)
        alias_reason: combined              # combined | renamed
        alias_by: bob                       # who combined it
        alias_at: '2026-10-03T09:15:00Z'    # when
        added_by: alice                     # who added the record, as before

    valid by the contact schema's second shape (`if alias_of then` only these six
    fields). `rename(record, new_id)` writes the record under its new id and leaves
    the same alias (`alias_reason: renamed`). `resolve(id, aliases)` follows
    `alias_of` to the survivor: labels, `show`, `edit`, a referral's `client` all lead
    there. A survivor's notes keep each combined record's notes under
    `From contacts/<id> (added by <handle>):`, which is how later edits find their
    place.

Converging (converge.py)
    A combine travels by pull like any other change. `merge_identities(changed,
    lookup=, theirs_handle=)` takes the contacts a pull found changed, decides those
    an alias touches on any side, and leaves the rest to the ordinary merge. Rules,
    each computed alike by every repository from the versions it meets:

    1. An alias is never removed by a pull. A record that is an alias on either side
       is an alias in the result; a side that deleted it is told so.
    2. Two aliases of one id that differ (alice combined X into A, bob X into B):
       the earlier `alias_at` stands (then the smaller target id, then who); the
       later survivor keeps what it took in, so nothing is lost, and is simply a
       duplicate of the other to combine by hand.
    3. Cycles (alice keeps A and bob keeps B at once; or A into B, B into C and C into
       A): the latest alias of the cycle is undone, so its record survives and the
       others lead to it: the earlier combines stand. Only records some side still
       holds as records are brought back this way while there is one in the cycle
       (one whose content went on into another record would come back empty). If
       the undone record has another alias candidate, that one is tried next.
    4. Chains (A into B here, B into C there) are kept as they are and followed to
       their end: one survivor.
    5. Two renames of one record: the earlier stands, and the later one's new record
       becomes an alias (renamed) of it, its content carried over.
    6. Edits that a side made to a record before that record became an alias there
       (a new phone, a note, a role) are carried into its survivor
       (`carry_into_survivor`): set items added join and items removed leave (unless
       the survivor held them itself); note edits are merged into the survivor's
       section for that record (a rename's own notes stay its own); a single value
       is taken where the survivor held the value it replaced, otherwise the
       survivor keeps its own and the pull reports the edit not taken. No
       delete/modify conflict arises, and nothing added is dropped.
    7. A survivor's own file merges three-way as any record; where its notes
       conflict, and for any contact whose notes hold other records' sections, they
       are merged again part by part (`merge_notes_by_source`): a new section's base
       is the notes its record had in the merge base, or its text in another merge
       base after criss-cross merges; two copies of one record's section that came
       by two routes with no base merge on the lines both hold; and where the only
       difference is that one copy holds more lines than the other, in order, the
       larger is taken. Two edits of one part remain a conflict.
    8. Combining never deletes: an alias keeps `added_by`, and the deletion rules of
       DESIGN section 3 are unchanged for survivors.
"""

from __future__ import annotations

from .aliases import (
    ALIAS_FIELDS,
    REASONS,
    Settled,
    alias_path,
    alias_rank,
    is_alias,
    make_alias,
    preferred_alias,
    rename,
    resolve,
    settle_aliases,
)
from .combining import (
    Carried,
    Combination,
    FieldChoice,
    carry_into_survivor,
    combine,
    value_key,
)
from .converge import IdentityMerge, merge_identities
from .matching import (
    COMMON_WORDS,
    DuplicateGroup,
    Match,
    Reason,
    candidate_pairs,
    find_duplicates,
    match_pair,
    name_similarity,
)
from .notes import (
    Section,
    carry_notes,
    combine_notes,
    join_notes,
    merge_notes_by_source,
    split_notes,
)

__all__ = [
    "ALIAS_FIELDS",
    "COMMON_WORDS",
    "REASONS",
    "Carried",
    "Combination",
    "DuplicateGroup",
    "FieldChoice",
    "IdentityMerge",
    "Match",
    "Reason",
    "Section",
    "Settled",
    "alias_path",
    "alias_rank",
    "candidate_pairs",
    "carry_into_survivor",
    "carry_notes",
    "combine",
    "combine_notes",
    "find_duplicates",
    "is_alias",
    "join_notes",
    "make_alias",
    "match_pair",
    "merge_identities",
    "merge_notes_by_source",
    "name_similarity",
    "preferred_alias",
    "rename",
    "resolve",
    "settle_aliases",
    "split_notes",
    "value_key",
]
