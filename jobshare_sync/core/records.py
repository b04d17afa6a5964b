"""Records: ids, labels, and the canonical YAML form they are read from and written in.

Loading is strict on purpose: records come from friends' repositories, so aliases,
tags, duplicate keys, deep nesting, huge files and undecodable bytes are errors with
the file and line, never a crash and never code run. Dates stay strings (YAML 1.1
would turn `2026-11-01` into a date object). Every text is brought to the normal form
as it is read (NFC, `\\n` line ends, no byte-order mark), and a document read for a
record path (`contacts/...`, `referrals/...`) to the record normal form of
`core/normal.py`: whatever way a record comes in, it is compared, merged and written
in one form. Plain scalars that YAML reads as something else than text (`yes`, `~`,
`0123`, a bare date) are noted, so that the checks can say so where text is meant.

Writing is canonical: keys in the schema's order, block style, literal blocks for
multi-line text, one trailing newline, values that any YAML reads specially quoted;
the same record always gives the same bytes.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import yaml

from ..errors import InvalidRecordError, LabelError, RecordError
from .values import normal_text, shorten, words

FOLDERS = ("contacts", "referrals")
KIND_OF_FOLDER = {"contacts": "contact", "referrals": "referral"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
MAX_RECORD_BYTES = 1024 * 1024
MAX_DEPTH = 20
SCHEMA_COMMENT_PREFIX = "# yaml-language-server: $schema="
FORMAT = 2
"""The newest record format this jobshare reads and writes (DESIGN section 2).

Format 2 added a contact's `links`, `address` and `connected`. A field added after
format 1 carries `x-since` in its schema; a record that uses one says so in its own
`format` field, so that a jobshare which knows fewer formats can tell a field from a
newer format (the record's `format` is higher than its own `FORMAT`) from a typo.
"""

try:  # the C loader is about six times faster; fall back when libyaml is missing
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True)
class Loaded:
    """A parsed YAML document, the line (1-based) of each JSON pointer in it, and the
    plain scalars that YAML reads as something else than text (pointer -> as written)."""

    data: Any
    lines: dict[str, int]
    specials: dict[str, str] = field(default_factory=dict)

    def line_of(self, pointer: str) -> int:
        """The line of `pointer`, or of its nearest ancestor that has one."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return 1
            pointer = pointer.rsplit("/", 1)[0]


class _Loader(_BaseLoader):
    """The safe loader with a memo of plain scalars' implicit tags.

    The C parser asks Python to resolve every scalar's tag by regular expressions;
    records repeat the same keys and many values, so a memo halves the parse time.
    Plain text that other YAMLs read as a number or a boolean (`1e3`, `y`) gets a tag
    of its own here, so that the memo also says which text to note as special.
    """

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _TAG + "str"
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if tag == _TAG + "str" and _special_text(value):
                    tag = _SPECIAL_TEXT
                if len(_PLAIN_TAGS) < 100_000:
                    _PLAIN_TAGS[value] = tag
            return tag
        return _TAG + ("map" if kind is yaml.MappingNode else "seq")


_PLAIN_TAGS: dict[str, str] = {}
_SPECIAL_TEXT = "tag:jobshare-sync.invalid,2026:plain-text-read-otherwise"


# the markers git (and diff3) leave in a file it could not merge, each at a line's start
_CONFLICT_MARKER = re.compile(r"^<{7}(?: |$)", re.MULTILINE)
_CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.MULTILINE)


