"""What an upload's `file` part says about itself, made safe to store.

Both values go to the ledger (PostgreSQL text) and to S3 (object headers and metadata),
so neither may carry what those refuse or garble:

- The part's `Content-Type` must be a media type as RFC 9110 §8.3.1 writes it:
  `type/subtype` tokens with optional `; name=value` parameters, printable ASCII only,
  at most `MAX_CONTENT_TYPE_BYTES`. Anything else (a control character, a line break, a
  non-ASCII byte, no `/`) is refused with 422 `invalid_request` before any byte is
  stored, never stored garbled or guessed around: the client sent something wrong and
  is told so. An absent or empty one is guessed from the file name.
- The file name is the client's, cleaned: control characters (C0, DEL, C1) and line or
  paragraph separators are removed, surrounding white space trimmed, and the result cut
  to `MAX_FILENAME_BYTES` of UTF-8 on a character boundary, keeping an extension of up
  to `MAX_EXTENSION_BYTES` (`<stem cut>.wav`). A name left empty becomes `upload`.
"""

from __future__ import annotations

import re
import unicodedata

from contracts import ErrorCode

from ..errors import ApiError

MAX_FILENAME_BYTES = 255  # a POSIX file name's limit, and well inside S3's 2 KB metadata
MAX_EXTENSION_BYTES = 16  # ".wav", ".webm", ".flac": a longer "extension" is just a name
MAX_CONTENT_TYPE_BYTES = 255
DEFAULT_FILENAME = "upload"

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_MEDIA_TYPE = re.compile(
    rb"%s/%s(?:[ \t]*;[ \t]*%s=(?:%s|%s))*" % (_TOKEN, _TOKEN, _TOKEN, _TOKEN, _QUOTED)
)
# Unicode categories removed from names: controls, line and paragraph separators.
_DROPPED = frozenset({"Cc", "Zl", "Zp"})


def checked_content_type(raw: bytes | None) -> str | None:
    """The part's media type as sent (trimmed); None when it sends none; 422 if invalid."""
    value = (raw or b"").strip(b" \t")
    if not value:
        return None
    if len(value) > MAX_CONTENT_TYPE_BYTES or not _MEDIA_TYPE.fullmatch(value):
        shown = value[:80].decode("latin-1")
        raise ApiError(
            422,
            ErrorCode.INVALID_REQUEST,
            f"the file part's Content-Type {shown!r} is not a media type "
            f"(type/subtype[; name=value], printable ASCII, at most "
            f"{MAX_CONTENT_TYPE_BYTES} bytes)",
        )
    return value.decode("ascii")


def clean_filename(raw: str | None) -> str:
    """The name to store: no control characters, at most MAX_FILENAME_BYTES of UTF-8."""
    name = "".join(c for c in raw or "" if unicodedata.category(c) not in _DROPPED).strip()
    if not name:
        return DEFAULT_FILENAME
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem.strip() or len(suffix.encode()) > MAX_EXTENSION_BYTES:
        stem, suffix = name, ""
    room = MAX_FILENAME_BYTES - len(suffix.encode())
    # Cut on a character boundary: a trailing partial UTF-8 sequence is dropped.
    return stem.encode()[:room].decode("utf-8", "ignore").rstrip() + suffix
