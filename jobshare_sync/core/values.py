"""Values: the normal form of one field's text, and the keys values are compared by.

Everything that compares two values of a record (the `set` merge, duplicate matching,
import matching, search) goes through the keys here, so that two spellings of one
email, phone number or web site are one value everywhere (DESIGN section 1):

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
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_REGION = "ZZ"  # phonenumbers' "unknown region": only +CC numbers parse


def nfc(text: str) -> str:
    """`text` in Unicode Normalization Form C (composed accents)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def normal_line(text: str) -> str:
    """A single-line value in normal form (DESIGN section 1): NFC, each control
    character or line break a space, trimmed. `normal_line(" Acme\nLtd ") == "Acme Ltd"`."""
    text = nfc(text)
    if not text.isprintable():
        text = "".join(" " if _is_control(c) else c for c in text)
    return text.strip()


def normal_text(text: str) -> str:
    """A multi-line value (notes, details) in normal form: NFC, `\n` line ends, no other
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


def parse_instant(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime, or None if `text` is not one.

    Offsets and fractions of a second are honoured:
    `parse_instant("2026-12-01T11:00:00+02:00") < parse_instant("2026-12-01T10:00:00Z")`.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError, TypeError):
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(dt.UTC)


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
