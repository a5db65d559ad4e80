"""The mutation corpus: a compliant baseline per resource type (and one compliant stack), then
one change per case, each meant to break exactly one rule, plus compliant variants that a naive
rule would flag. Run through the real pack process; `python tests/policy_mutations.py` prints

    killed K/N, false alarms F/M, crashes C

A mutant is killed when its rule reports it; a false alarm is any violation on a compliant
baseline or variant; a crash is an Analyzer call that returns an RPC error or does not answer."""

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import POLICY_DIR, recorded
from shipyard.errors import ConfigError

from shipyard_preview.analyzer import PackSession, running_pack

DIGEST = "sha256:" + "a" * 64
ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"
CERT = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/abc-123"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any, **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


CONTAINER = {"name": "web", "image": f"repo/app@{DIGEST}", "user": "10001:10001",
             "readonlyRootFilesystem": True, "privileged": False,
             "logConfiguration": {"logDriver": "awslogs", "options": {}},
             "environment": [{"name": "AUTH_URL", "value": "https://id.example.com"}],
             "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:x"}]}
SCOPED_POLICY = doc(
    allow("ecr:GetAuthorizationToken", "*"),
    allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], REPO),
    allow("kms:Decrypt", KEY),
    allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app-task"))
ECS_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                 "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})

BASELINES: dict[str, dict] = {
    "aws:ecs/taskDefinition:TaskDefinition": {
        "containerDefinitions": json.dumps([CONTAINER]), "networkMode": "awsvpc",
        "taskRoleArn": "arn:aws:iam::1:role/task", "executionRoleArn": "arn:aws:iam::1:role/exec"},
    "aws:ecs/service:Service": {
        "networkConfiguration": {"assignPublicIp": False, "subnets": ["s-1"]},
        "platformVersion": "LATEST",
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    "aws:ecs/taskSet:TaskSet": {"networkConfiguration": {"assignPublicIp": False},
                                "platformVersion": "LATEST"},
    "aws:lb/loadBalancer:LoadBalancer": {
        "loadBalancerType": "application", "subnets": ["s-1", "s-2"],
        "dropInvalidHeaderFields": True, "desyncMitigationMode": "defensive",
        "enableDeletionProtection": True, "accessLogs": {"enabled": True, "bucket": "logs"}},
    "aws:lb/listener:Listener": {
        "protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "certificateArn": CERT, "defaultActions": [{"type": "forward"}]},
    "aws:ecr/repository:Repository": {
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
    "aws:ecr/repositoryPolicy:RepositoryPolicy": {"policy": doc(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage",
         "Principal": {"AWS": "arn:aws:iam::444455556666:root"}})},
    "aws:iam/rolePolicy:RolePolicy": {"policy": SCOPED_POLICY},
    "aws:iam/role:Role": {"assumeRolePolicy": ECS_TRUST, "inlinePolicies": [
        {"name": "pull", "policy": SCOPED_POLICY}]},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"},
    "aws:ec2/securityGroup:SecurityGroup": {"description": "web", "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"],
         "description": "HTTPS"}]},
    "aws:secretsmanager/secret:Secret": {"kmsKeyId": KEY},
    "aws:cloudwatch/logGroup:LogGroup": {"retentionInDays": 30, "kmsKeyId": KEY},
    "aws:kms/key:Key": {"enableKeyRotation": True},
    "aws:lambda/function:Function": {"packageType": "Image", "imageUri": f"repo/fn@{DIGEST}"},
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {"vpcId": "vpc-1"},
    "aws:ec2/securityGroupRule:SecurityGroupRule": {
        "type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"], "description": "HTTPS"},
}


def container(**changes: Any) -> dict:
    return {"containerDefinitions": json.dumps([{**CONTAINER, **changes}])}


def policy(*statements: dict) -> dict:
    return {"policy": doc(*statements)}


def trust(condition: dict | None, principal: Any = None) -> dict:
    statement: dict = {"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": principal or {"Service": "ecs-tasks.amazonaws.com"}}
    if condition is not None:
        statement["Condition"] = condition
    return {"assumeRolePolicy": doc(statement)}


ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
DEEP = "[" * 300 + "]" * 300


