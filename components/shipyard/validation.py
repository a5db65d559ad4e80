"""Checks on names, ports, paths and ARNs that AWS would otherwise reject at `pulumi up` time.
Pure functions: they run before any resource is registered and are property-tested."""

import ipaddress
import math
import re
from dataclasses import dataclass

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
# ARN and id shapes: SHAPES below (ACM_ARN_RE and the others are its patterns).

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
    validate_elb_names(name, setting)
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


# --- AWS's shapes for the names, ids and ARNs a setting carries, in one place -----------------
# Each shape says what AWS accepts and where that is published. NAMED_SETTINGS maps every
# argument that carries a name, id or ARN to its shape; the parsers check through `check`, and
# tests/test_aws_shapes.py enumerates the arguments so that a new one without a shape fails.

# EC2 resource ids: the prefix, a hyphen and 8 or 17 hexadecimal characters (EC2 User Guide,
# "Resource IDs": longer IDs have 17 characters after the hyphen, older ones 8).
_EC2_ID = r"(?:[0-9a-f]{8}|[0-9a-f]{17})"
_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b|-eusc)?"
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"
_ACCOUNT = r"\d{12}"


@dataclass(frozen=True)
class Shape:
    what: str
    pattern: re.Pattern
    example: str
    source: str
    max_length: int = 2048
    regional: bool = False
    """The resource lives in one region; a stack may use only those of its own region."""


# botocore's models carry these patterns (tests/test_aws_shapes.py compares them):
# acm `Arn`, lambda `FunctionArn`.
BOTOCORE_ACM_ARN = r"arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*"
BOTOCORE_LAMBDA_FUNCTION_ARN = (r"arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?"
                                r"-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?")

SHAPES: dict[str, Shape] = {
    "acm_certificate_arn": Shape(
        "an ACM certificate ARN", re.compile(
            rf"^(?={BOTOCORE_ACM_ARN}$)arn:{_PARTITION}:acm:{_REGION}:{_ACCOUNT}:certificate/"
            r"[A-Za-z0-9-]+$"),
        "arn:aws:acm:<region>:<account>:certificate/<id>",
        "ACM API reference (botocore acm Arn, 20-2048 characters)", regional=True),
    "secret_arn": Shape(
        "a Secrets Manager secret ARN", re.compile(
            rf"^arn:{_PARTITION}:secretsmanager:{_REGION}:{_ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+$"),
        "arn:aws:secretsmanager:<region>:<account>:secret:<name>",
        "Secrets Manager API reference (botocore SecretIdType, 1-2048)", regional=True),
    "kms_key_arn": Shape(
        "a KMS key ARN", re.compile(
            rf"^arn:{_PARTITION}:kms:{_REGION}:{_ACCOUNT}:key/(?:mrk-)?[A-Za-z0-9-]+$"),
        "arn:aws:kms:<region>:<account>:key/<id>",
        "KMS developer guide, key ARN (botocore KeyIdType, 1-2048)", regional=True),
    "iam_policy_arn": Shape(
        "an IAM policy ARN", re.compile(
            rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,128}}$"),
        "arn:aws:iam::<account>:policy/<name>",
        "IAM API reference (botocore arnType 20-2048, policyNameType)"),
    "lambda_function_arn": Shape(
        "a Lambda function ARN", re.compile(rf"^(?:{BOTOCORE_LAMBDA_FUNCTION_ARN})$"),
        "arn:aws:lambda:<region>:<account>:function:<name>",
        "Lambda API reference (botocore FunctionArn)", regional=True),
    "ecs_cluster_arn": Shape(
        "an ECS cluster ARN", re.compile(
            rf"^arn:{_PARTITION}:ecs:{_REGION}:{_ACCOUNT}:cluster/[A-Za-z0-9_-]{{1,255}}$"),
        "arn:aws:ecs:<region>:<account>:cluster/<name>", "ECS API reference, Cluster",
        regional=True),
    "ecs_cluster_name": Shape(
        "an ECS cluster name", re.compile(r"^[A-Za-z0-9_-]{1,255}$"), "my-cluster",
        "ECS API reference, CreateCluster clusterName: up to 255 letters, numbers, '_', '-'"),
    "servicediscovery_namespace_arn": Shape(
        "a Cloud Map namespace ARN", re.compile(
            rf"^arn:{_PARTITION}:servicediscovery:{_REGION}:{_ACCOUNT}:namespace/ns-"
            r"[a-z0-9]{16}$"),
        "arn:aws:servicediscovery:<region>:<account>:namespace/ns-<16 characters>",
        "Cloud Map API reference, Namespace Id", regional=True),
    "vpc_id": Shape("a VPC id", re.compile(rf"^vpc-{_EC2_ID}$"), "vpc-0123456789abcdef0",
                    "EC2 User Guide, Resource IDs (8 or 17 characters after the prefix)"),
    "subnet_id": Shape("a subnet id", re.compile(rf"^subnet-{_EC2_ID}$"),
                       "subnet-0123456789abcdef0",
                       "EC2 User Guide, Resource IDs (8 or 17 characters after the prefix)"),
    "security_group_id": Shape("a security group id", re.compile(rf"^sg-{_EC2_ID}$"),
                               "sg-0123456789abcdef0",
                               "EC2 User Guide, Resource IDs (8 or 17 characters after the prefix)"),
    "route53_zone_id": Shape(
        "a Route 53 hosted zone id", re.compile(r"^Z[A-Z0-9]{1,31}$"), "Z0123456789ABCDEFGHIJ",
        "Route 53 API reference (botocore ResourceId, at most 32)", max_length=32),
    "cloudwatch_metric_name": Shape(
        "a CloudWatch metric name", re.compile(r"^[^\x00-\x1f]{1,255}$"),
        "ApproximateNumberOfMessagesVisible", "CloudWatch API reference (botocore MetricName, "
        "1-255)", max_length=255),
    "cloudwatch_namespace": Shape(
        "a CloudWatch namespace", re.compile(r"^(?=[^:])[^\x00-\x1f]{1,255}$"), "AWS/SQS",
        "CloudWatch API reference (botocore Namespace: 1-255, not starting with ':')",
        max_length=255),
    "s3_bucket_name": Shape(
        "an S3 bucket name", re.compile(r"^(?!xn--)(?!sthree-)(?!\d+\.\d+\.\d+\.\d+$)"
                                        r"[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$"),
        "my-log-bucket", "S3 User Guide, bucket naming rules (3-63, lower case, digits, '.', '-')",
        max_length=63),
}


