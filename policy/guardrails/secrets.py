"""Credentials in a container's plain environment: by the value's published format, and by a
name whose words say it holds one.

Values (each format from its issuer's documentation):
- AWS access key ids: AKIA (long-term) and ASIA (temporary) then 16 upper-case base32
  characters (IAM User Guide, "IAM identifiers": unique ID prefixes).
- GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ then at least 36 base62 characters, and
  fine-grained `github_pat_` tokens (GitHub Docs, "About authentication to GitHub": GitHub's
  token formats).
- Slack tokens xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe- and app tokens xapp-, and incoming-webhook
  URLs https://hooks.slack.com/services/T.../B.../... (Slack API docs, "Token types";
  "Sending messages using incoming webhooks").
- Stripe secret and restricted keys sk_live_/sk_test_/rk_live_/rk_test_ and webhook signing
  secrets whsec_ (Stripe docs, "API keys"); publishable pk_ keys are public by design.
- JSON Web Tokens: three base64url parts whose first decodes to a JSON header with "alg"
  (RFC 7519, RFC 7515 section 3.1).
- PEM private keys: -----BEGIN ... PRIVATE KEY----- (RFC 7468; OpenSSH and PGP use the same
  armour); certificates and public keys are not secret.
- URLs with a password in their user information (scheme://user:password@host, RFC 3986 3.2.1).
Every check is a scan over the value with fixed prefixes and counted character classes, never
a regular expression built at run time, so a long or hostile value costs linear time.

Names: split into words at '_', '-', '.', spaces and case changes. A name is credential-like when
its head word (the last, after dropping words that only say how the value is written, such as
VALUE, B64 or PEM, or which environment it is for, such as PROD) is a credential noun (PASSWORD,
SECRET, TOKEN, API_KEY, ...), or one word ends in PASSWORD/PASSWD/SECRET (PGPASSWORD). So
DB_PASSWORD and GITHUB_TOKEN are credentials, and PASSWORD_FILE, TOKEN_TTL_SECONDS,
SESSION_COOKIE_SECURE, TOKEN_BUCKET_SIZE and SECURE_SSL_REDIRECT are not: their head word says
the value is about a credential, not the credential. LOOK_ALIKES below is the table the tests
hold the classifier to."""

import base64
import binascii
import json
import string

from .normalize import reading

# ---- values ------------------------------------------------------------------------------------
_BASE32_UPPER = set(string.ascii_uppercase + "234567")
_BASE62 = set(string.ascii_letters + string.digits)
_BASE64URL = set(string.ascii_letters + string.digits + "-_")
_SLACK_TOKEN_CHARS = set(string.ascii_letters + string.digits + "-")
_SLACK_PREFIXES = ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-")
_STRIPE_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_")
_GITHUB_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")


def _run(value: str, start: int, allowed: set[str], limit: int) -> int:
    """How many characters from `start` are in `allowed`, counting no further than `limit`
    (so overlapping candidates never rescan a long run: linear in the value)."""
    end = start
    stop = min(len(value), start + limit)
    while end < stop and value[end] in allowed:
        end += 1
    return end - start


def _occurrences(value: str, prefix: str) -> list[int]:
    found = []
    position = value.find(prefix)
    while position >= 0:
        found.append(position)
        position = value.find(prefix, position + len(prefix))
    return found


def _standalone(value: str, position: int) -> bool:
    """The match does not continue a longer word (so 'NOTAKIA...' is not a key id)."""
    return position == 0 or not value[position - 1].isalnum()


def _aws_key_id(value: str) -> bool:
    for prefix in ("AKIA", "ASIA"):
        for at in _occurrences(value, prefix):
            if _standalone(value, at) and _run(value, at + 4, _BASE32_UPPER, 16) == 16 \
                    and not (at + 20 < len(value) and value[at + 20].isalnum()):
                return True
    return False


def _prefixed(value: str, prefixes: tuple[str, ...], allowed: set[str], minimum: int) -> bool:
    return any(_standalone(value, at)
               and _run(value, at + len(prefix), allowed, minimum) >= minimum
               for prefix in prefixes for at in _occurrences(value, prefix))


_WINDOW = 512
"""How far past a marker a credential's parts are looked for (ids and labels are short)."""


def _slack_webhook(value: str) -> bool:
    marker = "hooks.slack.com/services/"
    for at in _occurrences(value, marker):
        parts = value[at + len(marker):at + len(marker) + _WINDOW].split("/", 2)
        if len(parts) == 3 and parts[0][:1] == "T" and parts[1][:1] == "B" and \
                _run(parts[2], 0, _BASE62, 8) >= 8:
            return True
    return False


