"""Values: the normal form of one field's text, and the keys values are compared by.

The normal form (DESIGN section 1) is applied to every record wherever it enters (see
`core/normal.py`, which applies these functions field by field): Unicode NFC, `\\n`
line ends, no byte-order mark, single-line values trimmed; date-times in UTC with `Z`.

Everything that compares two values of a record (the `set` merge, duplicate matching,
import matching, search) goes through the keys here, so that two spellings of one
email, phone number or web site are one value everywhere:

- text is Unicode NFC (RFC 5198 recommends NFC for interchange);
- emails compare case-insensitively, the whole address, as mail providers treat them;
- tags and industries compare case-insensitively;
- phone numbers compare as numbers (E.164, RFC 3966 extensions), parsed by
  `phonenumbers`, with the owner's default region for numbers without a country code;
- web sites compare by host, without `www.`, scheme, path or trailing slash; on a host
  many people share (linkedin.com, gmail.com: `SHARED_HOSTS`) the path tells them apart;
- names of people and organisations compare by their folded words, without a legal
  form at the end (`Ltd`, `GmbH`, `S.A.`: `LEGAL_SUFFIXES`);
- date-times compare as instants (RFC 3339), not as text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_REGION = "ZZ"  # phonenumbers' "unknown region": only +CC numbers parse

# --- text ------------------------------------------------------------------------------

# What is trimmed from both ends of a single-line value: white space (Unicode's Zs and
# the ASCII spaces and line ends), and the invisible characters pasted text brings along
# (zero-width space, word joiner, a byte-order mark).
TRIMMED = (
    " \t\n\x0b\x0c\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u2060\ufeff"
)
BOM = "\ufeff"


def nfc(text: str) -> str:
    """`text` in Unicode Normalization Form C (composed accents)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def clean_line(text: str) -> str:
    """Foreign single-line text (an imported card or row) made fit for a record: NFC, each
    control character or line break a space, trimmed. `clean_line(" Acme\nLtd ") == "Acme Ltd"`."""
    text = nfc(text)
    if not text.isprintable():
        text = "".join(" " if _is_control(c) else c for c in text)
    return text.strip()


def clean_text(text: str) -> str:
    """Foreign multi-line text (an imported note) made fit for a record: NFC, `\n` line ends, no other
    control characters than tabs, no spaces at line ends, no blank lines at either end,
    and one final newline when anything is left (as a YAML literal block keeps it)."""
    lines = _BREAKS.split(nfc(text))
    kept = []
    for line in lines:
        if not line.isprintable():
            line = "".join(c for c in line if c == "\t" or not _is_control(c))
        kept.append(line.rstrip())
    body = "\n".join(kept).strip("\n")
    return body + "\n" if body.strip() else ""


