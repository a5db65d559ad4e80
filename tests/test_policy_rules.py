"""Every other resource rule: a compliant resource passes, each way of breaking it is reported
with its exact message, and a value unknown at preview skips the rule instead of judging it."""

import json

import pytest
from policy_helpers import DIGEST, UNKNOWN, allow, document, messages, skipped

TD = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/abc-123"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/abc"
GOOD_CONTAINER = {
    "name": "web", "image": f"repo/app@{DIGEST}", "user": "10001:10001",
    "readonlyRootFilesystem": True, "privileged": False,
    "logConfiguration": {"logDriver": "awslogs", "options": {}},
    "environment": [{"name": "LOG_LEVEL", "value": "info"}],
    "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:x"}]}
GOOD = {
    TD: {"containerDefinitions": json.dumps([GOOD_CONTAINER]), "networkMode": "awsvpc",
         "taskRoleArn": "arn:aws:iam::1:role/task", "executionRoleArn": "arn:aws:iam::1:role/exec"},
    SERVICE: {"networkConfiguration": {"assignPublicIp": False, "subnets": ["s-1"]},
              "platformVersion": "LATEST",
              "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    LB: {"loadBalancerType": "application", "subnets": ["s-1", "s-2"],
         "dropInvalidHeaderFields": True, "desyncMitigationMode": "defensive",
         "enableDeletionProtection": True, "accessLogs": {"enabled": True, "bucket": "logs"}},
    LISTENER: {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
               "certificateArn": CERT, "defaultActions": [{"type": "forward"}]},
    "aws:ecr/repository:Repository": {
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
    "aws:ecr/repositoryPolicy:RepositoryPolicy": {"policy": document(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage",
         "Principal": {"AWS": "arn:aws:iam::444455556666:root"}})},
    "aws:iam/rolePolicy:RolePolicy": {"policy": document(allow("s3:GetObject",
                                                               "arn:aws:s3:::b/*"))},
    "aws:iam/role:Role": {"assumeRolePolicy": document(
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
         "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}})},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0",
        "description": "HTTPS"},
    "aws:ec2/securityGroup:SecurityGroup": {"description": "web tasks", "ingress": [
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"],
         "description": "HTTP redirect"}]},
    "aws:ec2/securityGroupRule:SecurityGroupRule": {
        "type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"], "description": "HTTPS"},
    "aws:secretsmanager/secret:Secret": {"kmsKeyId": KEY},
    "aws:cloudwatch/logGroup:LogGroup": {"retentionInDays": 30, "kmsKeyId": KEY},
    "aws:kms/key:Key": {"enableKeyRotation": True},
}


def with_container(**changes):
    return {"containerDefinitions": json.dumps([{**GOOD_CONTAINER, **changes}])}


def without(key):
    return {"containerDefinitions": json.dumps([
        {k: v for k, v in GOOD_CONTAINER.items() if k != key}])}


def trust(statement):
    return {"assumeRolePolicy": document(statement)}


GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
NOT_PUBLIC = ("statement #1 allows principal '*' without a condition that confines it to an "
              "organization or account; name the accounts or roles that may pull, or add "
              "aws:PrincipalOrgID.")
ECS_TRUST = ("statement #1 trusts ecs-tasks.amazonaws.com without an aws:SourceAccount or "
             "aws:SourceArn condition that confines it to an account.")
GITHUB_ANY_SUB = ("statement #1 trusts token.actions.githubusercontent.com with a "
                  "'token.actions.githubusercontent.com:sub' condition that admits any value; "
                  "name the repository (or audience) exactly.")