_TOKEN_CHARS = _BASE64URL | {"."}


def _tokens(value: str, allowed: set[str]) -> list[str]:
    """The maximal runs of `allowed` characters, in one pass."""
    found: list[str] = []
    start = None
    for index, char in enumerate(value):
        if char in allowed:
            if start is None:
                start = index
        elif start is not None:
            found.append(value[start:index])
            start = None
    if start is not None:
        found.append(value[start:])
    return found


def _jwt(value: str) -> bool:
    if "eyJ" not in value:
        return False
    for token in _tokens(value, _TOKEN_CHARS):
        parts = token.split(".")
        for index in range(len(parts) - 2):
            header, payload = parts[index], parts[index + 1]
            if not (header.startswith("eyJ") and payload):
                continue
            try:
                decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
            except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
                continue
            if isinstance(decoded, dict) and "alg" in decoded:
                return True
    return False


def _pem_private_key(value: str) -> bool:
    for at in _occurrences(value, "-----BEGIN "):
        start = at + len("-----BEGIN ")
        end = value.find("-----", start, start + 64)
        label = value[start:end] if end >= 0 else ""
        if label.endswith("PRIVATE KEY") or label == "PGP PRIVATE KEY BLOCK":
            return True
    return False


def _url_password(value: str) -> bool:
    for at in _occurrences(value, "://"):
        authority = value[at + 3:at + 3 + _WINDOW]
        for stop in "/?# \t\r\n":
            index = authority.find(stop)
            if index >= 0:
                authority = authority[:index]
        userinfo, at_sign, _ = authority.rpartition("@")
        if at_sign and ":" in userinfo and userinfo.split(":", 1)[1]:
            return True
    return False


VALUE_FORMATS = {
    "an AWS access key id": _aws_key_id,
    "a GitHub token": lambda v: _prefixed(v, _GITHUB_PREFIXES, _BASE62, 36)
    or _prefixed(v, ("github_pat_",), _BASE62 | {"_"}, 40),
    "a Slack token": lambda v: _prefixed(v, _SLACK_PREFIXES, _SLACK_TOKEN_CHARS, 10),
    "a Slack webhook URL": _slack_webhook,
    "a Stripe secret key": lambda v: _prefixed(v, _STRIPE_PREFIXES, _BASE62, 16),
    "a JSON Web Token": _jwt,
    "a PEM private key": _pem_private_key,
    "a URL with a password": _url_password,
}


@reading("secret-value", "Environment values matched against the published formats of "
                         "credentials (AWS key ids, GitHub, Slack and Stripe tokens, Slack "
                         "webhooks, JWTs, PEM private keys, URLs with a password), by linear "
                         "scans.")
def secret_format(value: str) -> str | None:
    """Which credential format `value` holds, or None."""
    for name, check in VALUE_FORMATS.items():
        if check(value):
            return name
    return None


# ---- names -------------------------------------------------------------------------------------
CREDENTIAL_HEADS = {"password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets",
                    "token", "credential", "credentials", "apikey", "dsn", "bearer", "jwt", "pat",
                    "privatekey", "connectionstring", "auth", "cookie"}
# Heads of two words: (modifier, head) -> what they name together.
CREDENTIAL_PAIRS = {("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"),
                    ("session", "key"), ("signing", "key"), ("encryption", "key"),
                    ("master", "key"), ("hmac", "key"), ("ssh", "key"), ("tls", "key"),
                    ("ssl", "key"), ("client", "key"), ("license", "key"), ("app", "key"),
                    ("connection", "string"), ("basic", "auth"), ("http", "auth"),
                    ("secret", "access"), ("cookie", "secret")}
# Words after the head that say how the value is written or for which environment, so
# DB_PASSWORD_B64 and STRIPE_SECRET_KEY_LIVE are still credentials.
QUALIFIERS = {"value", "b64", "base64", "hex", "pem", "der", "raw", "plain", "plaintext",
              "text", "str", "string", "json", "data", "contents", "content", "base", "prod",
              "production", "dev", "development", "staging", "stage", "test", "live",
              "sandbox", "primary", "secondary", "old", "new", "current", "previous", "next",
              "main", "default", "v1", "v2", "v3"}
# Single words that end in a credential noun (libpq's PGPASSWORD, MySQL's MYSQL_PWD is two words).
_SUFFIXES = ("password", "passwd", "passphrase", "secret", "apikey", "authtoken")
# A first word that makes the name a switch about credentials, not one (USE_TOKEN_AUTH=true).
SWITCHES = {"use", "enable", "enabled", "disable", "disabled", "is", "has", "allow", "require",
            "requires", "force", "skip", "no", "with", "without"}
