"""Checks on names, ports, paths and ARNs that AWS would otherwise reject at `pulumi up` time.
Pure functions: they run before any resource is registered and are property-tested."""

import re

from .errors import ConfigError

# Pulumi auto-naming appends "-" and 7 random characters to the logical name.
AUTONAME_SUFFIX_LENGTH = 8
# Load balancer and target group names: at most 32 characters (ELBv2 API).
ELB_NAME_LIMIT = 32

SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
CONTAINER_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,254}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}$")
CIDR_RE = re.compile(
    r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)/(?:3[0-2]|[12]?\d)$"
)
ACM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
)
IAM_POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/[A-Za-z0-9+=,.@_/-]+$")
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")

# Longest suffix this component appends to a service name for an ELB resource ("-alb", "-tg").
_LONGEST_ELB_ROLE_SUFFIX = len("-alb")
MAX_SERVICE_NAME_LENGTH = ELB_NAME_LIMIT - AUTONAME_SUFFIX_LENGTH - _LONGEST_ELB_ROLE_SUFFIX

# Ports the container may not listen on behind the ALB: the ALB itself owns 80/443 on its side,
# but a container may use them; only the privileged range is refused because the task runs as
# a non-root user, which cannot bind below 1024.
MIN_CONTAINER_PORT = 1024
MAX_PORT = 65535


def validate_service_name(name: object, setting: str = "name") -> str:
    if not isinstance(name, str) or not SERVICE_NAME_RE.match(name) or "--" in name:
        raise ConfigError(setting, name,
                          "use lowercase letters, digits and single hyphens, starting with a "
                          "letter and not ending with a hyphen")
    if len(name) > MAX_SERVICE_NAME_LENGTH:
        raise ConfigError(
            setting, name,
            f"at most {MAX_SERVICE_NAME_LENGTH} characters, because the load balancer name "
            f"'{name}-alb' plus Pulumi's {AUTONAME_SUFFIX_LENGTH}-character suffix must fit "
            f"AWS's {ELB_NAME_LIMIT}-character limit")
    return name


def validate_container_port(port: object, setting: str) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not (
            MIN_CONTAINER_PORT <= port <= MAX_PORT):
        raise ConfigError(setting, port,
                          f"an integer from {MIN_CONTAINER_PORT} to {MAX_PORT} (the container runs "
                          "as a non-root user, which cannot bind a privileged port)")
    return port


def validate_health_check_path(path: object, setting: str) -> str:
    if not isinstance(path, str) or not HEALTH_PATH_RE.match(path):
        raise ConfigError(setting, path,
                          "an absolute URL path such as /healthz (starts with '/', at most 1024 "
                          "characters, no spaces or query string)")
    return path


def validate_cidrs(cidrs: object, setting: str) -> list[str]:
    if not isinstance(cidrs, list) or not cidrs:
        raise ConfigError(setting, cidrs, "a non-empty list of IPv4 CIDR blocks such as 203.0.113.0/24")
    for cidr in cidrs:
        if not isinstance(cidr, str) or not CIDR_RE.match(cidr):
            raise ConfigError(setting, cidr, "an IPv4 CIDR block such as 203.0.113.0/24")
    return list(cidrs)


def validate_int_range(value: object, setting: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(setting, value, f"an integer from {low} to {high}")
    return value


def validate_choice(value: object, setting: str, choices: tuple) -> object:
    if value not in choices:
        raise ConfigError(setting, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def validate_arn(value: object, setting: str, pattern: re.Pattern, example: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(setting, value, f"an ARN of the form {example}")
    return value


def validate_env_name(name: object, setting: str) -> str:
    if not isinstance(name, str) or not ENV_NAME_RE.match(name):
        raise ConfigError(setting, name,
                          "an environment variable name: letters, digits and '_', not starting "
                          "with a digit")
    return name


def reject_unknown_keys(given: dict, allowed: set[str] | frozenset[str], setting: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ConfigError(setting, unknown[0],
                          "unknown key; allowed keys are " + ", ".join(sorted(allowed)))