def env(name: str, value: str) -> dict:
    return container(environment=[{"name": name, "value": value}])


def ingress(protocol: Any, from_port: Any, to_port: Any, cidr: str = "0.0.0.0/0") -> dict:
    return {"ingress": [{"protocol": protocol, "fromPort": from_port, "toPort": to_port,
                         "cidrBlocks": [cidr], "description": "rule"}]}


def nested(depth: int) -> dict:
    value: dict = {"leaf": "x"}
    for _ in range(depth):
        value = {"x": value}
    return value


TD, SVC, LB, LST = ("aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service",
                    "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener")
RP, ROLE, REPOSITORY = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/role:Role",
                        "aws:ecr/repository:Repository")
SG = "aws:ec2/securityGroup:SecurityGroup"
# (rule, type, change to the baseline): each must be reported by `rule`.
MUTANTS: list[tuple[str, str, dict]] = [
    ("image-no-latest", TD, container(image="nginx:latest")),
    ("image-no-latest", TD, container(image="nginx")),
    ("image-no-latest", TD, {"containerDefinitions": json.dumps([{**CONTAINER,
                                                                  "Image": "nginx:latest"}])}),
    ("image-no-latest", "aws:lambda/function:Function", {"imageUri": "repo/fn:latest"}),
    ("iam-no-wildcard-ecr-resource", RP, policy(allow("ecr:BatchGetImage", "*"))),
    ("iam-no-wildcard-ecr-resource", RP, policy(allow("ecr:BatchGetImage",
                                                      f"{REPO[:-3]}team-*"))),
    ("iam-no-wildcard-ecr-resource", RP, policy(allow("ecr:Batch?etImage",
                                                      "arn:aws:ecr:*:1:repository/app"))),
    ("iam-no-wildcard-ecr-resource", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}),
    ("iam-no-wildcard-ecr-resource", ROLE, {"inlinePolicies": [
        {"name": "x", "policy": doc(allow("ecr:PutImage", "*"))}]}),
    ("iam-no-admin", RP, policy(allow("*", "*"))),
    ("iam-no-admin", RP, policy(allow("*:*", "arn:*"))),
    ("iam-no-service-wildcard-action", RP, policy(allow("s3:*", "arn:aws:s3:::b"))),
    ("iam-no-service-wildcard-action", RP, policy(allow("sts:??*", "arn:aws:iam::1:role/r"))),
    ("iam-kms-decrypt-scoped", RP, policy(allow("kms:Decrypt", "*"))),
    ("iam-kms-decrypt-scoped", RP, policy(allow("kms:Decrypt",
                                                f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"))),
    ("iam-no-wildcard-resource", RP, policy(allow("iam:PassRole", "*"))),
    ("iam-no-wildcard-resource", RP, policy(allow("secretsmanager:GetSecretValue", "*"))),
    ("iam-no-wildcard-resource", RP, policy(allow("s3:GetObject", "arn:aws:s3:::*/*"))),
    ("iam-trust-scoped", ROLE, trust(None)),
    ("iam-trust-scoped", ROLE, trust({"StringLike": {"aws:SourceAccount": "*"}})),
    ("iam-trust-scoped", ROLE, trust(
        {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"},
         "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        {"Federated": GITHUB})),
    ("ecr-tag-immutable", REPOSITORY, {"imageTagMutability": "MUTABLE"}),
    ("ecr-tag-immutable", REPOSITORY, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}),
    ("ecr-kms", REPOSITORY, {"encryptionConfigurations": [{"encryptionType": "AES256"}]}),
    ("ecr-repo-policy-not-public", "aws:ecr/repositoryPolicy:RepositoryPolicy", policy(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"})),
    ("ecs-non-privileged", TD, container(privileged=True)),
    ("ecs-readonly-rootfs", TD, container(readonlyRootFilesystem=False)),
    ("ecs-no-host-pid", TD, {"pidMode": "host"}),
    ("ecs-awsvpc-network", TD, {"networkMode": "bridge"}),
    ("ecs-non-root-user", TD, container(user="0")),
    ("ecs-non-root-user", TD, container(user="00:10001")),  # uid 0 written with two digits
    ("ecs-log-configuration", TD, container(logConfiguration={})),
    ("ecs-no-secrets-in-env", TD, container(environment=[{"name": "MYSQL_PWD", "value": "x"}])),
    ("ecs-task-role-separate", TD, {"taskRoleArn": "arn:aws:iam::1:role/exec"}),
    ("ecs-service-no-public-ip", SVC, {"networkConfiguration": {"assignPublicIp": True}}),
    ("ecs-service-no-public-ip", "aws:ecs/taskSet:TaskSet",
     {"networkConfiguration": {"assignPublicIp": True}}),
    ("ecs-fargate-platform-latest", SVC, {"platformVersion": "1.3.0"}),
    ("ecs-deployment-safety", SVC, {"deploymentCircuitBreaker": {"enable": True,
                                                                 "rollback": False}}),
    ("ecs-deployment-safety", SVC, {"deploymentConfiguration": {"strategy": "CANARY"}}),
    ("alb-access-logs", LB, {"accessLogs": {"enabled": False}}),
    ("alb-deletion-protection", LB, {"enableDeletionProtection": False}),
    ("alb-drop-invalid-headers", LB, {"dropInvalidHeaderFields": False}),
    ("alb-desync-mitigation", LB, {"desyncMitigationMode": "monitor"}),
    ("alb-multi-az", LB, {"subnets": ["s-1"]}),
    ("http-redirects-to-https", LST, {"protocol": "HTTP", "port": 80}),
    ("listener-https-tls13", LST, {"sslPolicy": "ELBSecurityPolicy-TLS13-1-0-2021-06"}),
    ("listener-https-tls13", LST, {"certificateArn": "arn:aws:iam::1:server-certificate/x"}),
    ("sg-public-ingress-80-443-only", "aws:ec2/securityGroup:SecurityGroup", {"ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"],
         "description": "ssh"}]}),
    ("sg-descriptions", "aws:ec2/securityGroup:SecurityGroup", {"description": ""}),
    ("secret-kms", "aws:secretsmanager/secret:Secret", {"kmsKeyId": None}),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 7}),
    ("log-kms", "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": None}),
    ("kms-rotation", "aws:kms/key:Key", {"enableKeyRotation": False}),
    # Issue 16: a run image's tag pins nothing where tags can move.
    ("image-no-latest", TD, container(image="nginx:1.27")),
    ("image-no-latest", TD, container(image="public.ecr.aws/x/y:v1")),
    # Class 1: the value the provider normalizes is judged.
    ("http-redirects-to-https", LST, {"protocol": "http", "port": 80}),
    ("ecs-service-no-public-ip", SVC, {"networkConfiguration": {"assignPublicIp": "true"}}),
    ("ecs-service-no-public-ip", SVC, {"networkConfiguration": {"assignPublicIp": 1}}),
    ("sg-public-ingress-80-443-only", SG, ingress("ALL", 443, 443)),
    ("sg-public-ingress-80-443-only", SG, ingress("50", 443, 443)),
    ("sg-public-ingress-80-443-only", SG, ingress(-1, 443, 443)),
    ("sg-public-ingress-80-443-only", SG, ingress(6, "22", "22")),
    ("ecs-task-role-separate", TD, {"taskRoleArn": "EXEC",
                                    "executionRoleArn": "arn:aws:iam::1:role/exec"}),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": "7"}),
    ("kms-rotation", "aws:kms/key:Key", {"enableKeyRotation": "false"}),
    ("ecs-deployment-safety", SVC, {"deploymentCircuitBreaker": {"enable": "true",
                                                                 "rollback": "0"}}),
    ("ecs-non-privileged", TD, container(privileged="true")),
    # Class 2: IAM wildcards as IAM reads them (a short ARN is padded with '*').
    ("iam-no-wildcard-ecr-resource", RP, policy(allow("ecr:BatchGetImage",
                                                      "arn:aws:ecr:eu-west-1:*"))),
    ("iam-no-wildcard-ecr-resource", RP, policy(allow("ecr:BatchGetImage", "arn:aws:ecr"))),
    ("iam-kms-decrypt-scoped", RP, policy(allow("kms:Decrypt", "arn:aws:kms:eu-west-1:*"))),
    ("iam-no-wildcard-resource", RP, policy(allow(
        "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:*"))),
    # Class 3: conditions judged by what they admit.
    ("iam-trust-scoped", ROLE, trust({"StringLike": {"aws:SourceAccount": "1111*"}})),
    ("iam-trust-scoped", ROLE, trust({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})),
    ("iam-trust-scoped", ROLE, trust({"ForAllValues:StringEquals": {
        "aws:SourceAccount": ACCOUNT}})),
    ("iam-trust-scoped", ROLE, trust(
        {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/app*"},
         "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        {"Federated": GITHUB})),
    ("ecr-repo-policy-not-public", "aws:ecr/repositoryPolicy:RepositoryPolicy", policy(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"},
        {"Effect": "Deny", "Action": "ecr:PutImage", "Principal": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})),
    ("iam-no-wildcard-resource", RP, policy(allow(
        "iam:PassRole", "*", Condition={"StringLike": {"aws:ResourceTag/team": "*"}}))),
    # Class 4: inputs that crashed or hung the pack get a verdict.
    ("sg-public-ingress-80-443-only", SG, ingress("tcp", 0, 10**12)),
    ("iam-no-wildcard-ecr-resource", RP, policy(allow(
        "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:1:repository/" + "a*" * 400 + "b"))),
    ("log-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": float("nan")}),
    ("image-no-latest", TD, {"containerDefinitions": DEEP}),
    # Class 5: credentials by value and by name.
    ("ecs-no-secrets-in-env", TD, env("PGPASSWORD", "x")),
    ("ecs-no-secrets-in-env", TD, env("GH", "ghp_" + "a" * 36)),
    ("ecs-no-secrets-in-env", TD, env("SESSION", JWT)),
    ("ecs-no-secrets-in-env", TD, env("KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc")),
    ("ecs-no-secrets-in-env", TD, env("HOOK", "https://hooks.slack.com/services/T0001/B0002/"
                                              "abcdefghijkl")),
    ("ecs-no-secrets-in-env", TD, env("PAYMENTS", "sk_live_" + "a" * 24)),
    ("ecs-no-secrets-in-env", TD, env("CACHE", "redis://:hunter2@cache:6379")),
    # Class 6: what was not judged at all.
    ("vpc-default-security-group-closed", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
     ingress("tcp", 443, 443, "10.0.0.0/8")),
    ("sg-public-ingress-80-443-only", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
     ingress("tcp", 22, 22)),
    ("sg-public-ingress-80-443-only", "aws:ec2/securityGroupRule:SecurityGroupRule",
     {"protocol": "ALL"}),
]
# Compliant variants a naive rule flags (each must draw no violation at all).
COMPLIANT: list[tuple[str, dict]] = [
    (TD, container(environment=[{"name": "TOKEN_TTL_SECONDS", "value": "300"}])),
    (TD, container(image=f"repo/app:latest@{DIGEST}")),
    (RP, policy(allow("kms:Decrypt", f"arn:aws:kms:*:{ACCOUNT}:key/mrk-1234abcd12ab34cd"))),
    (RP, policy(allow(["ecr:GetAuthorizationToken", "ssmmessages:OpenDataChannel"], "*"))),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", policy(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}})),
    (SVC, {"deploymentCircuitBreaker": None,
           "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "5"}}),
    ("aws:kms/key:Key", {"enableKeyRotation": None, "customKeyStoreId": "cks-1"}),
    ("aws:kms/key:Key", {"enableKeyRotation": None, "customerMasterKeySpec": "RSA_2048"}),
    (LST, {"sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"}),
    # Class 1: spellings the provider reads as the compliant value.
    (LST, {"protocol": "https"}),
    (SVC, {"networkConfiguration": {"assignPublicIp": "false", "subnets": ["s-1"]}}),
    (SVC, {"deploymentCircuitBreaker": {"enable": "true", "rollback": "True"}}),
    (LB, {"dropInvalidHeaderFields": "true", "enableDeletionProtection": "1"}),
    (SG, ingress("TCP", "443", "443")),
    (SG, ingress(6, 80.0, 80.0)),
    ("aws:kms/key:Key", {"enableKeyRotation": "true"}),
    ("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": "30", "kmsKeyId": KEY}),
    (TD, {"taskRoleArn": "arn:aws:iam::1:role/task", "executionRoleArn": "exec"}),
    # Class 2: exact resources however the action is spelled.
    (RP, policy(allow("ECR:batchGETimage", REPO))),
    # Class 3: equivalent confining spellings.
    (ROLE, trust({"stringEquals": {"AWS:SOURCEACCOUNT": ACCOUNT}})),
    (ROLE, trust({"ForAnyValue:StringEquals": {"aws:SourceAccount": [ACCOUNT]}})),
    (ROLE, trust({"StringLike": {"aws:SourceAccount": "*"},
                  "StringEquals": {"aws:SourceAccount": ACCOUNT}})),
    (ROLE, trust({"ArnEquals": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"}})),
    (ROLE, trust({"StringLike": {"aws:SourceAccount": ACCOUNT}})),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", policy(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"},
        {"Effect": "Deny", "Action": "ecr:*", "Principal": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})),
    (RP, policy(allow("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
                      Condition={"StringEqualsIgnoreCase": {"aws:resourcetag/project": "x"}}))),
    # Class 4: what the SDK used to fail on, in properties no rule reads.
    ("aws:kms/key:Key", {"tags": nested(250)}),
    ("aws:kms/key:Key", {"deletionWindowInDays": float("inf")}),
    # Class 5: look-alikes of credentials.
    (TD, env("SESSION_COOKIE_SECURE", "true")),
    (TD, env("TOKEN_BUCKET_SIZE", "100")),
    (TD, env("PASSWORD_FILE", "/run/secrets/db")),
    (TD, env("STRIPE_PUBLISHABLE", "pk_live_" + "a" * 24)),
    (TD, env("CA_BUNDLE", "-----BEGIN CERTIFICATE-----\nabc")),
    (TD, env("DATABASE_URL", "postgres://app@db:5432/app")),
    # Issue 16: a digest pins any registry.
    (TD, container(image=f"public.ecr.aws/x/y:v1@{DIGEST}")),
    # Paths the baselines do not take.
    (LST, {"protocol": "HTTP", "port": 80, "sslPolicy": None, "certificateArn": None,
           "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS"}}]}),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", policy(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"},
        {"Effect": "Deny", "Action": "*", "Principal": {"AWS": "*"}, "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}})),
]


