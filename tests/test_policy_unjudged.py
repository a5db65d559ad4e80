"""Class 6 of issue 18 and the pack half of issue 16 item 5, through the running pack: the
default security group, managed prefix lists holding internet ranges, WAF web ACLs without
(redacted) logging, and images run by tag from repositories whose tags can move. Prod's web ACLs
log, as the committed stack shows."""

import json

import pytest
from conftest import inputs, recorded
from policy_helpers import DIGEST, messages, stack_messages

ACCOUNT = "111122223333"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY = "aws:ec2/securityGroupRule:SecurityGroupRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
TD = "aws:ecs/taskDefinition:TaskDefinition"
REPOSITORY = "aws:ecr/repository:Repository"


@pytest.mark.parametrize("props,expected", [
    ({"vpcId": "vpc-1"}, []),
    ({"vpcId": "vpc-1", "ingress": [], "egress": []}, []),
    ({"vpcId": "vpc-1", "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0,
                                    "cidrBlocks": ["0.0.0.0/0"]}]},
     ["The VPC's default security group keeps 0 ingress and 1 egress rule(s); resources "
      "launched without a group land in it, so it must admit nothing (declare it with no "
      "rules)."]),
    ({"vpcId": "vpc-1", "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0,
                                     "self": True}]},
     ["The VPC's default security group keeps 1 ingress and 0 egress rule(s); resources "
      "launched without a group land in it, so it must admit nothing (declare it with no "
      "rules)."]),
])
def test_the_default_security_group_admits_nothing(pack, props, expected):
    assert messages(pack, "vpc-default-security-group-closed", DEFAULT_SG, props) == expected


def test_public_ingress_on_the_default_group_is_public_ingress(pack):
    props = {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22,
                          "cidrBlocks": ["0.0.0.0/0"]}]}
    assert messages(pack, "sg-public-ingress-80-443-only", DEFAULT_SG, props) == [
        "ingress[0] opens tcp port 22 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."]


def prefix_graph(cidrs: list[str], port: int = 22, *, entry: str | None = None) -> list:
    prefix_list = recorded(PREFIX_LIST, "office", {
        "addressFamily": "IPv4", "maxEntries": 5,
        "entries": [{"cidr": c, "description": "x"} for c in cidrs]})
    graph = [prefix_list]
    if entry is not None:
        graph.append(recorded("aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry", "extra",
                              {"cidr": entry, "prefixListId": "pl-1"},
                              deps={"prefixListId": [prefix_list]}))
    graph.append(recorded(RULE, "via-list", {
        "ipProtocol": "tcp", "fromPort": port, "toPort": port, "prefixListId": "pl-1",
        "description": "x"}, deps={"prefixListId": [prefix_list]}))
    graph.append(recorded(LEGACY, "legacy-via-list", {
        "type": "ingress", "protocol": "6", "fromPort": port, "toPort": port,
        "prefixListIds": ["pl-1"], "description": "x"}, deps={"prefixListIds": [prefix_list]}))
    return graph




@pytest.mark.parametrize("cidrs,entry,port,expected", [
    (["10.0.0.0/8", "203.0.113.0/24"], None, 22, []),
    (["0.0.0.0/0"], None, 443, []),
    (["0.0.0.0/0"], None, 22, ["0.0.0.0/0"]),
    (["10.0.0.0/8"], "::/0", 22, ["::/0"]),
    (["0.0.0.0/1", "128.0.0.0/1"], None, 22, ["0.0.0.0/1", "128.0.0.0/1"]),
])
def test_prefix_lists_are_judged_by_the_ranges_they_hold(pack, cidrs, entry, port, expected):
    found = stack_messages(pack, "sg-prefix-list-ingress-80-443-only",
                           prefix_graph(cidrs, port, entry=entry))
    opened = ", ".join(f"{c} (prefix list office)" for c in expected)
    assert found == ([] if not expected else [
        ("via-list", f"rule opens tcp port 22 to {opened}; only tcp/udp ports 80, 443 may be "
                     "public."),
        ("legacy-via-list", f"rule opens tcp port 22 to {opened}; only tcp/udp ports 80, 443 "
                            "may be public.")])


def waf_graph(logging: dict | None) -> list:
    acl = recorded(WEB_ACL, "acl", {"scope": "REGIONAL"})
    graph = [acl]
    if logging is not None:
        graph.append(recorded(LOGGING, "acl-logs", logging, deps={"resourceArn": [acl]}))
    return graph


REDACTED = [{"singleHeader": {"name": "Authorization"}}, {"singleHeader": {"name": "cookie"}}]


