"""Spotting credentials in files before they go into a public Bitbucket snippet.

Public snippets can be read (and are crawled) by anyone, so before publishing the language server
and the CLI run :func:`scan_files` over what is about to be sent and warn about anything that looks
like a private key, a cloud or SaaS token, a URL with a password in it, or a hard-coded
``password = "..."`` style assignment. The rules are plain regular expressions (stdlib only, so the
module stays cheap to import lazily) tuned for few false positives: vendor tokens are matched by
their documented prefixes, and the generic assignment rule only fires for literal, high-entropy
values, never for variable references, environment look-ups or placeholders.

A :class:`SecretFinding` names the file, the 1-based line and the kind of secret, and nothing
else: findings never carry the matched text, so they can be logged or shown to the user safely.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["SecretFinding", "scan_files", "scan_text"]

# Content with a NUL byte in its first 8 KiB is treated as binary and not scanned.
_BINARY_SNIFF_BYTES = 8192

# The generic assignment rule only reports literal values at least this long and this random.
_MIN_SECRET_LENGTH = 12
_MIN_SECRET_ENTROPY = 3.5  # Shannon entropy, bits per character

# Name of the generic (fallback) rule; it is not reported on a line another rule already flagged.
_ASSIGNMENT_RULE = "password assignment"


@dataclass(frozen=True)
class SecretFinding:
    """One probable credential: where it is and what it looks like, never the text itself."""

    path: str
    line: int
    rule: str

    def describe(self) -> str:
        """A one-line, secret-free description, e.g. ``app.py line 3: looks like an AWS access key ID``."""
        return f"{self.path} line {self.line}: looks like {_with_article(self.rule)}"


@dataclass(frozen=True)
class _Rule:
    name: str
    article: str
    pattern: re.Pattern[str]
    # Further check on a match (placeholders, references, entropy); None accepts every match.
    accept: Callable[[re.Match[str]], bool] | None = None


# ---------------------------------------------------------------------------------------------
# Value heuristics shared by the rules
# ---------------------------------------------------------------------------------------------

# A token's variable part made of x's (``ghp_xxxx…``, ``AKIAXXXX…``) is a documentation placeholder.
_MASKED = re.compile(r"[xX]{8,}")

# Whole values that are obviously not a real secret.
_PLACEHOLDER = re.compile(
    r"""
    <[^<>]*>                                  # <your-token>
    | \$\{[^}]*\}? | \$\([^)]*\)?              # ${DB_PASSWORD}, $(cat file)
    | \$[A-Za-z_][A-Za-z0-9_]*                # $TOKEN
    | %[A-Za-z_][A-Za-z0-9_]*%                # %TOKEN%
    | \{\{.*\}\}? | \{[A-Za-z_][A-Za-z0-9_.]*\}  # {{ vault_token }}, {password}
    | %(?:\([A-Za-z_]\w*\))?s                  # %s, %(password)s
    | \[[^\]]*\]                              # [redacted]
    | [*xX.•?_-]+                             # ****, xxxx, ...
    | none | null | nil | undefined | true | false
    | password | passwd | passw0rd | secret | changeme | change[-_]me | replace[-_]me
    | (?:your|my|the)[-_ ][A-Za-z_ -]*       # your-api-token-here, YOUR_TOKEN
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Text inside a value that marks it as a template or an example rather than a literal secret.
_NOT_LITERAL_INSIDE = re.compile(
    r"\$\{|\$\(|\{\{|\{%|<%|#\{|%\(|example|placeholder|changeme|change[-_]me|redacted|dummy|x{6,}|\*{3,}|\.{3}|…",
    re.IGNORECASE,
)

# Bare (unquoted) values that are code, not data: ``os.environ["X"]``, ``get_secret()``, ``settings.KEY``.
_REFERENCE = re.compile(r"[A-Za-z_$@][A-Za-z0-9_$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][A-Za-z0-9_$]*)*(?P<rest>[\[(].*)?")
_CONSTANT_OR_SNAKE = re.compile(r"[A-Z0-9_]+|[a-z0-9_]+")

# A URL without credentials, or a file path, as a value.
_URL_OR_PATH = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*|(?:~|\.{1,2})?/[A-Za-z0-9_.\-/]*")


def _entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    length = len(value)
    return -sum(count / length * math.log2(count / length) for count in Counter(value).values())