def stack_baseline() -> list:
    """A compliant graph for the stack rules."""
    repo = recorded(REPOSITORY, "repo", {"name": "app", "imageTagMutability": "IMMUTABLE",
                                         "imageScanningConfiguration": {"scanOnPush": True}})
    lifecycle = recorded("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lc",
                         {"repository": "app", "policy": "{}"}, deps={"repository": [repo]})
    cluster = recorded("aws:ecs/cluster:Cluster", "cluster", {"settings": [
        {"name": "containerInsights", "value": "enhanced"}]})
    alb_sg = recorded("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"description": "alb"})
    service_sg = recorded("aws:ec2/securityGroup:SecurityGroup", "svc-sg", {"description": "s"})
    bucket = recorded("aws:s3/bucket:Bucket", "logs", {})
    lb = recorded(LB, "alb", {"securityGroups": ["sg-aaaaaaaa"], "accessLogs": {
        "bucket": "logs", "enabled": True}},
        deps={"securityGroups": [alb_sg], "accessLogs": [bucket]})
    waf = recorded("aws:wafv2/webAclAssociation:WebAclAssociation", "waf",
                   {"resourceArn": "arn", "webAclArn": "arn"}, deps={"resourceArn": [lb]})
    rule = recorded("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "svc-in",
                    {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080,
                     "description": "from alb"},
                    deps={"securityGroupId": [service_sg], "referencedSecurityGroupId": [alb_sg]})
    service = recorded(SVC, "svc", {"loadBalancers": [{"containerPort": 8080}],
                                    "networkConfiguration": {"subnets": ["s-1"]}},
                       deps={"networkConfiguration": [service_sg]})
    secret = recorded("aws:secretsmanager/secret:Secret", "secret", {"kmsKeyId": KEY})
    rotation = recorded("aws:secretsmanager/secretRotation:SecretRotation", "rotation",
                        {"secretId": "arn"}, deps={"secretId": [secret]})
    block = recorded("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab",
                     {k: True for k in ("blockPublicAcls", "blockPublicPolicy",
                                        "ignorePublicAcls", "restrictPublicBuckets")},
                     deps={"bucket": [bucket]})
    tls = recorded("aws:s3/bucketPolicy:BucketPolicy", "bp", {"policy": doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}})}, deps={"bucket": [bucket]})
    expiry = recorded("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "exp",
                      {"rules": [{"id": "x", "status": "Enabled", "expiration": {"days": 90}}]},
                      deps={"bucket": [bucket]})
    vpc = recorded("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    flow = recorded("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": "v", "trafficType": "ALL"},
                    deps={"vpcId": [vpc]})
    http = recorded(LST, "http", {"protocol": "HTTP", "port": 80, "defaultActions": [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}]})
    http_rule = recorded("aws:lb/listenerRule:ListenerRule", "http-rule", {
        "priority": 10, "actions": [{"type": "redirect", "redirect": {"protocol": "HTTPS"}}]},
        deps={"listenerArn": [http]})
    acl = recorded("aws:wafv2/webAcl:WebAcl", "acl", {"scope": "REGIONAL"})
    waf_logs = recorded("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
                        "waf-logs", {"resourceArn": "arn", "logDestinationConfigs": ["arn"],
                                     "redactedFields": [{"singleHeader": {"name": "authorization"}},
                                                        {"singleHeader": {"name": "Cookie"}}]},
                        deps={"resourceArn": [acl]})
    prefix_list = recorded("aws:ec2/managedPrefixList:ManagedPrefixList", "office", {
        "addressFamily": "IPv4", "maxEntries": 2,
        "entries": [{"cidr": "203.0.113.0/24", "description": "office"}]})
    office_ssh = recorded("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                          "office-ssh", {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                         "prefixListId": "pl-1", "description": "office ssh"},
                          deps={"prefixListId": [prefix_list]})
    task = recorded(TD, "task", {"containerDefinitions": json.dumps(
        [{**CONTAINER, "image": f"{ECR_IMAGE}:src-1"}])})
    scanning = recorded("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
                        "scanning", {"scanType": "ENHANCED", "rules": [
                            {"scanFrequency": "CONTINUOUS_SCAN",
                             "repositoryFilters": [{"filter": "vendor-*",
                                                    "filterType": "WILDCARD"}]}]})
    legacy = recorded("aws:ec2/securityGroupRule:SecurityGroupRule", "svc-in-legacy", {
        "type": "ingress", "protocol": "tcp", "fromPort": 8080, "toPort": 8080,
        "description": "from alb"},
        deps={"securityGroupId": [service_sg], "sourceSecurityGroupId": [alb_sg]})
    return [repo, lifecycle, cluster, alb_sg, service_sg, bucket, lb, waf, rule, service, secret,
            rotation, block, tls, expiry, vpc, flow, http, http_rule, acl, waf_logs, prefix_list,
            office_ssh, task, scanning, legacy]