@pytest.mark.parametrize("logging,expected", [
    ({"resourceArn": "a", "logDestinationConfigs": ["g"], "redactedFields": REDACTED}, []),
    (None, [("acl", "The web ACL has no logging configuration; blocked and allowed requests go "
                    "unrecorded.")]),
    ({"resourceArn": "a", "logDestinationConfigs": [], "redactedFields": REDACTED},
     [("acl", "The web ACL has no logging configuration; blocked and allowed requests go "
              "unrecorded.")]),
    ({"resourceArn": "a", "logDestinationConfigs": ["g"]},
     [("acl-logs", "The web ACL's logs keep the Authorization and Cookie header(s); redact "
                   "them (redactedFields singleHeader), or the logs hold credentials in plain "
                   "text.")]),
    ({"resourceArn": "a", "logDestinationConfigs": ["g"], "redactedFields": REDACTED[:1]},
     [("acl-logs", "The web ACL's logs keep the Cookie header(s); redact them (redactedFields "
                   "singleHeader), or the logs hold credentials in plain text.")]),
])
def test_web_acls_log_with_credentials_redacted(pack, logging, expected):
    assert stack_messages(pack, "waf-logging", waf_graph(logging)) == expected


def test_prod_web_acls_log_to_an_encrypted_waf_log_group_with_credentials_redacted(prod, pack):
    acls = inputs(prod, WEB_ACL)
    configurations = inputs(prod, LOGGING)
    groups = inputs(prod, "aws:cloudwatch/logGroup:LogGroup")
    assert acls and set(configurations) == {f"{name}-logs" for name in acls}
    for name, configuration in configurations.items():
        assert [f["singleHeader"]["name"] for f in configuration["redactedFields"]] == [
            "authorization", "cookie"]
        group = groups[name]
        assert group["name"].startswith("aws-waf-logs-")  # WAF refuses any other group
        assert group["retentionInDays"] >= 365 and group["kmsKeyId"]
    policies = inputs(prod, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    for policy in policies.values():
        (statement,) = json.loads(policy["policyDocument"])["Statement"]
        assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert statement["Resource"].endswith(":log-stream:*")
        assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
    assert stack_messages(pack, "waf-logging", prod.resources) == []


def task(image: str) -> object:
    return recorded(TD, "task", {"containerDefinitions": json.dumps([{
        "name": "web", "image": image, "user": "10001", "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs"}}])})


def repository(mutability: str) -> object:
    return recorded(REPOSITORY, "repo", {"name": "team/app", "imageTagMutability": mutability})


ECR_HOST = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize("image,mutability,expected", [
    (f"{ECR_HOST}/team/app:src-1", "IMMUTABLE", []),
    (f"{ECR_HOST}/team/app@{DIGEST}", "MUTABLE", []),
    (f"{ECR_HOST}/team/app:src-1", "MUTABLE",
     [("task", f"Image '{ECR_HOST}/team/app:src-1' is a tag of ECR repository 'team/app', whose "
               "tags are not IMMUTABLE; pin it by digest, or make the repository IMMUTABLE.")]),
    (f"{ECR_HOST}/team/app:src-1", "IMMUTABLE_WITH_EXCLUSION",
     [("task", f"Image '{ECR_HOST}/team/app:src-1' is a tag of ECR repository 'team/app', whose "
               "tags are not IMMUTABLE; pin it by digest, or make the repository IMMUTABLE.")]),
    (f"{ECR_HOST}/vendor/tool:1.0", "IMMUTABLE",
     [("task", f"Image '{ECR_HOST}/vendor/tool:1.0' is a tag of ECR repository 'vendor/tool', "
               "which is not a repository of this stack, so nothing shows its tags cannot "
               "move; pin it by digest (@sha256:...).")]),
])
def test_ecr_tags_count_only_in_immutable_repositories_of_the_stack(pack, image, mutability,
                                                                    expected):
    assert stack_messages(pack, "image-tag-immutable-repository",
                          [repository(mutability), task(image)]) == expected


@pytest.mark.parametrize("image", ["nginx:1.27", "public.ecr.aws/x/y:v1", "ghcr.io/o/a:2",
                                   "quay.io/o/a:3", "registry.local:5000/a:1"])
def test_tags_of_other_registries_need_a_digest(pack, image):
    props = {"containerDefinitions": json.dumps([{"name": "web", "image": image}])}
    registry = image.split("/")[0] if "/" in image else "docker.io"
    assert messages(pack, "image-no-latest", TD, props) == [
        f"Container 'web' uses '{image}', a tag in {registry}, where tags can be repointed; pin "
        "it by digest (@sha256:...)."]
    props = {"containerDefinitions": json.dumps([{"name": "web", "image": f"{image}@{DIGEST}"}])}
    assert messages(pack, "image-no-latest", TD, props) == []


def test_a_published_tag_is_not_a_runner(pack):
    # docker images push a tag by definition; only `latest`/untagged names are refused there.
    assert messages(pack, "image-no-latest", "docker:index/image:Image",
                    {"imageName": "ghcr.io/o/a:src-1"}) == []
