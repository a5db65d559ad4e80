"""The delivery project's config, validated before anything is registered: names an org must
fill in, and the rules that keep prod from deploying on every push."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from shipyard.errors import ConfigError

NAMESPACE = "shipyard-delivery"
ORG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
REPO_RE = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
PLACEHOLDERS = ("replace-me", "example", "your-org", "changeme")
STACK_KEYS = frozenset({"push_to_deploy", "branch", "production", "scan_max_high"})


@dataclass(frozen=True)
class StackDelivery:
    name: str
    push_to_deploy: bool
    branch: str
    production: bool


@dataclass(frozen=True)
class DeliverySettings:
    pulumi_org: str
    app_project: str
    github_repository: str
    github_owner_id: str
    github_repository_id: str
    aws_account_id: str
    aws_region: str
    stacks: tuple[StackDelivery, ...]
    resource_prefixes: tuple[str, ...]
    policy_pack_version: str

    @property
    def owner(self) -> str:
        return self.github_repository.split("/")[0]

    @property
    def repo_name(self) -> str:
        return self.github_repository.split("/")[1]


def _required(raw: Mapping[str, Any], key: str, pattern: re.Pattern, allowed: str) -> str:
    value = raw.get(key)
    setting = f"{NAMESPACE}:{key}"
    if value is None or value == "":
        raise ConfigError(setting, value, f"required: {allowed}")
    if not isinstance(value, str) or not pattern.match(value) or any(
            p in value.lower() for p in PLACEHOLDERS):
        raise ConfigError(setting, value, allowed)
    return value


def _stack(name: str, raw: object) -> StackDelivery:
    setting = f"{NAMESPACE}:stacks.{name}"
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping with push_to_deploy, branch, production")
    unknown = sorted(set(raw) - STACK_KEYS)
    if unknown:
        raise ConfigError(setting, unknown[0], "unknown key; allowed: " + ", ".join(sorted(STACK_KEYS)))
    production = raw.get("production", name == "prod")
    push = raw.get("push_to_deploy", False)
    branch = raw.get("branch", "main")
    if not isinstance(push, bool) or not isinstance(production, bool):
        raise ConfigError(setting, raw, "push_to_deploy and production are true or false")
    if not isinstance(branch, str) or not BRANCH_RE.match(branch) or "*" in branch:
        raise ConfigError(f"{setting}.branch", branch,
                          "one branch name such as main; a wildcard would deploy every branch")
    if production and push:
        raise ConfigError(f"{setting}.push_to_deploy", push,
                          "a production stack is promoted by a release behind the GitHub "
                          "'production' environment's approval, never deployed on every push")
    return StackDelivery(name=name, push_to_deploy=push, branch=branch, production=production)


def parse_delivery_settings(raw: Mapping[str, Any]) -> DeliverySettings:
    org = _required(raw, "pulumi_org", ORG_RE, "your Pulumi organization's name")
    repository = _required(raw, "github_repository", REPO_RE,
                           "the GitHub repository as owner/name")
    owner_id = _required(raw, "github_owner_id", re.compile(r"^\d+$"),
                         "the numeric id of the repository owner (GitHub API: owner.id)")
    repository_id = _required(raw, "github_repository_id", re.compile(r"^\d+$"),
                              "the numeric id of the repository (GitHub API: id)")
    account = _required(raw, "aws_account_id", ACCOUNT_RE, "the 12-digit AWS account id")
    region = _required(raw, "aws_region", re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"),
                       "an AWS region such as eu-west-1")
    stacks_raw = raw.get("stacks")
    if not isinstance(stacks_raw, Mapping) or not stacks_raw:
        raise ConfigError(f"{NAMESPACE}:stacks", stacks_raw,
                          "a mapping of stack name to its delivery settings")
    stacks = tuple(_stack(name, value) for name, value in stacks_raw.items())
    if not any(s.production for s in stacks):
        raise ConfigError(f"{NAMESPACE}:stacks", sorted(stacks_raw),
                          "one stack must be marked production: true")
    prefixes = raw.get("resource_prefixes")
    if not isinstance(prefixes, list) or not prefixes or not all(
            isinstance(p, str) and PREFIX_RE.match(p) for p in prefixes):
        raise ConfigError(f"{NAMESPACE}:resource_prefixes", prefixes,
                          "the logical-name prefixes of what the program creates, e.g. "
                          "[web, cluster, network, alb-logs]")
    project = raw.get("app_project", "shipyard")
    version = raw.get("policy_pack_version", "0.1.0")
    return DeliverySettings(
        pulumi_org=org, app_project=str(project), github_repository=repository,
        github_owner_id=owner_id, github_repository_id=repository_id, aws_account_id=account,
        aws_region=region, stacks=stacks, resource_prefixes=tuple(prefixes),
        policy_pack_version=str(version))


def load_delivery_settings() -> DeliverySettings:
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get_object(key) if key in ("stacks", "resource_prefixes")
           else config.get(key)
           for key in ("pulumi_org", "github_repository", "github_owner_id",
                       "github_repository_id", "aws_account_id", "aws_region", "stacks",
                       "resource_prefixes", "app_project", "policy_pack_version")}
    return parse_delivery_settings({k: v for k, v in raw.items() if v is not None})