def _is_placeholder(value: str) -> bool:
    return not value or _PLACEHOLDER.fullmatch(value) is not None or _NOT_LITERAL_INSIDE.search(value) is not None


def _is_reference(value: str) -> bool:
    """True for a bare value that reads as code (a name, attribute, call, subscript) or a YAML tag/alias."""
    if value[0] in "!*&":
        return True
    match = _REFERENCE.fullmatch(value)
    if match is None:
        return False
    if match["rest"] is not None or any(sep in value for sep in (".", "::", "->", "$", "@")):
        return True
    # A plain identifier: words without digits, or a CONSTANT_NAME / snake_name, is a variable.
    has_digit = any(char.isdigit() for char in value)
    return not has_digit or ("_" in value and _CONSTANT_OR_SNAKE.fullmatch(value) is not None)


def _looks_like_secret(value: str, *, quoted: bool) -> bool:
    """True if ``value`` is a literal that is long and random enough to be a real credential."""
    if len(value) < _MIN_SECRET_LENGTH or any(char.isspace() for char in value):
        return False
    if _is_placeholder(value) or _URL_OR_PATH.fullmatch(value) is not None:
        return False
    if not quoted and _is_reference(value):
        return False
    return _entropy(value) >= _MIN_SECRET_ENTROPY


def _not_masked(match: re.Match[str]) -> bool:
    return _MASKED.search(match.group()) is None


def _has_digit_not_masked(match: re.Match[str]) -> bool:
    return any(char.isdigit() for char in match.group()) and _not_masked(match)


def _aws_not_example(match: re.Match[str]) -> bool:
    return "EXAMPLE" not in match.group() and _not_masked(match)


def _url_password_is_real(match: re.Match[str]) -> bool:
    return not _is_placeholder(match["password"])


def _authorization_is_real(match: re.Match[str]) -> bool:
    return _looks_like_secret(match["value"], quoted=False)


# ---------------------------------------------------------------------------------------------
# The generic ``password = "..."`` rule
# ---------------------------------------------------------------------------------------------

_SECRET_KEY_WORDS = r"password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|auth"

# A key ending in one of the words (``password``, ``DB_PASSWORD``, ``apiKey``, ``config.token``,
# ``"client_secret"``), then ``=``, ``:``, ``:=`` or ``=>`` (but not ``==`` or ``::``).
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]*?(?:" + _SECRET_KEY_WORDS + r")(?![A-Za-z0-9_])"
    r"[\"'`]?\s*(?P<sep>=>|:=|=(?!=)|:(?!:))",
    re.IGNORECASE,
)
# ``password: str = "..."`` / ``apiKey: string = '...'``: skip a type annotation after ``:``.
_ANNOTATION = re.compile(
    r"\s*[A-Za-z_][A-Za-z0-9_.]*(?:\[[^\]=]*\])?(?:\s*\|\s*[A-Za-z_][A-Za-z0-9_.]*(?:\[[^\]=]*\])?)*\s+=(?!=)"
)
_QUOTED = re.compile(r"\s*(?P<prefix>[rRbBuUfF]{0,2})(?P<q>[\"'`])(?P<body>(?:\\.|(?!(?P=q)).)*)(?:(?P=q)|$)")
_BARE = re.compile(r"\s*(?P<body>[^\s,;\"'`]+)")


def _assignment_is_secret(match: re.Match[str]) -> bool:
    line, position = match.string, match.end()
    if match["sep"] == ":":
        annotation = _ANNOTATION.match(line, position)
        if annotation is not None:
            position = annotation.end()
    quoted = _QUOTED.match(line, position)
    if quoted is not None:
        body = quoted["body"]
        if "f" in quoted["prefix"].lower() and "{" in body:
            return False  # an f-string interpolates something
        return _looks_like_secret(body, quoted=True)
    bare = _BARE.match(line, position)
    if bare is None:
        return False
    return _looks_like_secret(bare["body"].rstrip(")]}"), quoted=False)


# ---------------------------------------------------------------------------------------------
# The rules, most specific first; the generic assignment rule comes last.
# ---------------------------------------------------------------------------------------------