def normal_text(text: str, *, single_line: bool) -> str:
    """`text` in the normal form: NFC, `\\n` line ends (CR LF and CR become LF), no
    leading byte-order mark; a single-line value also trimmed of white space (and of
    zero-width characters) at both ends. Idempotent; control characters are kept, for
    the checks to refuse (see `control_characters`).
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if single_line:
        return text.strip(TRIMMED)
    return text.lstrip(BOM) if text.startswith(BOM) else text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and line feed allowed
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BS",
    0x09: "TAB",
    0x0A: "line break",
    0x0B: "VT",
    0x0C: "FF",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
    0x85: "NEL",
    0x9B: "CSI",
}


def control_characters(text: str, *, single_line: bool) -> list[str]:
    """The control characters `text` holds that its field does not allow, each named
    once, as `U+001B (ESC)`: every C0 and C1 control in a single-line value; in
    multi-line text, all but tab and line feed."""
    pattern = _CONTROL if single_line else _CONTROL_IN_TEXT
    if pattern.search(text) is None:
        return []
    found = dict.fromkeys(pattern.findall(text))
    return [describe_character(c) for c in found]


def describe_character(char: str) -> str:
    """`U+001B (ESC)`: a character's code point, and its name where it has a short one."""
    name = _CONTROL_NAMES.get(ord(char))
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut to about `limit` characters, so that a message never echoes a long value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fold(text: str) -> str:
    """A search and lookup key: NFC, case folded, accents removed.

    `fold("Zoë Łukasiewicz") == fold("zoe lukasiewicz")`. Letters without a
    decomposition (ł, ø, ß) are folded by transliteration to ASCII where that is
    one letter, so that people who cannot type the accent still find the record.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


_FOLD_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae"})


def words(text: str) -> list[str]:
    """The folded words of `text` (letters and digits), for matching names by word."""
    return [w for w in re.split(r"[\W_]+", fold(text)) if w]


# --- keys ------------------------------------------------------------------------------


def email_key(email: str) -> str:
    """The key two spellings of one email address share: the whole address, case folded."""
    return nfc(email.strip()).casefold()


def word_key(text: str) -> str:
    """The key of a tag or an industry: NFC, trimmed, case folded."""
    return nfc(text.strip()).casefold()


@lru_cache(maxsize=4096)
def phone_key(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The number `text` names, as E.164 (`+441234567890`, `;ext=12` when given).

    `region` (ISO 3166 alpha-2, e.g. "GB") is used for numbers written without a
    country code. Returns None when `phonenumbers` cannot read `text` as a number;
    callers then compare the digits alone (see `phone_digits`).
    """
    import phonenumbers  # imported late: only commands that compare phones need it

    try:
        number = phonenumbers.parse(text, None if region == DEFAULT_REGION else region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def phone_digits(text: str) -> str:
    """The digits of a phone number and a leading `+`: the fallback comparison key."""
    digits = re.sub(r"[^0-9]", "", text)
    return "+" + digits if text.strip().startswith("+") else digits


def phone_compare_key(text: str, region: str = DEFAULT_REGION) -> str:
    """`phone_key`, or the digits when the number cannot be parsed."""
    return phone_key(text, region) or phone_digits(text)


SET_FIELDS = ("emails", "phones", "tags", "industries")


@lru_cache(maxsize=64)
def item_key(field: str, region: str = DEFAULT_REGION) -> Callable[[object], object] | None:
    """How the items of a `set` field compare: emails without case, tags and industries
    without case, phones as numbers (with `region` for numbers without a country code).
    None for other fields (items then compare as they are). A non-text item is its own key.
    """
    if field == "phones":

        def phone(item: object) -> object:
            if not isinstance(item, str):
                return item
            # a text without digits is no number: it is only equal to itself
            return phone_compare_key(item, region) if re.search("[0-9]", item) else item

        return phone
    key = {"emails": email_key, "tags": word_key, "industries": word_key}.get(field)
    if key is None:
        return None
    text_key = key

    def keyed(item: object) -> object:
        return text_key(item) if isinstance(item, str) else item

    return keyed


# --- phones ----------------------------------------------------------------------------

PHONE_EXAMPLE = "+44 20 7946 0000"
_PHONE = re.compile(
    r"^\+?[0-9(][0-9 ().\/-]*[0-9)]"
    r"(\s*([eE][xX][tT]\.?|[xX]|#|;[eE][xX][tT]=)\s*[0-9]{1,7})?\Z"
)


@lru_cache(maxsize=4096)
def phone_problem(text: str) -> str | None:
    """Why `text` is not a phone number jobshare accepts, or None.

    Accepted: digits with spaces, brackets, dots, dashes and slashes, an optional
    leading `+` and country code, and an optional extension (`ext. 12`, `x12`, `#12`,
    `;ext=12`): `(415) 555-0100`, `+1 (415) 555-0100 ext. 12`, `+49 (0)40 123456`. A
    number with `+` must have a country code `phonenumbers` knows; one without is
    accepted whatever the owner's region, so that a record valid for one friend is
    valid for all.
    """
    example = f", e.g. {PHONE_EXAMPLE}"
    if not _PHONE.match(text):
        return f"{shorten(text)!r} is not a valid phone number{example}"
    digits = re.sub(r"[^0-9]", "", re.split(r"[eExX#;]", text, maxsplit=1)[0])
    if not 3 <= len(digits) <= 17:
        return f"{shorten(text)!r} has {len(digits)} digits, too {'few' if len(digits) < 3 else 'many'} for a phone number{example}"
    if text.startswith("+") and phone_key(text) is None:
        return f"{shorten(text)!r} has no country code that phone numbers use{example}"
    return None


# --- web sites -------------------------------------------------------------------------

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_BARE_HOST = re.compile(r"^[^\s/:@]+\.[A-Za-z]{2,}[^\s]*\Z")


@lru_cache(maxsize=1024)
def website_fix(text: str) -> str | None:
    """The `https://` form of a web address given without its scheme (`acme.example`,
    `www.acme.example/jobs`), or None when `text` has a scheme or is no host name."""
    if _SCHEME.match(text) or text.startswith("/") or not _BARE_HOST.match(text):
        return None
    host = website_host(text)
    return f"https://{text}" if host and "." in host else None


def website_host(url: str) -> str | None:
    """The host a web address names, lower case, without `www.` and port.

    `website_host("https://WWW.Acme.example/jobs/") == "acme.example"`; a value
    without a scheme is read as a host (`acme.example/jobs`). None when there is
    no host.
    """
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


def link_key(url: str) -> str | None:
    """The key two spellings of one profile link share: host as `website_host` gives it,
    then the path without a trailing slash, case folded; query and fragment dropped.

    `link_key("https://www.linkedin.com/in/Dana-Okafor/") ==
    link_key("http://linkedin.com/in/dana-okafor")`. None when there is no host.
    """
    host = website_host(url)
    if host is None:
        return None
    text = url.strip()
    try:
        path = urlsplit(text if "://" in text else "//" + text).path
    except ValueError:
        return None
    return host + nfc(path).rstrip("/").casefold()


# --- date-times ------------------------------------------------------------------------

# RFC 3339 section 5.6 (with its note that a space may stand for the T)
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)
_NORMAL_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\Z")