# Names of ordinary shell and runtime variables that look like credentials and are not:
# the shell's working directories, and the path to a credentials file that Google's client
# libraries read (Google Cloud docs, "How Application Default Credentials works").
NOT_CREDENTIALS = {"PWD", "OLDPWD", "GOOGLE_APPLICATION_CREDENTIALS"}

LOOK_ALIKES = (
    # (name, credential?) - the classifier's contract, asserted through the running pack.
    ("DB_PASSWORD", True), ("MYSQL_PWD", True), ("DB_PASS", True), ("PGPASSWORD", True),
    ("GITHUB_TOKEN", True), ("stripeApiKey", True), ("CLIENT_SECRET", True),
    ("PRIVATE_KEY", True), ("AWS_SECRET_ACCESS_KEY", True), ("AWS_SESSION_TOKEN", True),
    ("SECRET_KEY_BASE", True), ("DJANGO_SECRET_KEY", True), ("NPM_TOKEN", True),
    ("GH_PAT", True), ("SENTRY_DSN", True), ("JWT_SECRET", True), ("ENCRYPTION_KEY", True),
    ("SSH_KEY", True), ("DB_PASSWORD_B64", True), ("STRIPE_SECRET_KEY_LIVE", True),
    ("REDIS_AUTH", True), ("BASIC_AUTH", True), ("X-Api-Key", True), ("apiToken", True),
    ("AUTH_URL", False), ("TOKEN_TTL_SECONDS", False), ("PASSWORD_FILE", False),
    ("SECRET_ARN", False), ("PWD", False), ("OLDPWD", False), ("LOG_LEVEL", False),
    ("SESSION_COOKIE_SECURE", False), ("CSRF_COOKIE_SECURE", False), ("SECURE_SSL_REDIRECT", False),
    ("SECURE_HSTS_SECONDS", False), ("TOKEN_BUCKET_SIZE", False), ("USE_TOKEN_AUTH", False),
    ("PASSWORD_MIN_LENGTH", False), ("MAX_TOKENS", False), ("TOKENIZER_PATH", False),
    ("PASS_THROUGH_HEADERS", False), ("BYPASS_CACHE", False), ("SORT_KEY", False),
    ("PARTITION_KEY", False), ("CACHE_KEY_PREFIX", False), ("KEYCLOAK_URL", False),
    ("SECRETS_MANAGER_ENDPOINT", False), ("GOOGLE_APPLICATION_CREDENTIALS", False),
    ("PASSWORD_RESET_ENABLED", False), ("TOKEN_ISSUER", False), ("COOKIE_DOMAIN", False),
    ("ENABLE_PASSWORD_LOGIN", False), ("OAUTH_TOKEN_URL", False), ("COMPASS_URL", False),
)


def words(name: str) -> list[str]:
    """ApiKey, api_key, API-KEY and api.key are the same two words."""
    found: list[str] = []
    current = ""
    for index, char in enumerate(name):
        if not char.isalnum():
            if current:
                found.append(current)
            current = ""
            continue
        previous = name[index - 1] if index else ""
        following = name[index + 1] if index + 1 < len(name) else ""
        boundary = current and char.isupper() and (
            previous.islower() or previous.isdigit()
            or (previous.isupper() and following.islower()))
        if boundary:
            found.append(current)
            current = ""
        current += char
    if current:
        found.append(current)
    return [w.lower() for w in found]


@reading("secret-name", "Environment names split into words at separators and case changes; a "
                        "credential when the head word (after qualifiers such as _B64 or "
                        "_PROD) is a credential noun, or a word ends in one (PGPASSWORD); "
                        "PASSWORD_FILE, TOKEN_TTL_SECONDS or SESSION_COOKIE_SECURE are not.")
def credential_name(name: str) -> bool:
    if name in NOT_CREDENTIALS:
        return False
    parts = words(name)
    if parts and parts[0] in SWITCHES:
        return False
    while len(parts) > 1 and parts[-1] in QUALIFIERS:
        parts.pop()
    if not parts:
        return False
    head = parts[-1]
    if len(parts) >= 2 and (parts[-2], head) in CREDENTIAL_PAIRS:
        return True
    if head in CREDENTIAL_HEADS:
        return True
    return any(w.endswith(_SUFFIXES) and w not in QUALIFIERS for w in parts[-1:])