# (policy, type, change to the compliant props, expected messages)
CASES = [
    ("ecs-non-privileged", TD, with_container(privileged=True),
     ["Container 'web' runs privileged."]),
    ("ecs-readonly-rootfs", TD, with_container(readonlyRootFilesystem=False),
     ["Container 'web' has a writable root filesystem (readonlyRootFilesystem is not true)."]),
    ("ecs-readonly-rootfs", TD, without("readonlyRootFilesystem"),
     ["Container 'web' has a writable root filesystem (readonlyRootFilesystem is not true)."]),
    ("ecs-non-root-user", TD, without("user"),
     ["Container 'web' sets no user, so it runs as the image's user (often root)."]),
    ("ecs-non-root-user", TD, with_container(user="root"),
     ["Container 'web' runs as root (user 'root')."]),
    ("ecs-non-root-user", TD, with_container(user="0:1000"),
     ["Container 'web' runs as root (user '0:1000')."]),
    ("ecs-non-root-user", TD, with_container(user="000:1000"),
     ["Container 'web' runs as root (user '000:1000')."]),
    ("ecs-log-configuration", TD, without("logConfiguration"),
     ["Container 'web' has no logConfiguration.logDriver."]),
    ("ecs-no-secrets-in-env", TD,
     with_container(environment=[{"name": "DB_PASSWORD", "value": "x"}]),
     ["Container 'web' passes 'DB_PASSWORD' in plain environment; its name looks like a "
      "credential."]),
    ("ecs-no-secrets-in-env", TD,
     with_container(environment=[{"name": "GITHUB_TOKEN", "value": "x"}]),
     ["Container 'web' passes 'GITHUB_TOKEN' in plain environment; its name looks like a "
      "credential."]),
    ("ecs-no-secrets-in-env", TD,
     with_container(environment=[{"name": "AWS_KEY_ID", "value": "AKIAABCDEFGHIJKLMNOP"}]),
     ["Container 'web' passes an AWS access key id in plain environment ('AWS_KEY_ID')."]),
    ("ecs-no-secrets-in-env", TD,
     with_container(environment=[{"name": "DATABASE_URL",
                                  "value": "postgres://app:pw@db:5432/app"}]),
     ["Container 'web' passes a URL with a password in plain environment ('DATABASE_URL')."]),
    ("ecs-no-host-pid", TD, {"pidMode": "host"},
     ["pidMode is 'host'; tasks must not share the host's process namespace."]),
    ("ecs-awsvpc-network", TD, {"networkMode": "bridge"},
     ["networkMode is 'bridge'; use 'awsvpc' (one ENI and security group per task)."]),
    ("ecs-task-role-separate", TD, {"taskRoleArn": "arn:aws:iam::1:role/exec"},
     ["taskRoleArn and executionRoleArn name the same role; the application would hold the "
      "agent's pull and secret-read permissions."]),
    ("ecs-service-no-public-ip", SERVICE,
     {"networkConfiguration": {"assignPublicIp": True, "subnets": ["s-1"]}},
     ["networkConfiguration.assignPublicIp is true; run tasks in private subnets."]),
    ("ecs-fargate-platform-latest", SERVICE, {"platformVersion": "1.3.0"},
     ["platformVersion is pinned to '1.3.0'; use 'LATEST' for security fixes."]),
    ("ecs-deployment-safety", SERVICE, {"deploymentCircuitBreaker": {"enable": True,
                                                                     "rollback": False}},
     ["Rolling deployment without the circuit breaker and rollback: a bad image keeps "
      "replacing healthy tasks."]),
    ("ecs-deployment-safety", SERVICE, {"deploymentCircuitBreaker": None},
     ["Rolling deployment without the circuit breaker and rollback: a bad image keeps "
      "replacing healthy tasks."]),
    ("ecs-deployment-safety", SERVICE,
     {"deploymentCircuitBreaker": None,
      "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "0"}},
     ["blue/green deployment has neither alarm rollback nor a bake time: nothing rolls a bad "
      "revision back."]),
    ("ecs-deployment-safety", SERVICE,
     {"deploymentCircuitBreaker": None, "deploymentConfiguration": {"strategy": "CANARY"}},
     ["canary deployment has neither alarm rollback nor a bake time: nothing rolls a bad "
      "revision back."]),
    ("alb-access-logs", LB, {"accessLogs": {"enabled": False, "bucket": "logs"}},
     ["Access logs are off; enable accessLogs with a bucket."]),
    ("alb-deletion-protection", LB, {"enableDeletionProtection": False},
     ["Deletion protection is off."]),
    ("alb-drop-invalid-headers", LB, {"dropInvalidHeaderFields": False},
     ["dropInvalidHeaderFields is not true; malformed headers reach the service."]),
    ("alb-desync-mitigation", LB, {"desyncMitigationMode": "monitor"},
     ["desyncMitigationMode is 'monitor'; use 'defensive' or 'strictest'."]),
    ("alb-multi-az", LB, {"subnets": ["s-1"]},
     ["The load balancer spans 1 subnet(s); use at least two AZs."]),
    ("http-redirects-to-https", LISTENER,
     {"protocol": "HTTP", "port": 80, "sslPolicy": None, "certificateArn": None},
     ["HTTP listener on port 80 serves traffic (actions: forward) instead of only redirecting "
      "to HTTPS."]),
    ("http-redirects-to-https", LISTENER,
     {"protocol": "HTTP", "port": 80, "defaultActions": [
         {"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}]},
     ["HTTP listener on port 80 serves traffic (actions: redirect) instead of only "
      "redirecting to HTTPS."]),
    ("listener-https-tls13", LISTENER, {"sslPolicy": "ELBSecurityPolicy-2016-08"},
     ["sslPolicy ELBSecurityPolicy-2016-08 negotiates TLSv1, TLSv1.1, TLSv1.2; use a policy with "
      "TLS 1.3 and nothing older than TLS 1.2, such as ELBSecurityPolicy-TLS13-1-2-2021-06."]),
    # A TLS 1.3 policy that still negotiates TLS 1.0/1.1 (protocol table from AWS's docs).
    ("listener-https-tls13", LISTENER, {"sslPolicy": "ELBSecurityPolicy-TLS13-1-0-2021-06"},
     ["sslPolicy ELBSecurityPolicy-TLS13-1-0-2021-06 negotiates TLSv1, TLSv1.1, TLSv1.2, "
      "TLSv1.3; use a policy with TLS 1.3 and nothing older than TLS 1.2, such as "
      "ELBSecurityPolicy-TLS13-1-2-2021-06."]),
    ("listener-https-tls13", LISTENER, {"sslPolicy": "ELBSecurityPolicy-TLS13-made-up"},
     ["sslPolicy is 'ELBSecurityPolicy-TLS13-made-up', which is not in the table of AWS security "
      "policies; use a TLS 1.3 policy such as ELBSecurityPolicy-TLS13-1-2-2021-06."]),
    ("listener-https-tls13", LISTENER, {"certificateArn": "arn:aws:iam::1:server-certificate/x"},
     ["certificateArn 'arn:aws:iam::1:server-certificate/x' is not an ACM certificate ARN."]),
    ("ecr-tag-immutable", "aws:ecr/repository:Repository", {"imageTagMutability": "MUTABLE"},
     ["imageTagMutability is 'MUTABLE'; set it to 'IMMUTABLE'."]),
    ("ecr-tag-immutable", "aws:ecr/repository:Repository", {"imageTagMutability": None},
     ["imageTagMutability is 'MUTABLE'; set it to 'IMMUTABLE'."]),
    ("ecr-kms", "aws:ecr/repository:Repository", {"encryptionConfigurations": None},
     ["The repository is encrypted with AES256 only; use encryptionType 'KMS'."]),
    ("ecr-repo-policy-not-public", "aws:ecr/repositoryPolicy:RepositoryPolicy",
     {"policy": document({"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"})},
     [NOT_PUBLIC]),
    ("ecr-repo-policy-not-public", "aws:ecr/repositoryPolicy:RepositoryPolicy",
     {"policy": document({"Effect": "Allow", "Action": "ecr:BatchGetImage",
                          "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}})},
     [NOT_PUBLIC]),
    ("iam-no-admin", "aws:iam/rolePolicy:RolePolicy", {"policy": document(allow("*", "*"))},
     ["policy statement #1 allows '*' on '*' (administrator access)."]),
    ("iam-no-service-wildcard-action", "aws:iam/rolePolicy:RolePolicy",
     {"policy": document(allow("s3:*", "arn:aws:s3:::b"))},
     ["policy statement #1 allows s3:*; list the actions needed."]),
    ("iam-no-service-wildcard-action", "aws:iam/rolePolicy:RolePolicy",
     {"policy": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
     ["policy statement #1 uses Allow with NotAction, which grants every other action."]),
    ("iam-kms-decrypt-scoped", "aws:iam/rolePolicy:RolePolicy",
     {"policy": document(allow("kms:Decrypt", "*"))},
     ["policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
      "StringEquals aws:ResourceTag condition."]),
    ("iam-kms-decrypt-scoped", "aws:iam/rolePolicy:RolePolicy",
     {"policy": document(allow("kms:Decrypt*", "arn:aws:kms:eu-west-1:111122223333:key/*"))},
     ["policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
      "StringEquals aws:ResourceTag condition."]),
    ("iam-kms-decrypt-scoped", "aws:iam/rolePolicy:RolePolicy",
     {"policy": document(allow("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/*",
                               Condition={"StringLike": {"aws:ResourceTag/project": "*"}}))},
     ["policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
      "StringEquals aws:ResourceTag condition."]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole"}),
     [ECS_TRUST]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:SourceAccount": "*"}}}),
     [ECS_TRUST]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}}),
     [ECS_TRUST]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:*:*"}}}),
     [ECS_TRUST]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:eu-west-1:*:*"}}}),
     [ECS_TRUST]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
     ["statement #1 trusts principal '*'; name a service or identity provider."]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
     ["statement #1 trusts AWS principal '*'; name the account or role."]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Federated": GITHUB},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
     ["statement #1 trusts token.actions.githubusercontent.com without a condition on "
      "'token.actions.githubusercontent.com:sub'."]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Federated": GITHUB},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "*"},
                          "StringEquals": {
                              "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
     [GITHUB_ANY_SUB]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Federated": GITHUB},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub":
                                         "repo:*/app:ref:refs/heads/main"},
                          "StringEquals": {
                              "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
     [GITHUB_ANY_SUB]),
    ("iam-trust-scoped", "aws:iam/role:Role",
     trust({"Effect": "Allow", "Principal": {"Federated": GITHUB},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub":
                                         "repo:org/*:ref:refs/heads/main"},
                          "StringEquals": {
                              "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
     [GITHUB_ANY_SUB]),
    ("sg-public-ingress-80-443-only", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"fromPort": 22, "toPort": 22},
     ["rule opens tcp port 22 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."]),
    ("sg-public-ingress-80-443-only", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"ipProtocol": "-1", "fromPort": None, "toPort": None, "cidrIpv4": None,
      "cidrIpv6": "::/0"},
     ["rule opens all traffic to ::/0; only tcp/udp ports 80, 443 may be public."]),
    ("sg-public-ingress-80-443-only", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"fromPort": 0, "toPort": 65535},
     ["rule opens tcp ports 0-65535 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."]),
    ("sg-public-ingress-80-443-only", "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432,
                   "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"], "description": "db"}]},
     ["ingress[0] opens tcp port 5432 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be "
      "public."]),
    ("sg-public-ingress-80-443-only", "aws:ec2/securityGroupRule:SecurityGroupRule",
     {"type": "ingress", "protocol": "tcp", "fromPort": 3389, "toPort": 3389,
      "cidrBlocks": ["0.0.0.0/0"], "description": "rdp"},
     ["rule opens tcp port 3389 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."]),
    ("sg-descriptions", "aws:ec2/securityGroup:SecurityGroup",
     {"description": "Managed by Pulumi"},
     ["The security group has no description of its purpose."]),
    ("sg-descriptions", "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["10.0.0.0/8"]}]},
     ["ingress[0] has no description."]),
    ("sg-descriptions", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"description": None}, ["The security group rule has no description."]),
    ("secret-kms", "aws:secretsmanager/secret:Secret", {"kmsKeyId": None},
     ["The secret uses the AWS-managed key; set kmsKeyId to a customer-managed key."]),
    ("secret-kms", "aws:secretsmanager/secret:Secret", {"kmsKeyId": "alias/aws/secretsmanager"},
     ["The secret uses the AWS-managed key; set kmsKeyId to a customer-managed key."]),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": None},
     ["The log group keeps logs forever (no retentionInDays)."]),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 7},
     ["retentionInDays is 7; this stack requires at least 14."]),
    ("log-kms", "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": None},
     ["The log group is not encrypted with a KMS key."]),
    ("kms-rotation", "aws:kms/key:Key", {"enableKeyRotation": False},
     ["Key rotation is off; set enableKeyRotation."]),
]


