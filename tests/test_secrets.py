"""The credential scanner run before content goes into a public snippet.

Every fake credential here is assembled from pieces at run time, so this file does not itself look
like a leaked secret to other scanners (and :func:`test_the_scanner_sources_are_clean` checks that
our own scanner agrees).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from snippet_daemon.secret_scan import _RULES, SecretFinding, scan_files, scan_text

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def body(length: int, alphabet: str = ALNUM, seed: int = 0) -> str:
    """A deterministic random-looking string (with at least one digit, as real tokens have)."""
    rng = random.Random(f"{seed}-{length}-{alphabet}")
    text = "".join(rng.choice(alphabet) for _ in range(length - 1))
    return text + "7" if "7" in alphabet else text + rng.choice(alphabet)


BEGIN, END = "-" * 5 + "BEGIN ", "-" * 5 + "END "
PEM_TAIL = "PRIVATE" + " KEY" + "-" * 5
STRONG = "Xk9#mQ2$" + "vLp7@wRz"  # a literal, random-looking 16-character password
HEX32 = "4f9a8b7c6d5e4f3a" + "2b1c0d9e8f7a6b5c"

# (rule, line of text, the secret in it)
POSITIVES: list[tuple[str, str, str]] = [
    ("private key", BEGIN + PEM_TAIL, BEGIN + PEM_TAIL),
    ("private key", BEGIN + "RSA " + PEM_TAIL, BEGIN + "RSA " + PEM_TAIL),
    ("private key", BEGIN + "EC " + PEM_TAIL, BEGIN + "EC " + PEM_TAIL),
    ("private key", BEGIN + "DSA " + PEM_TAIL, BEGIN + "DSA " + PEM_TAIL),
    ("private key", BEGIN + "OPENSSH " + PEM_TAIL, BEGIN + "OPENSSH " + PEM_TAIL),
    ("private key", BEGIN + "ENCRYPTED " + PEM_TAIL, BEGIN + "ENCRYPTED " + PEM_TAIL),
    ("private key", BEGIN + "PGP PRIVATE KEY BLOCK" + "-" * 5, BEGIN + "PGP PRIVATE KEY BLOCK"),
    (  # a GCP service-account JSON key keeps the PEM on one line
        "private key",
        '  "private' + '_key": "' + BEGIN + PEM_TAIL + "\\n" + body(64, ALNUM + "+/") + '\\n",',
        body(64, ALNUM + "+/"),
    ),
    ("AWS access key ID", "aws_access_key_id = " + "AKIA" + body(16, string.ascii_uppercase + string.digits), ""),
    ("AWS access key ID", "export KEY=" + "ASIA" + body(16, string.ascii_uppercase + string.digits, 1), ""),
    ("AWS secret access key", "aws_secret" + "_access_key = " + body(40, ALNUM + "/+"), body(40, ALNUM + "/+")),
    ("AWS secret access key", '"SecretAccess' + 'Key": "' + body(40, ALNUM + "/+", 2) + '",', ""),
    ("Google API key", 'const key = "' + "AI" + "za" + body(35, URLSAFE) + '";', "AI" + "za" + body(35, URLSAFE)),
    ("GitHub token", "gh" + "p_" + "a" * 36, "gh" + "p_" + "a" * 36),
    ("GitHub token", "GH_TOKEN=" + "gh" + "o_" + body(36), "gh" + "o_" + body(36)),
    ("GitHub token", "token " + "gh" + "s_" + body(36, seed=1), ""),
    ("GitHub token", "gh" + "u_" + body(40), ""),
    ("GitHub token", "gh" + "r_" + body(76), ""),
    ("GitHub token", "github" + "_pat_" + body(82, ALNUM + "_"), "github" + "_pat_" + body(82, ALNUM + "_")),
    ("GitLab token", "git clone https://x@example.com " + "gl" + "pat-" + body(20, URLSAFE), ""),
    ("Slack token", "SLACK=" + "xo" + "xb-1234567890-" + body(24), "xo" + "xb-1234567890-" + body(24)),
    ("Slack token", "xo" + "xp-2-" + body(30), ""),
    (
        "Slack webhook URL",
        "curl https://hooks.slack.com/services/" + "T0A1B2C3D/B4E5F6G7H/" + body(24),
        "T0A1B2C3D/B4E5F6G7H/" + body(24),
    ),
    (
        "Atlassian API token",
        "BITBUCKET_API_TOKEN=" + "ATATT3" + body(180, URLSAFE + "="),
        "ATATT3" + body(180, URLSAFE),
    ),
    ("Atlassian API token", "ATATT3x" + body(43, URLSAFE), ""),
    ("Bitbucket access token", "token: " + "ATCTT3" + body(120, URLSAFE + "="), "ATCTT3" + body(120, URLSAFE + "=")),
    ("Bitbucket app password", "app_password = " + "AT" + "BB" + body(32), "AT" + "BB" + body(32)),
    ("Stripe key", "stripe.api_key = '" + "sk" + "_live_" + body(24) + "'", "sk" + "_live_" + body(24)),
    ("Stripe key", "rk" + "_test_" + body(99), ""),
    ("Twilio API key", "TWILIO=" + "S" + "K" + body(32, HEX), "S" + "K" + body(32, HEX)),
    (
        "SendGrid API key",
        "sg = " + "S" + "G." + body(22, URLSAFE) + "." + body(43, URLSAFE),
        "S" + "G." + body(22, URLSAFE) + "." + body(43, URLSAFE),
    ),
    ("npm token", "//registry.npmjs.org/:_authToken=" + "np" + "m_" + body(36), "np" + "m_" + body(36)),
    (
        "PyPI token",
        "password = " + "pypi-" + "AgEIcHlwaS5vcmc" + body(150, URLSAFE),
        "pypi-" + "AgEIcHlwaS5vcmc" + body(150, URLSAFE),
    ),
    ("OpenAI API key", "client = OpenAI(" + "api_key='" + "sk" + "-" + body(48) + "')", "sk" + "-" + body(48)),
    ("OpenAI API key", "sk" + "-proj-" + body(120, URLSAFE), ""),
    (
        "JSON Web Token",
        "Cookie: session=" + "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + body(43, URLSAFE),
        "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + body(43, URLSAFE),
    ),
    ("URL with a password", "DATABASE_URL=postgres://admin:" + "S3cretPassw0rd" + "@db:5432/app", "S3cretPassw0rd"),
    ("URL with a password", "git remote add origin https://me:" + body(20) + "@bitbucket.org/ws/repo.git", ""),
    (
        "authorization header",
        'curl -H "Authorization: ' + "Bearer " + HEX32[:24] + '" https://api.example.com',
        HEX32[:24],
    ),
    ("password assignment", "pass" + 'word = "' + STRONG + '"', STRONG),
    ("password assignment", "API" + "_KEY=" + HEX32, HEX32),
    ("password assignment", "DB" + "_PASSWORD: '" + STRONG + "'", STRONG),
    ("password assignment", '  "client' + '_secret": "' + STRONG + '",', STRONG),
    ("password assignment", "const api" + "Key: string = '" + STRONG + "';", STRONG),
    ("password assignment", "pass" + "wd := `" + STRONG + "`", STRONG),
    ("password assignment", "'auth" + "_token' => '" + HEX32 + "',", HEX32),
    ("password assignment", "login(user, pass" + 'word="' + STRONG + '")', STRONG),
    ("password assignment", "SECRET" + "_KEY = 'django-insecure-" + body(40, ALNUM + "#$%^&*(-_=+)") + "'", ""),
]


@pytest.mark.parametrize(
    ("rule", "line", "secret"), POSITIVES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(POSITIVES)]
)
def test_each_rule_flags_its_sample(rule: str, line: str, secret: str) -> None:
    text = "first line\n" + line + "\nlast line\n"
    findings = scan_text("sample.txt", text)
    assert findings == [SecretFinding(path="sample.txt", line=2, rule=rule)]
    assert secret not in findings[0].describe() or not secret
    assert secret not in repr(findings[0]) or not secret


def test_every_rule_has_a_positive_sample() -> None:
    assert {rule.name for rule in _RULES} == {rule for rule, _, _ in POSITIVES}


NEGATIVES = [
    "pass" + 'word = "hunter2"',
    'token = os.environ["TOKEN"]',
    "pass" + "word: ${DB_PASSWORD}",
    "secret = get_secret()",
    "token = settings.GITHUB_TOKEN",
    "const token = process.env.API_TOKEN;",
    "api" + "Key: this.config.get('API_KEY'),",
    "pass" + "word = None",
    "pass" + "word: null",
    "pass" + 'word = ""',
    "pass" + "word = changeme",
    "api" + '_key = "xxxxxxxxxxxxxxxxxxxx"',
    "api" + '_key = "****************"',
    "api" + '_key = "<your-api-key-here>"',
    "api" + '_key = "YOUR_API_KEY_HERE"',
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "pass" + 'word: "{{ vault_db_password }}"',
    "client" + '_secret = f"{prefix}-{suffix}-abc123XYZ"',
    "pass" + "word = DEFAULT_ADMIN_PASSWORD_2",
    "token = refreshTokenValue",
    "if pass" + 'word == "' + STRONG + '":',
    '"pass' + 'word": "Enter the password you chose when you signed up",',
    "auth: https://login.example.com/oauth2/v2.0/token",
    "token: /var/run/secrets/kubernetes.io/serviceaccount/token",
    "//registry.npmjs.org/:_auth" + "Token=${NPM_TOKEN}",
    "password_hash = bcrypt.hashpw(password, salt)",
    "token_count = 1234567890123456",
    "postgres://admin:" + "password" + "@localhost/app",
    "postgres://admin:" + "${DB_PASSWORD}" + "@localhost/app",
    "https://user:" + "<password>" + "@example.com/",
    "https://user:" + "********" + "@example.com/",
    "https://oauth2:" + "$CI_JOB_TOKEN" + "@gitlab.com/group/project.git",
    "https://x-access-token:" + "${{ secrets.TOKEN }}" + "@github.com/o/r",
    "http://localhost:8080/path?q=1",
    'curl -H "Authorization: Bearer $TOKEN" https://api.example.com',
    'curl -H "Authorization: Bearer <token>" https://api.example.com',
    "gh" + "p_" + "x" * 36,
    "AKIA" + "IOSFODNN7" + "EXAMPLE",
    "xo" + "xb-your-token-goes-here",
    "sk" + "-abc123",
    "sk" + "-this-is-not-a-real-key-it-is-documentation",
    "AKIA" + "Q3EGRT5ZN7WB2VJ",  # one character short
    "ZAKIA" + "Q3EGRT5ZN7WB2VJ4",  # part of a longer word
    "Enter your pass" + "word: it must be at least 12 characters long",
    'curl -H "Authorization: Bearer YOUR_ACCESS_TOKEN" https://api.example.com',
    # Documentation placeholders with a real-looking prefix.
    "aws_secret" + "_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "aws_secret" + "_access_key = " + "X" * 40,
    "gl" + "pat-" + "x" * 20,
    "xo" + "xb-1234567890-" + "x" * 24,
    "https://hooks.slack.com/services/" + "T" + "X" * 8 + "/B" + "X" * 8 + "/" + "X" * 24,
    "ATATT3" + "x" * 60,
    "ATCTT3" + "x" * 60,
    "AT" + "BB" + "x" * 32,
    "sk" + "_live_" + "x" * 24,
    "S" + "G." + "x" * 22 + "." + "x" * 43,
    "np" + "m_" + "x" * 36,
]


@pytest.mark.parametrize("line", NEGATIVES)
def test_ordinary_lines_are_not_flagged(line: str) -> None:
    assert scan_text("notes.txt", line) == []


PYTHON_FILE = '''\
"""Log in and fetch the report."""

import os

import requests

TOKEN = os.environ["REPORT_TOKEN"]
API_KEY = os.getenv("API_KEY", "")
password_prompt = "Password: "


def login(user: str, password: str) -> requests.Session:
    session = requests.Session()
    session.auth = (user, password)
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    token = session.post("https://example.com/login", json={"user": user}).json()["token"]
    session.headers["X-Token"] = token
    return session
'''

PACKAGE_JSON = json.dumps(
    {
        "name": "snippet-tool",
        "version": "1.2.3",
        "author": "Jane Doe <jane@example.com>",
        "repository": {"type": "git", "url": "git+https://bitbucket.org/workspace/snippet-tool.git"},
        "scripts": {"test": "jest --coverage", "build": "tsc -p tsconfig.json"},
        "dependencies": {"jsonwebtoken": "^9.0.2", "passport": "^0.7.0", "bcrypt": "^5.1.1"},
    },
    indent=2,
)

README = """\
# Setup