def parse_instant(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime, or None if `text` is not one.

    Offsets and fractions of a second are honoured (digits past the microsecond are
    dropped): `parse_instant("2026-12-01T11:00:00+02:00") <
    parse_instant("2026-12-01T10:00:00Z")`.
    """
    if not isinstance(text, str):
        return None
    match = _RFC3339.match(text.strip())
    if match is None:
        return None
    date, time, fraction, offset = match.groups()
    fraction = (fraction or "")[:7]
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        value = dt.datetime.fromisoformat(f"{date}T{time}{fraction}{offset}")
    except ValueError:
        return None
    return value.astimezone(dt.UTC)


def instant_key(value: object) -> str | None:
    """A text that sorts as the instant `value` names (UTC, microseconds), or None."""
    when = parse_instant(value) if isinstance(value, str) else None
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if when is not None else None


def normal_instant(text: str) -> str:
    """An RFC 3339 date-time in jobshare's form: UTC, `T`, `Z`, the fraction of a second
    as written (`2026-12-01T11:00:00+02:00` -> `2026-12-01T09:00:00Z`). Text that is
    no date-time is returned as it is, for the checks to report."""
    if _NORMAL_INSTANT.match(text):
        return text
    match = _RFC3339.match(text)
    when = parse_instant(text) if match is not None else None
    if when is None or match is None:
        return text
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (match.group(3) or "") + "Z"


def format_instant(value: dt.datetime) -> str:
    """`value` written as jobshare writes date-times: UTC, seconds, `Z`
    (fractions kept when present)."""
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


# --- names ---------------------------------------------------------------------------

LEGAL_SUFFIXES: frozenset[str] = frozenset(
    # Legal forms of companies, folded and without dots or spaces ("S. A." is "sa"),
    # dropped from the end of a name: "Acme Recruiting Ltd." is "Acme Recruiting".
    """
    ltd limited plc llp lp llc lllp pllc inc incorporated corp corporation co company pc
    gmbh mbh ag kg ohg ug ev ek gbr kgaa se
    sa sas sasu sarl eurl sl slu srl spa sapa snc sc lda ltda
    bv nv vof cv bvba sprl
    ab hb as asa aps oy oyj ehf
    kft zrt nyrt sro spzoo doo ad dd
    pty pte bhd sdn kk
    """.split()  # noqa: SIM905 (a list of words reads best as text)
)
_LONGEST_SUFFIX = 4  # words: "sp. z o.o." is four


def name_tokens(text: str) -> tuple[str, ...]:
    """The words two spellings of one name share: folded (see `fold`), split on
    punctuation, without a legal form at the end.

    `name_tokens("ACME Recruiting, Ltd.") == ("acme", "recruiting")`;
    `name_tokens("Zoë Müller GmbH & Co. KG") == ("zoe", "muller")`. Dots and
    apostrophes join (`S.A.` is `sa`, `O'Brien` is `obrien`); a name that is only a
    legal form keeps it.
    """
    words = re.sub(r"[^\w]+|_", " ", re.sub(r"[.'’]", "", fold(nfc(text)))).split()
    while len(words) > 1:
        for size in range(min(_LONGEST_SUFFIX, len(words) - 1), 0, -1):
            if "".join(words[-size:]) in LEGAL_SUFFIXES:
                del words[-size:]
                break
        else:
            break
    return tuple(words)


def name_key(text: str) -> str:
    """`name_tokens` as one string: "acme recruiting"."""
    return " ".join(name_tokens(text))


# --- web hosts many people share -------------------------------------------------------

SHARED_HOSTS: frozenset[str] = frozenset(
    # Hosts whose sites or mailboxes belong to many unrelated people: the same host
    # says nothing about two records being one source (subdomains count as the host).
    """
    linkedin.com xing.com facebook.com instagram.com twitter.com x.com threads.net
    youtube.com tiktok.com github.com gitlab.com bitbucket.org medium.com substack.com
    about.me linktr.ee wordpress.com blogspot.com wixsite.com squarespace.com
    sites.google.com google.com
    indeed.com glassdoor.com monster.com stepstone.de upwork.com fiverr.com
    freelancer.com malt.com malt.de toptal.com
    gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com ymail.com
    icloud.com me.com mac.com aol.com gmx.de gmx.net gmx.com web.de t-online.de
    posteo.de mailbox.org proton.me protonmail.com tutanota.com fastmail.com mail.com
    zoho.com yandex.ru yandex.com mail.ru qq.com 163.com orange.fr free.fr laposte.net
    libero.it btinternet.com
    """.split()  # noqa: SIM905 (a list of words reads best as text)
)


def is_shared_host(host: str) -> bool:
    """Whether `host` (lower case, as `website_host` gives it) is, or is under, a
    host in `SHARED_HOSTS`: `is_shared_host("uk.linkedin.com")` is True."""
    parts = host.split(".")
    return any(".".join(parts[i:]) in SHARED_HOSTS for i in range(len(parts) - 1))


def website_key(url: str) -> str | None:
    """The key two spellings of one web site share: its host (`website_host`), and on a
    shared host the path as well, since there the path names the person.

    `website_key("https://www.acme.example/jobs") == "acme.example"`;
    `website_key("https://linkedin.com/in/Dana-Smith/") == "linkedin.com/in/dana-smith"`;
    None without a host, or for a shared host without a path.
    """
    host = website_host(url)
    if host is None or not is_shared_host(host):
        return host
    text = url.strip() if "://" in url else "//" + url.strip()
    try:
        path = urlsplit(text).path.rstrip("/").lower()
    except ValueError:
        return None
    return f"{host}{path}" if path else None


def email_domain(email: str) -> str | None:
    """The domain of an email address, lower case: "acme.example"; None without one."""
    _, at, domain = email_key(email).rpartition("@")
    domain = domain.rstrip(".")
    return domain if at and domain else None


# --- the owner's region ----------------------------------------------------------------

_LOCALE = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?![A-Za-z])")


def region_from_locale(environ: Mapping[str, str]) -> str | None:
    """The country of the user's locale (`en_GB.UTF-8` -> `GB`), as the default region
    for phone numbers written without a country code; None for `C`, `POSIX` or none.

    The first of LC_ALL, LC_TELEPHONE and LANG that is set decides, as in POSIX.
    """
    for name in ("LC_ALL", "LC_TELEPHONE", "LANG"):
        value = environ.get(name)
        if value:
            match = _LOCALE.match(value)
            if match is None:
                return None
            region = match.group(1).upper()
            return region if is_region(region) else None
    return None


def is_region(region: str) -> bool:
    """Whether `region` is an ISO 3166 alpha-2 code that `phonenumbers` has numbers for."""
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS
