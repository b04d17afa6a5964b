"""The private side (DESIGN section 7c, README "What is private").

`side` reads and writes private records and notes, `moving` shares and unshares a
record, `travel` carries the private branch to and from the user's own private
remote, `views` lays private records and notes over `list` and `show`, and
`history` is `log --private` and `diff --private`. The storage is `Store.private`
(store/private.py).
"""