1. Create an API token at https://id.atlassian.com/manage-profile/security/api-tokens.
2. Set `BITBUCKET_API_TOKEN` in your environment; never put the token in a file.
3. The password: you will be asked for it once, then it is kept in the OS keyring.

| Setting  | Meaning                              |
|----------|--------------------------------------|
| password | read from the keyring, never printed |
| token    | `${BITBUCKET_API_TOKEN}`             |
"""


@pytest.mark.parametrize(
    ("name", "content"), [("app.py", PYTHON_FILE), ("package.json", PACKAGE_JSON), ("README.md", README)]
)
def test_ordinary_files_are_not_flagged(name: str, content: str) -> None:
    assert scan_files({name: content.encode()}) == []


def test_the_scanner_sources_are_clean() -> None:
    root = Path(__file__).resolve().parents[1]
    files = {path.name: path.read_bytes() for path in (root / "snippet_daemon" / "secret_scan.py", Path(__file__))}
    assert scan_files(files) == []


def test_line_numbers_are_one_based_across_line_endings() -> None:
    github = "gh" + "p_" + body(36)
    aws = "AKIA" + body(16, string.ascii_uppercase + string.digits)
    # \r\n endings count once; a form feed or \u2028 inside a line is not a line break.
    text = "one\r\ntwo\x0cstill two\r\n" + github + "\r\n\n\u2028five\n\n" + "id = " + aws + "\n"
    assert scan_text("a.txt", text) == [
        SecretFinding("a.txt", 3, "GitHub token"),
        SecretFinding("a.txt", 7, "AWS access key ID"),
    ]
    assert scan_text("first.txt", github) == [SecretFinding("first.txt", 1, "GitHub token")]


def test_one_finding_per_rule_and_line() -> None:
    github = "gh" + "p_" + body(36)
    line = f"{github} {github} {'gh' + 'o_' + body(40)}"
    assert scan_text("x", line) == [SecretFinding("x", 1, "GitHub token")]

    aws = "AKIA" + body(16, string.ascii_uppercase + string.digits)
    rules = [finding.rule for finding in scan_text("x", f"{aws} {github}")]
    assert rules == ["AWS access key ID", "GitHub token"]


def test_the_generic_rule_is_not_repeated_on_a_line_already_flagged() -> None:
    line = "GITHUB" + '_TOKEN = "' + "gh" + "p_" + body(36) + '"'
    assert [finding.rule for finding in scan_text("x", line)] == ["GitHub token"]
    both = "API" + "_KEY=" + HEX32 + "\n" + "pass" + 'word = "' + STRONG + '"'
    assert [(f.line, f.rule) for f in scan_text("x", both)] == [(1, "password assignment"), (2, "password assignment")]


def test_binary_content_is_skipped() -> None:
    token = ("gh" + "p_" + body(36)).encode()
    assert scan_files({"image.png": b"\x89PNG\r\n\x1a\n\x00\x00" + token}) == []
    # A NUL past the first 8 KiB does not make the file binary.
    late_nul = b"x = 1\n" + token + b"\n" + b"a" * 9000 + b"\x00"
    assert scan_files({"data.txt": late_nul}) == [SecretFinding("data.txt", 2, "GitHub token")]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    token = ("gh" + "p_" + body(36)).encode()
    assert scan_files({"latin1.txt": b"caf\xe9\n" + token}) == [SecretFinding("latin1.txt", 2, "GitHub token")]


def test_scan_files_sorts_by_path_then_line() -> None:
    github = ("gh" + "p_" + body(36)).encode()
    files = {"z.txt": github, "a.txt": b"\n\n" + github + b"\n" + github, "m.txt": b"nothing here"}
    assert [(f.path, f.line) for f in scan_files(files)] == [("a.txt", 3), ("a.txt", 4), ("z.txt", 1)]


def test_describe_names_file_line_and_kind_but_never_the_secret() -> None:
    aws = "AKIA" + body(16, string.ascii_uppercase + string.digits)
    [finding] = scan_text("app.py", "import boto3\n\nKEY_ID = '" + aws + "'\n")
    assert finding.describe() == "app.py line 3: looks like an AWS access key ID"
    assert SecretFinding("a", 1, "private key").describe() == "a line 1: looks like a private key"
    assert SecretFinding("a", 1, "npm token").describe() == "a line 1: looks like an npm token"
    for rule, line, secret in POSITIVES:
        for found in scan_text("f", line):
            text = found.describe() + repr(found) + str(found)
            assert found.rule == rule
            assert line not in text
            if secret:
                assert secret not in text
