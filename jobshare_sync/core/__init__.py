"""The pure core: records, schemas, merge and diff. No I/O, no git, no click."""
