"""The pure core: records, schemas, merge and diff, the referral rules and the pull's
policy. No I/O, no git, no click; of this package it imports only itself and errors."""