def props_for(type_token: str, change: dict) -> dict:
    props = {**GOOD[type_token], **change}
    return {k: v for k, v in props.items() if v is not None}


@pytest.mark.parametrize("policy,type_token,change,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_reports_each_way_it_breaks(pack, policy, type_token, change, expected):
    assert messages(pack, policy, type_token, GOOD[type_token]) == [], "compliant case fails"
    assert messages(pack, policy, type_token, props_for(type_token, change)) == expected


@pytest.mark.parametrize("policy,type_token,key", sorted({
    (c[0], c[1], next(iter(c[2]))) for c in CASES if next(iter(c[2])) in GOOD[c[1]]}))
def test_rule_skips_unknown_values(pack, policy, type_token, key):
    props = {**GOOD[type_token], key: UNKNOWN}
    assert messages(pack, policy, type_token, props) == []
    assert skipped(pack, policy, type_token, props)


def test_kms_key_wildcard_pinned_by_resource_tag_passes(pack):
    statement = allow("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/*",
                      Condition={"StringEquals": {"aws:ResourceTag/project": "shipyard"}})
    assert messages(pack, "iam-kms-decrypt-scoped", "aws:iam/rolePolicy:RolePolicy",
                    {"policy": document(statement)}) == []


def test_lb_and_alb_tokens_are_the_same_resource(pack):
    props = props_for(LB, {"dropInvalidHeaderFields": False})
    assert messages(pack, "alb-drop-invalid-headers", "aws:alb/loadBalancer:LoadBalancer",
                    props) == messages(pack, "alb-drop-invalid-headers", LB, props) != []
    listener = props_for(LISTENER, {"protocol": "HTTP", "port": 80})
    assert messages(pack, "http-redirects-to-https", "aws:alb/listener:Listener", listener) != []


def test_network_load_balancers_are_not_judged_as_albs(pack):
    props = {"loadBalancerType": "network", "subnets": ["s-1"]}
    assert messages(pack, "alb-drop-invalid-headers", LB, props) == []


def test_policy_config_sets_minimum_retention(pack):
    pack.configure({"log-retention": {"minimumRetentionDays": 365}})
    assert messages(pack, "log-retention", "aws:cloudwatch/logGroup:LogGroup",
                    {"retentionInDays": 30}) == [
        "retentionInDays is 30; this stack requires at least 365."]


def test_policy_config_sets_public_ports(pack):
    pack.configure({"sg-public-ingress-80-443-only": {"allowedPorts": [443]}})
    assert messages(pack, "sg-public-ingress-80-443-only",
                    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                    props_for("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                              {"fromPort": 80, "toPort": 80})) == [
        "rule opens tcp port 80 to 0.0.0.0/0; only tcp/udp ports 443 may be public."]


def test_policy_config_is_validated_against_the_rule_schema(pack):
    from shipyard.errors import ConfigError
    with pytest.raises(ConfigError) as raised:
        pack.configure({"log-retention": {"minimumRetentionDays": "a year"}})
    assert str(raised.value) == ("policy config log-retention: {'minimumRetentionDays': "
                                 "'a year'} is not valid; 'a year' is not of type 'integer'")
    with pytest.raises(ConfigError):
        pack.configure({"no-such-rule": "mandatory"})


def test_every_rule_has_metadata(pack):
    import sys

    from conftest import POLICY_DIR
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails import ALL_POLICIES
    assert [p.name for p in pack.policies] == [p.name for p in ALL_POLICIES]
    for policy in pack.policies:
        assert policy.description and policy.remediation, policy.name
        assert policy.severity != "unspecified"
        assert policy.url.startswith("https://docs.aws.amazon.com/"), policy.name
