"""Image identity: the tag derived from a service's own source, and the rules for a prebuilt
reference. The tag is a content hash so that unchanged source gives the same tag (no rebuild,
no new task definition) on any machine, and a retried deploy never pushes a tag twice into an
IMMUTABLE repository."""

import hashlib
import os
import posixpath
import re
from pathlib import Path

from .errors import ConfigError

SOURCE_TAG_PREFIX = "src-"
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# Never part of a build context's identity, at any depth: VCS and editor/runtime litter that
# differs between machines for the same commit (bytecode, caches).
_LITTER = frozenset({".git", "__pycache__", ".pytest_cache", ".venv", ".DS_Store"})


def split_image_reference(reference: str) -> tuple[str, str | None, str | None]:
    """Split `[registry[:port]/]repository[:tag][@sha256:digest]` into (repository, tag, digest).

    A colon before the last '/' belongs to a registry port, not to a tag."""
    name, _, digest = reference.partition("@")
    last_slash = name.rfind("/")
    last_colon = name.rfind(":")
    if last_colon > last_slash:
        return name[:last_colon], name[last_colon + 1:], digest or None
    return name, None, digest or None


# Why a tag is not enough: a registry's tags move (nginx rebuilds `1.27` for every patch and base
# image; nginx-unprivileged's README: "the image that gets replaced will become untagged ... use
# the specific image digest instead of the tag"). Only a tag of an IMMUTABLE repository is fixed,
# and the one such repository this component knows is the one it creates for a `source` build,
# whose image it deploys by digest anyway. So a prebuilt reference names its digest; a tag may
# stand before it for the reader (`repo:1.2.3@sha256:...`, the digest decides).
HOW_TO_PIN = ("a prebuilt image must be pinned by digest, repo[:tag]@sha256:<64 hex> (a tag, "
              "even an explicit one, can be moved to another image; find the digest with "
              "`docker buildx imagetools inspect <repo>:<tag>` or `crane digest <repo>:<tag>`), "
              "or build it from a folder with `source`")


def validate_prebuilt_image(reference: object, setting: str) -> str:
    """A prebuilt image must be pinned by digest. An untagged reference means `latest` to every
    container runtime, and any tag of a registry can be moved."""
    if not isinstance(reference, str) or not reference or reference != reference.strip():
        raise ConfigError(setting, reference, HOW_TO_PIN)
    repository, tag, digest = split_image_reference(reference)
    if not repository or repository.endswith("/") or " " in reference:
        raise ConfigError(setting, reference, HOW_TO_PIN)
    if tag is not None and not _TAG_RE.match(tag):
        raise ConfigError(setting, reference, "a tag of letters, digits, '_', '.' and '-' (at "
                          "most 128, not starting with '.' or '-') before the digest")
    if digest is None:
        raise ConfigError(setting, reference, HOW_TO_PIN)
    if not _DIGEST_RE.match(digest):
        raise ConfigError(setting, reference, "a digest must be sha256: followed by 64 "
                          "lowercase hex characters")
    return reference


def validate_digest_pinned(reference: object, setting: str) -> str:
    """An image handed over from elsewhere (another stack's output) must name its digest: a tag,
    even an immutable one, does not say which scanned image it is."""
    if isinstance(reference, str):
        _, _, digest = split_image_reference(reference)
        if digest is not None:
            return validate_prebuilt_image(reference, setting)
    raise ConfigError(setting, reference, "a digest-pinned reference repo@sha256:<64 hex>")


# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository> (ECR's registry host names).
_ECR_HOST_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def ecr_repository_arn(reference: str | None) -> str | None:
    """The ARN of the private ECR repository an image reference points at, or None when the
    image is not in a private ECR registry (nothing to grant: the pull needs no IAM)."""
    if not reference:
        return None
    repository, _, _ = split_image_reference(reference)
    host, _, name = repository.partition("/")
    match = _ECR_HOST_RE.match(host)
    if not match or not name:
        return None
    region = match["region"]
    partition = ("aws-cn" if region.startswith("cn-") else
                 "aws-us-gov" if region.startswith("us-gov-") else "aws")
    return f"arn:{partition}:ecr:{region}:{match['account']}:repository/{name}"


def _docker_pattern_regex(pattern: str) -> re.Pattern | None:
    """A .dockerignore pattern as Docker compiles it (moby/patternmatcher): `*` and `?` stop at
    '/', `**` spans folders, the rest is literal or a character class. None if it does not
    compile (it then ignores nothing, which can only make the tag change more often)."""
    regex, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1:i + 2] == "*":
                i += 1
                if pattern[i + 1:i + 2] == "/":
                    i += 1
                regex += ".*" if i + 1 >= len(pattern) else "(.*/)?"
            else:
                regex += "[^/]*"
        elif ch == "?":
            regex += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                return None
            body = pattern[i + 1:close]
            regex += "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]"
            i = close
        else:
            regex += re.escape(ch)
        i += 1
    try:
        return re.compile(regex + "$")
    except re.error:
        return None


def _dockerignore_rules(context: Path) -> list[tuple[re.Pattern, bool]]:
    """(pattern, excluded) in file order, as Docker reads .dockerignore: comments and blank
    lines skipped, `!` re-includes, paths cleaned and relative to the context."""
    ignore_file = context / ".dockerignore"
    if not ignore_file.is_file():
        return []
    rules = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        cleaned = posixpath.normpath(line[1:].strip() if include else line).lstrip("/")
        compiled = _docker_pattern_regex(cleaned)
        if compiled is not None:
            rules.append((compiled, not include))
    return rules


def _ignored(relative: str, rules: list[tuple[re.Pattern, bool]]) -> bool:
    """Docker's rule: the last pattern that matches the path, or one of its parent folders,
    decides (moby/patternmatcher MatchesOrParentMatches)."""
    parts = relative.split("/")
    if any(part in _LITTER for part in parts) or relative.endswith(".pyc"):
        return True
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern, excluded in rules:
        if any(pattern.match(candidate) for candidate in candidates):
            ignored = excluded
    return ignored


def source_fingerprint(context: str | os.PathLike, *, dockerfile: str = "Dockerfile",
                       platform: str, build_args: dict[str, str] | None = None) -> str:
    """SHA-256 over every file that can reach the image (path, mode bit, bytes) plus the build
    settings that change its content (Dockerfile path, platform, build args). Timestamps and
    file order do not count, so two machines agree."""
    root = Path(context)
    if not root.is_dir():
        raise ConfigError("source", str(context), "a folder that contains the service's Dockerfile")
    if not (root / dockerfile).is_file():
        raise ConfigError("dockerfile", dockerfile, f"a file inside {root}")
    rules = _dockerignore_rules(root)
    digest = hashlib.sha256()
    digest.update(f"dockerfile={dockerfile}\nplatform={platform}\n".encode())
    for key, value in sorted((build_args or {}).items()):
        digest.update(f"arg:{key}={value}\n".encode())
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(root).as_posix()
        if relative != dockerfile and _ignored(relative, rules):
            continue
        executable = "x" if os.access(path, os.X_OK) else "-"
        digest.update(f"file:{relative}:{executable}:".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_tag(fingerprint: str) -> str:
    # 20 hex characters (80 bits) keeps tags readable and collisions out of reach.
    return SOURCE_TAG_PREFIX + fingerprint[:20]
