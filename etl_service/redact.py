"""Secrets out of anything printed: URLs lose their userinfo password and password-like
query parameters, and known secret values are masked wherever they appear."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

MASK = "***"
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|signature|credential", re.I)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+?(?=[:,.;)]*(?:[\s'\"<>]|$))", re.I)


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo and every password-like query value masked;
    anything else in it is left as written."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    out = url
    if "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            out = out.replace(f"{parts.netloc}", f"{user}:{MASK}@{host}", 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(k) for k, _v in pairs):
            masked = [(k, MASK if _SECRET_PARAM.search(k) else v) for k, v in pairs]
            out = out.replace(parts.query, urlencode(masked, safe="*"), 1)
    return out


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL in it redacted and each of ``secrets`` masked."""
    out = _URL.sub(lambda m: redact_url(m.group(0)), text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, MASK)
    return out


def one_line(text: object) -> str:
    """A message on one line (drivers put hints on following lines)."""
    return " ".join(str(text).split())


_SECRET_NAME = re.compile(r"password|secret|token|api_key|private_key|access_key", re.I)


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """Secret values configured through ``ETL_*`` variables: the values of secret-named ones
    and the passwords inside URL-valued ones."""
    found = []
    for name, value in environ.items():
        if not name.upper().startswith("ETL_") or not value:
            continue
        if _SECRET_NAME.search(name):
            found.append(value)
        for match in _URL.finditer(value):
            parts = urlsplit(match.group(0))
            if parts.password:
                found.append(parts.password)
            found += [v for k, v in parse_qsl(parts.query) if _SECRET_PARAM.search(k) and v]
    return found


class RedactingFilter(logging.Filter):
    """Masks URLs' secrets and the given secret values in every record it passes."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage(), self.secrets)
        record.args = ()
        return True