# The patterns by their older names, for code that matches them directly.
ACM_ARN_RE = SHAPES["acm_certificate_arn"].pattern
SECRET_ARN_RE = SHAPES["secret_arn"].pattern
IAM_POLICY_ARN_RE = SHAPES["iam_policy_arn"].pattern
KMS_KEY_ARN_RE = SHAPES["kms_key_arn"].pattern


def check(shape_name: str, value: object, setting: str) -> str:
    """`value` when it has the AWS shape `shape_name`; a ConfigError naming the setting, the
    value and the shape otherwise."""
    shape = SHAPES[shape_name]
    if not isinstance(value, str) or len(value) > shape.max_length \
            or not shape.pattern.match(value):
        raise ConfigError(setting, value, f"{shape.what} such as {shape.example}")
    return value


def check_input(shape_name: str, value: object, setting: str) -> object:
    """As `check`, but an Output (known only at deploy time) passes unchecked."""
    import pulumi  # the pure checks above need no SDK
    return value if isinstance(value, pulumi.Output) else check(shape_name, value, setting)


def check_id_list(shape_name: str, value: object, setting: str, *,
                  minimum: int = 0) -> object:
    """A list of ids of one shape, each at most once (AWS refuses a subnet listed twice: a load
    balancer takes one subnet per Availability Zone). An Output passes unchecked."""
    import pulumi
    if isinstance(value, pulumi.Output):
        return value
    if not isinstance(value, (list, tuple)):
        raise ConfigError(setting, value, f"a list of {_plural(shape_name)}")
    for index, item in enumerate(value):
        if not isinstance(item, pulumi.Output):
            check(shape_name, item, f"{setting}[{index}]")
    plain = [item for item in value if isinstance(item, str)]
    repeated = sorted({item for item in plain if plain.count(item) > 1})
    if repeated:
        raise ConfigError(setting, repeated[0], "each id at most once (two subnets must be in "
                          "distinct Availability Zones)")
    if len(value) < minimum:
        raise ConfigError(setting, list(value), f"at least {minimum} distinct "
                          f"{_plural(shape_name)} in different Availability Zones")
    return list(value)


def _plural(shape_name: str) -> str:
    """ "a subnet id" -> "subnet ids"."""
    return SHAPES[shape_name].what.split(" ", 1)[1] + "s"


def check_arn_region(value: object, setting: str, region: str) -> None:
    """A regional resource's ARN names the stack's region (an ALB uses only ACM certificates of
    its own region: ELB User Guide, "SSL certificates for your Application Load Balancer")."""
    if isinstance(value, str) and value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) > 5 and parts[3] and parts[3] != region:
            raise ConfigError(setting, value, f"a resource in the stack's region {region}; "
                              f"this one is in {parts[3]}")