_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private key",
        "a",
        re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----"),
    ),
    _Rule(
        "AWS access key ID",
        "an",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        _aws_not_example,
    ),
    _Rule(
        "AWS secret access key",
        "an",
        re.compile(
            r"(?i:(?:aws_?)?secret_?access_?key)[\"']?\s*(?:=>|:=|=|:)\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        _aws_not_example,
    ),
    _Rule("Google API key", "a", re.compile(r"(?<![A-Za-z0-9_\-])AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    _Rule(
        "GitHub token",
        "a",
        re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        _not_masked,
    ),
    _Rule("GitLab token", "a", re.compile(r"(?<![A-Za-z0-9_\-])glpat-[A-Za-z0-9_\-]{20,}"), _not_masked),
    _Rule("Slack token", "a", re.compile(r"(?<![A-Za-z0-9_\-])xox[baprs]-[A-Za-z0-9-]{10,}"), _has_digit_not_masked),
    _Rule(
        "Slack webhook URL",
        "a",
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]{8,}"),
        _not_masked,
    ),
    _Rule("Atlassian API token", "an", re.compile(r"(?<![A-Za-z0-9_\-])ATATT[A-Za-z0-9_\-=]{40,}"), _not_masked),
    _Rule("Bitbucket access token", "a", re.compile(r"(?<![A-Za-z0-9_\-])ATCTT3[A-Za-z0-9_\-=]{40,}"), _not_masked),
    _Rule("Bitbucket app password", "a", re.compile(r"(?<![A-Za-z0-9_\-])ATBB[A-Za-z0-9]{28,}"), _not_masked),
    _Rule("Stripe key", "a", re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{24,}"), _not_masked),
    _Rule("Twilio API key", "a", re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    _Rule("SendGrid API key", "a", re.compile(r"(?<![\w-])SG\.[\w-]{22}\.[\w-]{43}(?![\w-])"), _not_masked),
    _Rule("npm token", "an", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), _not_masked),
    _Rule(
        "PyPI token",
        "a",
        re.compile(r"(?<![A-Za-z0-9_\-])pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,}"),
    ),
    _Rule("OpenAI API key", "an", re.compile(r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{32,}"), _has_digit_not_masked),
    _Rule(
        "JSON Web Token",
        "a",
        re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
    _Rule(
        "URL with a password",
        "a",
        re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:(?P<password>[^/\s:@]{6,})@"),
        _url_password_is_real,
    ),
    _Rule(
        "authorization header",
        "an",
        re.compile(
            r"(?i:\bauthorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|basic|token)\s+(?P<value>[A-Za-z0-9._~+/=\-]{12,})"
        ),
        _authorization_is_real,
    ),
    _Rule(_ASSIGNMENT_RULE, "a", _ASSIGNMENT, _assignment_is_secret),
)

_ARTICLES: dict[str, str] = {rule.name: rule.article for rule in _RULES}


def _with_article(rule: str) -> str:
    article = _ARTICLES.get(rule) or ("an" if rule[:1].lower() in "aeiou" else "a")
    return f"{article} {rule}"


def _rule_hits(rule: _Rule, line: str) -> bool:
    if rule.accept is None:
        return rule.pattern.search(line) is not None
    return any(rule.accept(match) for match in rule.pattern.finditer(line))


def scan_text(path: str, text: str) -> list[SecretFinding]:
    """Findings in ``text`` (the content of ``path``), in line order, at most one per rule and line.

    The generic ``password assignment`` rule is not reported on a line that another rule already
    flagged (``GITHUB_TOKEN = "ghp_…"`` is one GitHub token, not also a password assignment).
    """
    findings: list[SecretFinding] = []
    # Split on "\n" only (not str.splitlines) so numbers match what editors show.
    for number, line in enumerate(text.split("\n"), start=1):
        flagged = False
        for rule in _RULES:
            if rule.name == _ASSIGNMENT_RULE and flagged:
                continue
            if _rule_hits(rule, line):
                findings.append(SecretFinding(path=path, line=number, rule=rule.name))
                flagged = True
    return findings


def scan_files(files: Mapping[str, bytes]) -> list[SecretFinding]:
    """Findings in every text file of ``files`` (name -> content), sorted by (path, line).

    Content is decoded as UTF-8 with replacement characters; content with a NUL byte in its
    first 8 KiB is taken to be binary and skipped.
    """
    findings: list[SecretFinding] = []
    for path, content in files.items():
        if b"\x00" in content[:_BINARY_SNIFF_BYTES]:
            continue
        findings.extend(scan_text(path, content.decode("utf-8", errors="replace")))
    findings.sort(key=lambda finding: (finding.path, finding.line))
    return findings
