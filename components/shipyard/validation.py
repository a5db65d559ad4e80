"""Checks on names, ports, paths and ARNs that AWS would otherwise reject at `pulumi up` time.
Pure functions: they run before any resource is registered and are property-tested."""

import ipaddress
import math
import re

from .errors import ConfigError

# Pulumi auto-naming appends "-" and 7 random characters to the logical name.
AUTONAME_SUFFIX_LENGTH = 8
# Load balancer and target group names: at most 32 characters (ELBv2 API).
ELB_NAME_LIMIT = 32

SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
# ECS allows 255 letters of either case, digits, '_' and '-' in a container name, but the name
# also becomes the port mapping's name ("<name>-<port>": lowercase letters, digits, '_' and
# '-', at most 64; ECS API reference, PortMapping) and part of the ECR repository's name
# (lowercase only; ECR API reference, CreateRepository).
CONTAINER_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,254}$")
PORT_MAPPING_NAME_LIMIT = 64
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


def validate_port_mapping_name(container: str, port: int, setting: str) -> str:
    """The port mapping is named "<container>-<port>"; ECS allows at most 64 characters."""
    name = f"{container}-{port}"
    if len(name) > PORT_MAPPING_NAME_LIMIT:
        raise ConfigError(setting, container,
                          f"at most {PORT_MAPPING_NAME_LIMIT - len(str(port)) - 1} characters for "
                          f"the container with port {port}, because its port mapping "
                          f"'{container}-{port}' may have at most {PORT_MAPPING_NAME_LIMIT}")
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


# The new VPC's subnets (network.py): per AZ one public /22 and one private /20, in that order.
PUBLIC_SUBNET_PREFIX = 22
PRIVATE_SUBNET_PREFIX = 20


def subnet_layout(cidr_block: str, az_count: int,
                  prefixes: tuple[int, ...] = (PUBLIC_SUBNET_PREFIX, PRIVATE_SUBNET_PREFIX),
                  ) -> list[list[ipaddress.IPv4Network]] | None:
    """The subnets awsx's automatic layout gives each AZ, or None when they do not fit.

    As awsx's getSubnetSpecs does (awsx/ec2/subnetDistributorNew.ts): the VPC is split into
    2^ceil(log2(az_count)) equal AZ blocks; inside a block the first subnet starts at its base
    and each next one at the next boundary of its own size after the previous one. awsx itself
    only compares the sum of the sizes with the block; the alignment can push a subnet past
    it, so this also requires every subnet to lie inside its AZ block."""
    vpc = ipaddress.IPv4Network(cidr_block)
    az_prefix = vpc.prefixlen + math.ceil(math.log2(az_count)) if az_count > 1 else vpc.prefixlen
    if az_prefix > 32 or any(p < az_prefix or p > 32 for p in prefixes):
        return None
    layout = []
    for az_block in list(vpc.subnets(new_prefix=az_prefix))[:az_count]:
        subnets: list[ipaddress.IPv4Network] = []
        for prefix in prefixes:
            if not subnets:
                subnet = ipaddress.IPv4Network((az_block.network_address, prefix))
            else:
                around = ipaddress.IPv4Network((subnets[-1].broadcast_address, prefix),
                                               strict=False)
                start = int(around.broadcast_address) + 1
                if start > int(az_block.broadcast_address):
                    return None
                subnet = ipaddress.IPv4Network((start, prefix))
            if not subnet.subnet_of(az_block):
                return None
            subnets.append(subnet)
        layout.append(subnets)
    return layout


def validate_subnet_layout(cidr_block: str, az_count: int, setting: str) -> str:
    """Refuse a VPC block too small for the subnets of `az_count` AZs, naming the largest
    prefix length that fits."""
    try:
        if not isinstance(cidr_block, str):
            raise TypeError(cidr_block)
        ipaddress.IPv4Network(cidr_block)
    except (TypeError, ValueError):
        raise ConfigError(setting, cidr_block, "an IPv4 network address with no host bits set, "
                          "such as 10.0.0.0/16") from None
    if isinstance(az_count, bool) or not isinstance(az_count, int) or az_count < 1:
        raise ConfigError(setting, cidr_block, f"a layout for a positive number of AZs, not "
                          f"{az_count!r}")
    if subnet_layout(cidr_block, az_count) is None:
        fitting = [p for p in range(8, 29)
                   if subnet_layout(f"10.0.0.0/{p}", az_count) is not None]
        hint = f"use /{max(fitting)} or a larger block" if fitting else "use fewer AZs"
        raise ConfigError(
            setting, cidr_block,
            f"too small for {az_count} AZs of one /{PUBLIC_SUBNET_PREFIX} public and one "
            f"/{PRIVATE_SUBNET_PREFIX} private subnet each; {hint}")
    return cidr_block


# ECS Exec runs the SSM agent inside each container, and it must write there: "making the root
# file system read-only ... isn't supported" (ECS developer guide, "Monitor Amazon ECS
# containers with ECS Exec", considerations; aws-containers/amazon-ecs-exec-checker#21). The
# known way round is writable volumes at the agent's state and log folders
# (aws/containers-roadmap#1359): the containers here always have a read-only root, so ECS Exec
# is accepted only when every container declares them as scratch paths (or a parent folder).
EXEC_WRITABLE_PATHS = ("/var/lib/amazon/ssm", "/var/log/amazon/ssm")


def validate_exec_writable_paths(scratch_paths: dict[str, tuple[str, ...]], setting: str) -> None:
    """Refuse ECS Exec unless every container can give the SSM agent its writable folders."""
    lacking = {}
    for container, paths in scratch_paths.items():
        missing = [need for need in EXEC_WRITABLE_PATHS
                   if not any(need == p or need.startswith(p.rstrip("/") + "/") for p in paths)]
        if missing:
            lacking[container] = missing
    if lacking:
        where = "; ".join(f"{name}: {', '.join(paths)}" for name, paths in lacking.items())
        raise ConfigError(
            setting, True,
            "ECS Exec's SSM agent writes inside the container and the root filesystem is "
            f"read-only; add these to scratch_paths ({where}), or turn ECS Exec off")