def load_yaml(raw: bytes, path: str, *, lines: bool = True, normal: bool = True) -> Loaded:
    """Parse one YAML document strictly; raise RecordError naming path and line.

    `lines=False` skips the map from JSON pointers to lines, which only a report of
    problems needs (re-parse with lines then). The text comes out in the normal form,
    and a record path's document in the record normal form; `normal=False` gives the
    text exactly as written (to tell whether a file is in the normal form).
    """
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(
            path,
            f"file is {len(raw):,} bytes, over the {MAX_RECORD_BYTES:,}-byte limit for a record",
        )
    if b"\x00" in raw:
        raise RecordError(path, "binary file (contains NUL bytes), not YAML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise RecordError(path, "not valid UTF-8 text", line) from None
    marker = _CONFLICT_MARKER.search(text)
    if marker is not None and _CONFLICT_END.search(text):
        line = text[: marker.start()].count("\n") + 1
        raise RecordError(
            path,
            f"unresolved merge conflict markers at line {line}: edit the file to one version, "
            "or finish the merge ('jobshare conflicts' or git's own)",
            line,
        )
    loader = _Loader(text)  # libyaml drops a byte-order mark at the start
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        raise RecordError(path, *_syntax_error(e)) from None
    except yaml.reader.ReaderError as e:  # a control character: its message spans two lines
        where = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise RecordError(path, f"the character {char} is not allowed in YAML", where) from None
    except yaml.YAMLError as e:
        raise RecordError(path, f"YAML syntax error: {' '.join(str(e).split())}") from None
    finally:
        loader.dispose()
    if node is None:
        return Loaded(None, {})
    line_map: dict[str, int] | None = {} if lines else None
    specials: dict[str, str] = {}
    kind = _record_kind(path) if normal else None
    form: TextForm = AS_WRITTEN if not normal else UNIVERSAL
    if kind is not None:
        from .normal import shape  # it reads the schemas, which build on this module

        form = shape(kind)  # a record's text: the normal form of each field
    data = _construct(node, "", path, line_map, specials, set(), 0, form)
    return Loaded(data, line_map or {}, specials)


class TextForm:
    """How the text of one place in a document is brought to its normal form: `fix` a
    text there, and the form of its items (`item`) and of its fields (`child`). This
    one, for documents that are no records, applies NFC and line ends everywhere;
    `normal.Shape` does each record field's own."""

    def fix(self, text: str) -> str:
        return normal_text(text, single_line=False)

    def item(self) -> TextForm:
        return self

    def child(self, key: str) -> TextForm:
        return self


class _AsWritten(TextForm):
    def fix(self, text: str) -> str:
        return text


UNIVERSAL = TextForm()
AS_WRITTEN = _AsWritten()


def _record_kind(path: str) -> str | None:
    """The kind of record a path names (`contacts/x.yaml` -> contact), or None."""
    folder, slash, name = path.partition("/")
    if not slash or "/" in name or not name.endswith(".yaml"):
        return None
    return KIND_OF_FOLDER.get(folder)


def _syntax_error(e: yaml.MarkedYAMLError) -> tuple[str, int | None]:
    """A plain message and the most useful line for a YAML syntax error."""
    problem = e.problem or "invalid YAML"
    line = e.problem_mark.line + 1 if e.problem_mark else None
    if e.context and e.context_mark and "end of stream" in problem:
        # an unclosed quote or bracket: where it opened helps more than the end of the file
        what = e.context.removeprefix("while scanning ").replace("scalar", "text")
        return f"YAML syntax error: {what} starts here and is never closed", e.context_mark.line + 1
    if "mapping values are not allowed" in problem:
        problem += " (put text that contains ': ' in quotes)"
    return f"YAML syntax error: {problem}", line


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _construct(
    node: yaml.Node,
    pointer: str,
    path: str,
    lines: dict[str, int] | None,
    specials: dict[str, str],
    seen: set[int],
    depth: int,
    form: TextForm,
    used_at: int | None = None,
) -> Any:
    """Build plain Python values from a node graph, rejecting what records never need.

    Text comes out in the normal form; plain scalars YAML reads as something else than
    text go into `specials` by pointer.
    """
    line = node.start_mark.line + 1
    if id(node) in seen:
        # the C composer resolves aliases into shared nodes: a node met twice is an alias
        raise RecordError(path, "YAML aliases (*name) are not allowed in records", used_at or line)
    seen.add(id(node))
    if depth > MAX_DEPTH:
        raise RecordError(path, f"nested deeper than {MAX_DEPTH} levels", line)
    if lines is not None:
        lines.setdefault(pointer, line)
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag == _TAG + "str":  # the common case first
            return form.fix(node.value)
        plain = not node.style  # libyaml gives '' for plain scalars, PyYAML None
        if plain and (tag in _IMPLICIT_ONLY or tag == _SPECIAL_TEXT):
            specials[pointer] = node.value  # `=`, `<<` or `1e3` as a value: text, but noted
            return node.value
        if tag not in _SCALAR_TAGS:
            raise RecordError(path, f"YAML tag {_show_tag(tag)!r} is not allowed in records", line)
        if plain:
            specials[pointer] = node.value
        if tag == _TAG + "timestamp":
            return form.fix(node.value)
        try:
            return _SCALAR_CONSTRUCTORS[node.tag](node)
        except (yaml.YAMLError, ValueError, KeyError) as e:  # KeyError: `!!bool maybe`
            raise RecordError(path, f"bad scalar {shorten(node.value)!r}: {e}", line) from None
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _TAG + "seq":
            raise RecordError(
                path, f"YAML tag {_show_tag(node.tag)!r} is not allowed in records", line
            )
        inner = form.item()
        return [
            _construct(item, f"{pointer}/{i}", path, lines, specials, seen, depth + 1, inner, line)
            for i, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.MappingNode):
        if node.tag != _TAG + "map":
            raise RecordError(
                path, f"YAML tag {_show_tag(node.tag)!r} is not allowed in records", line
            )
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _TAG + "merge":
                raise RecordError(path, "only plain keys are allowed in records", key_line)
            key = key_node.value
            if key in result:
                raise RecordError(path, f"duplicate key {key!r}", key_line)
            child = f"{pointer}/{_escape_pointer(key)}"
            if lines is not None:
                lines[child] = key_line
            result[key] = _construct(
                value_node, child, path, lines, specials, seen, depth + 1, form.child(key), key_line
            )
        return result
    raise RecordError(path, "unsupported YAML node", line)  # pragma: no cover


_SCALARS = yaml.SafeLoader("")
# called directly rather than through construct_object, which caches every node it sees
_SCALAR_CONSTRUCTORS = {
    _TAG + "int": _SCALARS.construct_yaml_int,
    _TAG + "float": _SCALARS.construct_yaml_float,
    _TAG + "bool": _SCALARS.construct_yaml_bool,
    _TAG + "null": _SCALARS.construct_yaml_null,
}


def _escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if "~" in key or "/" in key else key


# --- values YAML reads specially -------------------------------------------------------

_IMPLICIT_ONLY = {_TAG + "value", _TAG + "merge"}  # `=` and `<<`: only ever implicit
# what YAML 1.2 (and the YAML 1.1 specification, beyond PyYAML) reads as numbers and
# booleans, while PyYAML reads text: other tools, editors among them, read them so
_OTHER_YAML_SPECIAL = re.compile(
    r"^(?:[-+]?[0-9]+|0o[0-7]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[yYnN])$"
)
_RESOLVER = yaml.resolver.Resolver()


def _special_text(text: str) -> bool:
    """Whether plain text that PyYAML reads as text is read otherwise by other YAMLs."""
    return len(text) < 40 and _OTHER_YAML_SPECIAL.match(text) is not None


@lru_cache(maxsize=1024)
def plain_reading(text: str) -> str | None:
    """What YAML makes of `text` written plain (unquoted), when that is not text:
    `plain_reading("NO") == "false"`, `plain_reading("0123") == "the number 83"`,
    `plain_reading("~") == "an empty value (null)"`; None for plain text."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    node = yaml.ScalarNode(tag, text)
    if tag == _TAG + "str":
        if not _special_text(text):
            return None
        if text in ("y", "Y", "n", "N"):
            return "true" if text in "yY" else "false"
        number: int | float = int(text, 8) if text.startswith("0o") else float(text)
        if isinstance(number, float) and number.is_integer() and abs(number) < 1e16:
            number = int(number)
        return _number_reading(text, number)
    if tag == _TAG + "null":
        return "an empty value (null)" if text else "no value at all"
    if tag == _TAG + "bool":
        return "true" if _SCALARS.construct_yaml_bool(node) else "false"
    if tag in (_TAG + "int", _TAG + "float"):
        try:
            value = _SCALAR_CONSTRUCTORS[tag](node)
        except (yaml.YAMLError, ValueError, KeyError):
            value = None
        return _number_reading(text, value) if isinstance(value, int | float) else "a number"
    if tag == _TAG + "timestamp":
        return "a date" if len(text) <= 10 else "a date and time"
    if tag == _TAG + "value":
        return "a special symbol (YAML's default value)"
    if tag == _TAG + "merge":
        return "a merge key"
    return f"a value of type {_show_tag(tag)}"  # pragma: no cover - the resolver knows no other


def _number_reading(text: str, value: float) -> str:
    if value != value:
        return "not-a-number (NaN)"
    if value in (float("inf"), float("-inf")):
        return "infinity" if value > 0 else "minus infinity"
    shown = str(value)
    if shown == text:
        return "a number"
    if ":" in text:
        return f"the number {shown} (base 60)"
    if re.match(r"^[-+]?0[0-7_]+\Z", text):
        return f"the number {shown} (octal)"
    return f"the number {shown}"


def record_format(data: Mapping[str, Any]) -> int:
    """The format a record says it needs: its `format` field, 1 when absent or not a number."""
    value = data.get("format")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def is_newer(data: Any) -> bool:
    """Whether a parsed record says it needs a format this jobshare does not know."""
    return isinstance(data, dict) and record_format(data) > FORMAT


# --- writing -------------------------------------------------------------------------


class _Dumper(_BaseDumper):
    """Safe dumper with literal blocks for multi-line strings."""


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar(_TAG + "str", value, style="|")
    if _special_text(value):  # text that other YAMLs read as a number: quoted too
        return dumper.represent_scalar(_TAG + "str", value, style="'")
    return dumper.represent_scalar(_TAG + "str", value)


_Dumper.add_representer(str, _represent_str)


def order_keys(data: Any, order: Sequence[str], nested: Mapping[str, Sequence[str]]) -> Any:
    """Return `data` with keys in schema order (unknown keys after, sorted)."""
    if not isinstance(data, dict):
        return data
    rank = {k: i for i, k in enumerate(order)}
    keys = sorted(data, key=lambda k: (rank.get(k, len(rank)), str(k)))
    out: dict[str, Any] = {}
    for k in keys:
        value = data[k]
        sub = nested.get(k)
        if sub is not None:
            if isinstance(value, list):
                value = [order_keys(v, sub, {}) for v in value]
            elif isinstance(value, dict):
                value = order_keys(value, sub, {})
        out[k] = value
    return out


def dump_yaml(data: Any, schema_comment: str | None = None) -> bytes:
    """Serialise already-ordered data in the canonical block style."""
    try:
        text = yaml.dump(
            data,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100_000,
            indent=2,
        )
        if schema_comment:
            text = f"{SCHEMA_COMMENT_PREFIX}{schema_comment}\n{text}"
        return text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: undecodable bytes from the command line
        bad = e.object[e.start : e.end]
        raise InvalidRecordError(
            f"text with {bad!r}, which is not a character, cannot be written: "
            "give the value as UTF-8 text"
        ) from None


# --- ids and labels ------------------------------------------------------------------


class Label(NamedTuple):
    """Names one record: `contacts/<id>` or `referrals/<id>`.

    A named tuple, not a dataclass: sorting and hashing 100,000 labels must be cheap.
    """

    folder: str
    id: str

    def __str__(self) -> str:
        return f"{self.folder}/{self.id}"

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.id}.yaml"

    @property
    def kind(self) -> str:
        return KIND_OF_FOLDER[self.folder]


def label_of_path(path: str) -> Label | None:
    """The label of a record path (`contacts/x.yaml`), or None if it is not one."""
    parts = path.split("/")
    if len(parts) != 2 or parts[0] not in FOLDERS or not parts[1].endswith(".yaml"):
        return None
    record_id = parts[1][: -len(".yaml")]
    if not ID_RE.match(record_id):
        return None
    return Label(parts[0], record_id)


@dataclass(frozen=True)
class Skipped:
    """A path that holds no record, or a record left out of a merge, with the reason."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def parse_label(text: str, known: Iterable[Label] = ()) -> Label:
    """Parse `contacts/<id>`, `contacts/<id>.yaml` or a bare `<id>` (unambiguous among known)."""
    text = text.strip().removesuffix(".yaml").strip("/")
    if not text:
        raise LabelError("an empty label names no record: run 'jobshare list' to see the records")
    if "/" in text:
        folder, _, record_id = text.partition("/")
        if folder not in FOLDERS:
            raise LabelError(f"'{text}' is not a label: use contacts/<id> or referrals/<id>")
        if not ID_RE.match(record_id):
            raise LabelError(f"'{record_id}' is not a valid record id")
        return Label(folder, record_id)
    known = list(known)
    matches = [label for label in known if label.id == text]
    if not matches:  # a unique prefix is enough, as with git's short hashes
        matches = [label for label in known if label.id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        options = " or ".join(str(m) for m in sorted(matches))
        raise LabelError(f"'{text}' is ambiguous: say {options}")
    raise LabelError(f"no record '{text}': run 'jobshare list' to see the records")


Titles = Callable[[], Mapping[Label, str]]


def match_label(text: str, known: Iterable[Label], titles: Titles | None = None) -> Label:
    """The record a user means by `text`, found the same way by every command.

    In this order: an exact label (`contacts/<id>`, `.yaml` allowed), an exact id, a
    unique prefix of an id (as with git's short hashes), then the record's name (a
    contact's `name`, a referral's `title`) compared after NFC, case folding and accent
    folding: first the whole name (`"zoe lukasiewicz"` finds "Zoë Łukasiewicz"), then
    names whose words start with the words typed (`lukas`). `titles()` gives each known
    record's name; it is called only when no id matches. Raises LabelError for no
    match or several (naming them).
    """
    known = list(known)
    try:
        return parse_label(text, known)
    except LabelError as e:
        # a name may hold a slash ("Acme / Partners"): that is no label either
        if titles is None or not ("no record" in str(e) or "is not a label" in str(e)):
            raise
        missing = e
    wanted = words(text)
    if not wanted:
        raise missing
    among = set(known)
    names = {label: words(title) for label, title in titles().items() if label in among}
    found = [label for label, name in names.items() if name == wanted]
    if not found:
        found = [
            label
            for label, name in names.items()
            if all(any(w.startswith(typed) for w in name) for typed in wanted)
        ]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = " or ".join(str(label) for label in sorted(found)[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise LabelError(f"'{text}' is ambiguous: say {options}{more}")
    raise missing


def slugify(name: str) -> str:
    """A lower-case ASCII slug of a name, at most 40 characters, in any script:
    `Zoë Łukasiewicz` -> `zoe-lukasiewicz`, `Ωmega` -> `omega`, `Дмитрий` -> `dmitriy`,
    `山田太郎` -> `shan-tian-tai-lang` (transliterated by `anyascii`; each ideograph
    becomes a syllable of its own)."""
    from anyascii import anyascii  # its tables load on first use: only new ids need it

    parts = []
    for char in unicodedata.normalize("NFC", name):
        if char.isascii():
            parts.append(char)
            continue
        latin = anyascii(char)
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        parts.append(f" {latin} " if wide and latin[:1].isupper() else latin)
    slug = re.sub(r"[^a-z0-9]+", "-", "".join(parts).lower()).strip("-")
    return slug[:40].rstrip("-") or "record"


def new_id(name: str, taken: Iterable[str] | Callable[[str], bool] = ()) -> str:
    """A fresh id: slug of the name plus a random suffix, so friends never mint the same one.

    `taken` is the ids in use, or a test of whether one is (cheaper than listing them all).
    """
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    is_taken = taken if callable(taken) else set(taken).__contains__
    while True:
        suffix = "".join(secrets.choice(alphabet) for _ in range(4))
        candidate = f"{slugify(name)}-{suffix}"
        if not is_taken(candidate):
            return candidate
