"""Image identity: the tag derived from a service's own source, and the rules for a prebuilt
reference. The tag is a content hash so that unchanged source gives the same tag (no rebuild,
no new task definition) on any machine, and a retried deploy never pushes a tag twice into an
IMMUTABLE repository."""

import fnmatch
import hashlib
import os
import re
from pathlib import Path

from .errors import ConfigError

SOURCE_TAG_PREFIX = "src-"
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# Never part of a build context's identity: VCS and editor/runtime litter.
_ALWAYS_IGNORED = (".git", ".git/*", "__pycache__", "*/__pycache__", "*.pyc", ".pytest_cache",
                   ".venv", ".DS_Store")


def split_image_reference(reference: str) -> tuple[str, str | None, str | None]:
    """Split `[registry[:port]/]repository[:tag][@sha256:digest]` into (repository, tag, digest).

    A colon before the last '/' belongs to a registry port, not to a tag."""
    name, _, digest = reference.partition("@")
    last_slash = name.rfind("/")
    last_colon = name.rfind(":")
    if last_colon > last_slash:
        return name[:last_colon], name[last_colon + 1:], digest or None
    return name, None, digest or None


def validate_prebuilt_image(reference: object, setting: str) -> str:
    """A prebuilt image must be pinned: by digest (preferred) or by an explicit tag other than
    `latest`. An untagged reference means `latest` to every container runtime."""
    allowed = ("pin it by digest (repo@sha256:<64 hex>) or by an explicit immutable tag other "
               "than 'latest'")
    if not isinstance(reference, str) or not reference or reference != reference.strip():
        raise ConfigError(setting, reference, allowed)
    repository, tag, digest = split_image_reference(reference)
    if not repository or repository.endswith("/"):
        raise ConfigError(setting, reference, allowed)
    if digest is not None:
        if not _DIGEST_RE.match(digest):
            raise ConfigError(setting, reference, "a digest must be sha256: followed by 64 "
                              "lowercase hex characters")
        return reference
    if tag is None or tag == "latest" or not _TAG_RE.match(tag):
        raise ConfigError(setting, reference, allowed)
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


def _dockerignore_patterns(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    if not ignore_file.is_file():
        return []
    patterns = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not line.startswith("!"):
            patterns.append(line.rstrip("/"))
    return patterns


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat) for pat in patterns for p in prefixes)


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
    patterns = list(_ALWAYS_IGNORED) + _dockerignore_patterns(root)
    digest = hashlib.sha256()
    digest.update(f"dockerfile={dockerfile}\nplatform={platform}\n".encode())
    for key, value in sorted((build_args or {}).items()):
        digest.update(f"arg:{key}={value}\n".encode())
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(root).as_posix()
        if relative != dockerfile and _ignored(relative, patterns):
            continue
        executable = "x" if os.access(path, os.X_OK) else "-"
        digest.update(f"file:{relative}:{executable}:".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_tag(fingerprint: str) -> str:
    # 20 hex characters (80 bits) keeps tags readable and collisions out of reach.
    return SOURCE_TAG_PREFIX + fingerprint[:20]