def _without(name: str) -> Callable[[list], list]:
    return lambda graph: [r for r in graph if r.name != name]


def _replace(name: str, props: dict, *, keep_deps: bool = True) -> Callable[[list], list]:
    def change(graph: list) -> list:
        return [recorded(r.type, r.name, props,
                         deps={k: [x for x in graph if x.urn in v]
                               for k, v in r.property_dependencies.items()} if keep_deps else {})
                if r.name == name else r for r in graph]
    return change


def _chain(*changes: Callable[[list], list]) -> Callable[[list], list]:
    def change(graph: list) -> list:
        for step in changes:
            graph = step(graph)
        return graph
    return change


STACK_MUTANTS: list[tuple[str, Callable[[list], list]]] = [
    ("ecr-lifecycle-policy", _without("lc")),
    ("ecr-scan-on-push", _replace("repo", {"name": "app", "imageTagMutability": "IMMUTABLE"})),
    ("ecs-container-insights", _replace("cluster", {"settings": []})),
    ("alb-waf", _without("waf")),
    ("sg-service-from-alb-only", _replace("svc-in", {"ipProtocol": "tcp", "fromPort": 0,
                                                      "toPort": 65535, "description": "x"})),
    ("secret-rotation", _without("rotation")),
    ("s3-log-bucket-hardened", _without("pab")),
    ("vpc-flow-logs", _without("flow")),
    ("http-listener-rules-redirect", _replace("http-rule", {
        "priority": 10, "actions": [{"type": "forward", "targetGroupArn": "tg"}]})),
    ("http-listener-rules-redirect", _chain(
        _replace("http", {"protocol": "http", "port": 80}),
        _replace("http-rule", {"priority": 10, "actions": [{"type": "Forward"}]}))),
    ("waf-logging", _without("waf-logs")),
    ("waf-logging", _replace("waf-logs", {"resourceArn": "arn", "logDestinationConfigs": ["arn"],
                                          "redactedFields": [
                                              {"singleHeader": {"name": "authorization"}}]})),
    ("sg-prefix-list-ingress-80-443-only", _replace("office", {
        "addressFamily": "IPv4", "maxEntries": 2, "entries": [{"cidr": "0.0.0.0/0"}]})),
    ("image-tag-immutable-repository", _replace("repo", {
        "name": "app", "imageTagMutability": "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True}})),
    ("image-tag-immutable-repository", _replace("task", {"containerDefinitions": json.dumps(
        [{**CONTAINER, "image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/other:v1"}])})),
    ("s3-log-bucket-hardened", _replace("bp", {"policy": doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": "arn:aws:s3:::zzprobe-bucket",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}})})),
    ("s3-log-bucket-hardened", _replace("pab", {k: "false" for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")})),
    ("secret-rotation", _replace("rotation", {"secretId": "some-other-secret"},
                                 keep_deps=False)),
]


@dataclass
class Summary:
    killed: int = 0
    mutants: int = 0
    false_alarms: int = 0
    compliant: int = 0
    crashes: int = 0
    survivors: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"killed {self.killed}/{self.mutants}, false alarms "
                f"{self.false_alarms}/{self.compliant}, crashes {self.crashes}")


def _props(type_token: str, change: dict) -> dict:
    merged = {**BASELINES[type_token], **change}
    return {k: v for k, v in merged.items() if v is not None}


def run(pack: PackSession) -> Summary:
    summary = Summary()

    def judge(call: Callable[[], Any]) -> list | None:
        try:
            verdicts, _ = call()
            return verdicts
        except ConfigError:  # the driver's report of an Analyzer call that failed or hung
            summary.crashes += 1
            return None

    compliant = [(t, {}) for t in BASELINES] + COMPLIANT
    for index, (type_token, change) in enumerate(compliant):
        summary.compliant += 1
        resource = recorded(type_token, f"ok{index}", _props(type_token, change))
        verdicts = judge(lambda r=resource: pack.analyze_resource(r, {}))
        if verdicts:
            summary.false_alarms += 1
            summary.alarms += [f"{type_token} {change}: {v.policy}" for v in verdicts]
    summary.compliant += 1
    verdicts = judge(lambda: pack.analyze_stack(stack_baseline()))
    if verdicts:
        summary.false_alarms += 1
        summary.alarms += [f"stack baseline: {v.policy}" for v in verdicts]
    for index, (rule, type_token, change) in enumerate(MUTANTS):
        summary.mutants += 1
        resource = recorded(type_token, f"m{index}", _props(type_token, change))
        verdicts = judge(lambda r=resource: pack.analyze_resource(r, {}))
        if verdicts is not None and any(v.policy == rule for v in verdicts):
            summary.killed += 1
        else:
            summary.survivors.append(f"{rule} {type_token} {change}")
    for rule, mutate in STACK_MUTANTS:
        summary.mutants += 1
        verdicts = judge(lambda m=mutate: pack.analyze_stack(m(stack_baseline())))
        if verdicts is not None and any(v.policy == rule for v in verdicts):
            summary.killed += 1
        else:
            summary.survivors.append(f"{rule} (stack)")
    return summary


if __name__ == "__main__":
    with running_pack(POLICY_DIR) as stub:
        session = PackSession(stub, POLICY_DIR)
        session.configure({})
        result = run(session)
    print(result.line())
    for item in result.survivors + result.alarms:
        print("  " + item)
    sys.exit(0 if not (result.survivors or result.alarms or result.crashes) else 1)