# Every argument that carries a name, id or ARN, by (arguments, key), with the shape its parser
# checks it against. tests/test_aws_shapes.py lists the arguments of every TypedDict and nested
# setting and fails for one that looks like a name, id or ARN and is missing here, then proves
# each entry is checked by feeding it a malformed value.
NAMED_SETTINGS: dict[tuple[str, str], str] = {
    ("ContainerServiceArgs", "name"): "service_name",
    ("ContainerServiceArgs", "certificate_arn"): "acm_certificate_arn",
    ("ContainerServiceArgs", "permissions_boundary_arn"): "iam_policy_arn",
    ("ContainerServiceArgs", "vpc_id"): "vpc_id",
    ("ContainerServiceArgs", "public_subnet_ids"): "subnet_id",
    ("ContainerServiceArgs", "private_subnet_ids"): "subnet_id",
    ("ContainerServiceArgs", "extra_security_group_ids"): "security_group_id",
    ("ContainerServiceArgs", "callers"): "security_group_id",
    ("ContainerServiceArgs", "cluster_arn"): "ecs_cluster_arn",
    ("ContainerServiceArgs", "cluster_name"): "ecs_cluster_name",
    ("ContainerServiceArgs", "service_connect_namespace"): "servicediscovery_namespace_arn",
    ("ContainerServiceArgs", "service_connect_alias"): "dns_label",
    ("ContainerServiceArgs", "access_logs_bucket"): "s3_bucket_name",
    ("ContainerArgs", "name"): "container_name",
    ("ContainerArgs", "image"): "image_reference",
    ("SecretArgs", "arn"): "secret_arn",
    ("SecretArgs", "kms_key_arn"): "kms_key_arn",
    ("DeploymentArgs", "smoke_test_lambda_arn"): "lambda_function_arn",
    ("EgressArgs", "security_group_id"): "security_group_id",
    ("ScalingMetricArgs", "metric_name"): "cloudwatch_metric_name",
    ("ScalingMetricArgs", "namespace"): "cloudwatch_namespace",
    ("ServiceImageArgs", "repository_name"): "ecr_repository_name",
    ("ServiceImageArgs", "kms_key_arn"): "kms_key_arn",
    ("DnsArgs", "zone_id"): "route53_zone_id",
    ("DnsArgs", "name"): "dns_name",
    ("NetworkArgs", "vpc_id"): "vpc_id",
    ("NetworkArgs", "public_subnet_ids"): "subnet_id",
    ("NetworkArgs", "private_subnet_ids"): "subnet_id",
    ("NetworkArgs", "permissions_boundary_arn"): "iam_policy_arn",
    ("SharedLoadBalancerArgs", "vpc_id"): "vpc_id",
    ("SharedLoadBalancerArgs", "public_subnet_ids"): "subnet_id",
    ("SharedLoadBalancerArgs", "private_subnet_ids"): "subnet_id",
    ("SharedLoadBalancerArgs", "callers"): "security_group_id",
    ("SharedLoadBalancerArgs", "certificate_arn"): "acm_certificate_arn",
    ("SharedLoadBalancerArgs", "access_logs_bucket"): "s3_bucket_name",
}


# ELB names (ELBv2 API reference, CreateLoadBalancer and CreateTargetGroup Name, also in
# botocore's elbv2 model): at most 32 alphanumerics or hyphens, not beginning or ending with a
# hyphen; a load balancer's may not begin with "internal-".
_ELB_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
# The names this component derives: "<name>-alb" (load balancer), "<name>-tg", "<name>-tg2"
# (target groups), each with Pulumi's "-" and 7 random characters.
DERIVED_ELB_SUFFIXES = {"load balancer": "-alb", "target group": "-tg", "alternate target group": "-tg2"}


def elb_name_problem(name: str, *, load_balancer: bool) -> str | None:
    """Why AWS would refuse `name` as a load balancer (or target group) name, or None."""
    if not _ELB_NAME_RE.match(name):
        return (f"'{name}' has more than {ELB_NAME_LIMIT} characters or characters other than "
                "letters, digits and inner hyphens")
    if load_balancer and name.lower().startswith("internal-"):
        return f"'{name}' begins with 'internal-', which AWS reserves"
    return None


def validate_elb_names(base: str, setting: str) -> None:
    """Refuse a component or service name whose derived ELB names AWS would refuse."""
    for kind, suffix in DERIVED_ELB_SUFFIXES.items():
        example = f"{base}{suffix}-{'x' * (AUTONAME_SUFFIX_LENGTH - 1)}"
        problem = elb_name_problem(example, load_balancer=kind == "load balancer")
        if problem:
            raise ConfigError(setting, base, f"its {kind} would be named like {problem} "
                              "(ELBv2 API reference, CreateLoadBalancer/CreateTargetGroup Name)")
