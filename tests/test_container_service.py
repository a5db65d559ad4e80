"""GIVEN the committed stacks WHEN the program runs under mocks THEN the resources carry exactly
the settings the product promises. Values are asserted exactly, not just present."""

import json

import pytest
from conftest import inputs, one, resource, run_stack, services_of, stack_config
from shipyard.container_service import lifecycle_policy

from shipyard_preview.mocks import ACCOUNT_ID

TD = "aws:ecs/taskDefinition:TaskDefinition"
REGION = "eu-west-1"


def containers(recording, name="web-task"):
    return json.loads(one(recording, TD, name)["containerDefinitions"])


def execution_policy(recording, name="web-execution"):
    return json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", name)["policy"])


def test_execution_role_grants_exactly_what_the_agent_needs(staging):
    repo_url = staging.outputs["web_repository_urls"]["web"]
    repository = repo_url.split("/", 1)[1]
    log_group = one(staging, "aws:cloudwatch/logGroup:LogGroup")
    key_arn = one(staging, "aws:ecr/repository:Repository")[
        "encryptionConfigurations"][0]["kmsKey"]
    statements = execution_policy(staging)["Statement"]
    secret_arn = statements[3]["Resource"][0]
    assert statements == [
        {"Sid": "EcrAuthToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        {"Sid": "PullOwnImages", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer"],
         "Resource": [f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{repository}"]},
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:"
                     f"{log_group_name(staging)}:log-stream:*"},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": [secret_arn]},
        {"Sid": "DecryptOwnSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": [key_arn]},
    ]
    assert secret_arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:web-web-")
    assert log_group["retentionInDays"] == 14


def log_group_name(recording):
    return json.loads(one(recording, TD)["containerDefinitions"])[0][
        "logConfiguration"]["options"]["awslogs-group"]


def test_no_aws_managed_policy_is_attached(staging, prod):
    for recording in (staging, prod):
        assert not inputs(recording, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        for role in inputs(recording, "aws:iam/role:Role").values():
            assert "managedPolicyArns" not in role


def test_roles_trust_only_ecs_tasks_of_this_account(staging):
    for name in ("web-execution", "web-task"):
        trust = json.loads(one(staging, "aws:iam/role:Role", name)["assumeRolePolicy"])
        assert trust["Statement"] == [{
            "Sid": "EcsTasksOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}}]


def test_task_role_is_empty_by_default(staging):
    assert "web-task" not in inputs(staging, "aws:iam/rolePolicy:RolePolicy")
    definition = one(staging, TD)
    assert definition["taskRoleArn"] != definition["executionRoleArn"]


def test_task_definition_runs_the_pushed_image_by_digest(staging):
    image = one(staging, "docker:index/image:Image")
    repo_url = staging.outputs["web_repository_urls"]["web"]
    assert image["imageName"].startswith(f"{repo_url}:src-")
    (web,) = containers(staging)
    assert web["image"] == staging.outputs["web_image_digests"]["web"]
    assert web["image"].startswith(f"{repo_url}@sha256:") and len(web["image"].split(":")[-1]) == 64


def test_container_is_hardened(staging):
    (web,) = containers(staging)
    assert web["readonlyRootFilesystem"] is True
    assert web["privileged"] is False
    assert web["user"] == "10001:10001"
    assert web["linuxParameters"] == {"initProcessEnabled": True}
    assert web["mountPoints"] == [{"sourceVolume": "web-tmp", "containerPath": "/tmp",
                                   "readOnly": False}]
    assert one(staging, TD)["volumes"] == [{"name": "web-tmp"}]
    assert web["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": log_group_name(staging), "awslogs-region": REGION,
        "awslogs-stream-prefix": "ecs"}}


def test_secret_reaches_the_container_only_through_value_from(staging):
    (web,) = containers(staging)
    assert [e["name"] for e in web["environment"]] == ["LOG_LEVEL", "SERVICE_NAME"]
    secret_arn = execution_policy(staging)["Statement"][3]["Resource"][0]
    assert web["secrets"] == [{"name": "API_TOKEN", "valueFrom": secret_arn}]
    version = one(staging, "aws:secretsmanager/secretVersion:SecretVersion")
    assert version["secretString"] == "[secret]"  # marked secret on the wire, masked here
    stored = one(staging, "aws:secretsmanager/secret:Secret")
    assert stored["kmsKeyId"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/")


def test_task_definition_settings(staging, prod):
    staging_td, prod_td = one(staging, TD), one(prod, TD)
    assert (staging_td["cpu"], staging_td["memory"]) == ("256", "512")
    assert (prod_td["cpu"], prod_td["memory"]) == ("512", "1024")
    # The sample stacks run one architecture, so staging tests the image prod runs.
    assert staging_td["runtimePlatform"] == {"operatingSystemFamily": "LINUX",
                                             "cpuArchitecture": "ARM64"}
    assert prod_td["runtimePlatform"] == staging_td["runtimePlatform"]
    assert staging_td["networkMode"] == "awsvpc"
    assert staging_td["requiresCompatibilities"] == ["FARGATE"]
    assert staging_td["tags"]["source-version"]


def test_service_runs_privately_with_safe_deployments(staging, prod):
    service = one(staging, "aws:ecs/service:Service")
    private_subnets = [r for r in staging.resources if r.type == "aws:ec2/subnet:Subnet"
                       and "-private-" in r.name]
    assert len(private_subnets) == 2
    network = service["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert len(network["subnets"]) == 2 and all(s.startswith("subnet-") for s in network["subnets"])
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (service["deploymentMaximumPercent"], service["deploymentMinimumHealthyPercent"]) == (
        200, 100)
    assert service["waitForSteadyState"] is True
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert service["propagateTags"] == "SERVICE"
    assert service["enableExecuteCommand"] is False
    assert service["healthCheckGracePeriodSeconds"] == 30
    assert service["platformVersion"] == "LATEST"
    # Whatever the stack file says about Spot, the service runs on that one capacity provider.
    for stack, recording in (("staging", staging), ("prod", prod)):
        spot = json.loads(stack_config(stack).config["shipyard:service_defaults"]).get("spot")
        assert one(recording, "aws:ecs/service:Service")["capacityProviderStrategies"] == [
            {"capacityProvider": "FARGATE_SPOT" if spot else "FARGATE", "weight": 1}]
    assert resource(staging, "aws:ecs/service:Service", "web-service").ignore_changes == [
        "desiredCount"]


def test_service_subnets_are_the_private_ones(staging):
    service = resource(staging, "aws:ecs/service:Service", "web-service")
    lb = one(staging, "aws:lb/loadBalancer:LoadBalancer")
    subnets = one(staging, "aws:ecs/service:Service")["networkConfiguration"]["subnets"]
    assert set(subnets).isdisjoint(lb["subnets"])
    private_urns = {r.urn for r in staging.resources
                    if r.type == "aws:ec2/subnet:Subnet" and "-private-" in r.name}
    assert private_urns <= set(service.property_dependencies["networkConfiguration"])


def test_listeners_https_tls13_and_redirect(staging):
    listeners = inputs(staging, "aws:lb/listener:Listener")
    https, redirect = listeners["web-https"], listeners["web-http-redirect"]
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["certificateArn"] == ("arn:aws:acm:eu-west-1:111122223333:certificate/"
                                       "00000000-0000-0000-0000-000000000001")
    assert https["defaultActions"][0]["type"] == "forward"
    assert (redirect["port"], redirect["protocol"]) == (80, "HTTP")
    assert redirect["defaultActions"] == [{"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]


def test_load_balancer_settings(staging, prod):
    lb = one(staging, "aws:lb/loadBalancer:LoadBalancer")
    assert lb["internal"] is False and lb["loadBalancerType"] == "application"
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["desyncMitigationMode"] == "defensive"
    assert lb["enableDeletionProtection"] is False
    assert "accessLogs" not in lb
    assert len(lb["subnets"]) == 2
    prod_lb = one(prod, "aws:lb/loadBalancer:LoadBalancer")
    assert prod_lb["enableDeletionProtection"] is True
    assert prod_lb["accessLogs"]["enabled"] is True
    assert prod_lb["accessLogs"]["bucket"] == one(prod, "aws:s3/bucket:Bucket").get(
        "bucket", prod_lb["accessLogs"]["bucket"])
    assert len(prod_lb["subnets"]) == 3


def test_security_group_rules(staging):
    groups = {r.name: r.id for r in staging.resources
              if r.type == "aws:ec2/securityGroup:SecurityGroup"}
    ingress = inputs(staging, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = inputs(staging, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    rules = {name: (r["securityGroupId"], r["fromPort"], r["toPort"],
                    r.get("cidrIpv4") or r.get("referencedSecurityGroupId"))
             for name, r in {**ingress, **egress}.items()}
    alb, svc = groups["web-alb-sg"], groups["web-service-sg"]
    assert rules == {
        "web-alb-in-443-0": (alb, 443, 443, "0.0.0.0/0"),
        "web-alb-in-80-0": (alb, 80, 80, "0.0.0.0/0"),
        "web-alb-out-service": (alb, 8080, 8080, svc),
        "web-service-in-alb": (svc, 8080, 8080, alb),
        "web-service-out-https": (svc, 443, 443, "0.0.0.0/0"),
    }
    assert all(r["description"] for r in {**ingress, **egress}.values())


def test_target_group_health_check_and_rollout_bound(staging):
    tg = one(staging, "aws:lb/targetGroup:TargetGroup")
    assert tg["targetType"] == "ip" and tg["port"] == 8080 and tg["deregistrationDelay"] == 15
    assert tg["healthCheck"] == {"enabled": True, "path": "/healthz", "protocol": "HTTP",
                                 "port": "traffic-port", "interval": 5, "timeout": 4,
                                 "healthyThreshold": 2, "unhealthyThreshold": 2,
                                 "matcher": "200-399"}
    # 5 s x 2 checks + 15 s draining; AWS defaults would be 30 x 5 + 300 = 450 s.
    bound = staging.outputs["web_rollout_bound_seconds"]
    assert bound == 25 and bound <= 60


def test_repository_and_lifecycle(staging, prod):
    repo = one(staging, "aws:ecr/repository:Repository")
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    assert repo["forceDelete"] is False
    rules = json.loads(one(staging, "aws:ecr/lifecyclePolicy:LifecyclePolicy")["policy"])
    assert rules == lifecycle_policy(10)
    assert rules["rules"][0]["selection"] == {"tagStatus": "untagged",
                                              "countType": "sinceImagePushed",
                                              "countUnit": "days", "countNumber": 1}
    assert rules["rules"][1]["selection"]["countNumber"] == 10
    prod_rules = json.loads(one(prod, "aws:ecr/lifecyclePolicy:LifecyclePolicy")["policy"])
    assert prod_rules["rules"][1]["selection"]["countNumber"] == 30


def test_docker_build_settings(staging, prod):
    image = resource(staging, "docker:index/image:Image", "web-web-image")
    props = one(staging, "docker:index/image:Image")
    assert props["build"]["platform"] == "linux/arm64"
    prod_image = one(prod, "docker:index/image:Image")
    assert prod_image["build"]["platform"] == "linux/arm64"
    # Same source, same platform: the same tag, i.e. one artifact for both stacks.
    assert prod_image["imageName"].rsplit(":", 1)[1] == props["imageName"].rsplit(":", 1)[1]
    assert props["buildOnPreview"] is False
    assert props["registry"]["password"] == "[secret]"
    assert image.ignore_changes == ["build"]


def test_stateful_resources_protected_in_prod_only(staging, prod):
    stateful = ("aws:ecr/repository:Repository", "aws:secretsmanager/secret:Secret",
                "aws:cloudwatch/logGroup:LogGroup", "aws:kms/key:Key", "aws:s3/bucket:Bucket")
    for r in prod.resources:
        if r.type in stateful:
            assert r.protect, f"{r.urn} is not protected in prod"
    assert not any(r.protect for r in staging.resources)


def test_default_tags_on_the_provider(staging):
    provider = one(staging, "pulumi:providers:aws")
    tags = json.loads(provider["defaultTags"])["tags"] if isinstance(
        provider["defaultTags"], str) else provider["defaultTags"]["tags"]
    assert tags["environment"] == "staging" and tags["managed-by"] == "pulumi"
    # Nothing per-commit: it would update every resource on every deploy (tests/test_no_churn.py).
    assert tags == {"environment": "staging", "managed-by": "pulumi", "project": "shipyard"}
    assert one(staging, "aws:ecs/cluster:Cluster")["settings"] == [
        {"name": "containerInsights", "value": "enhanced"}]
    provider_urn = next(r.urn for r in staging.resources if r.type == "pulumi:providers:aws")
    assert provider_urn == "urn:pulumi:staging::shipyard::pulumi:providers:aws::aws"
    aws_resources = [r for r in staging.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources and all(r.provider.startswith(provider_urn + "::")
                                 for r in aws_resources)


def test_autoscaling_on_cpu_and_requests(staging):
    target = one(staging, "aws:appautoscaling/target:Target")
    assert (target["minCapacity"], target["maxCapacity"]) == (1, 2)
    assert target["resourceId"].startswith("service/cluster-")
    policies = inputs(staging, "aws:appautoscaling/policy:Policy")
    cpu = policies["web-cpu"]["targetTrackingScalingPolicyConfiguration"]
    requests = policies["web-requests"]["targetTrackingScalingPolicyConfiguration"]
    assert cpu["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert cpu["targetValue"] == 60
    spec = requests["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
    assert spec["resourceLabel"].startswith("app/web-alb-") and "/targetgroup/web-tg-" in \
        spec["resourceLabel"]


def test_prod_network_three_azs_nat_per_az_and_endpoints(prod):
    assert len(inputs(prod, "aws:ec2/subnet:Subnet")) == 6
    assert len(inputs(prod, "aws:ec2/natGateway:NatGateway")) == 3
    endpoints = inputs(prod, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert sorted(e["serviceName"] for e in endpoints.values()) == sorted(
        f"com.amazonaws.{REGION}.{s}" for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager",
                                                "s3"))


def test_access_log_bucket_is_hardened(prod):
    block = one(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy",
                                          "ignorePublicAcls", "restrictPublicBuckets"))
    policy = json.loads(one(prod, "aws:s3/bucketPolicy:BucketPolicy")["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    lifecycle = one(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["rules"][0]["expiration"] == {"days": 365}


def test_outputs(staging):
    assert staging.outputs["web_url"].startswith("https://web-alb-")
    assert staging.outputs["web_url"].endswith(".eu-west-1.elb.amazonaws.com")
    assert staging.outputs["web_service_name"].startswith("web-service-")
    assert staging.outputs["cluster_name"].startswith("cluster-")
    assert set(staging.outputs) == {"web_url", "web_image_digests", "web_repository_urls",
                                    "web_service_name", "web_rollout_bound_seconds",
                                    "web_security_group_id", "cluster_name", "vpc_id",
                                    "services"}
    # The day-two commands find everything through this one output, never by a name they guess.
    web = staging.outputs["services"]["web"]
    assert web["task_definition_family"] == "shipyard-staging-web"
    assert web["service_name"] == staging.outputs["web_service_name"]
    assert web["cluster_name"] == staging.outputs["cluster_name"]
    assert web["log_group_name"].startswith("web-logs-")
    assert web["task_definition_arn"].startswith("arn:aws:ecs:")
    assert web["execution_role_arn"] != web["task_role_arn"]
    assert web["execute_command"] is False


OTEL = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0@sha256:" + "e" * 64


def test_several_services_with_sidecars_and_existing_secrets():
    services = services_of("staging") + [{
        "name": "api", "cpu": 512, "memory": 1024, "desired_count": 1, "min_count": 1,
        "max_count": 2,
        "task_role_statements": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                  "Resource": ["arn:aws:s3:::reports/*"]}],
        "containers": [
            {"name": "api", "source": "app", "port": 9000, "scratch_paths": ["/tmp"],
             "secrets": {"DB_PASSWORD": {
                 "arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db",
                 "json_key": "password",
                 "kms_key_arn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab"}}},
            {"name": "otel", "essential": False, "image": OTEL},
        ]}]
    recording = run_stack("staging", shipyard__services=services)
    api = json.loads(one(recording, TD, "api-task")["containerDefinitions"])
    assert [c["name"] for c in api] == ["api", "otel"]
    assert api[0]["secrets"] == [{"name": "DB_PASSWORD", "valueFrom":
                                  "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"
                                  ":password::"}]
    assert api[1]["image"] == OTEL
    assert api[1]["essential"] is False and api[1]["portMappings"] == []
    statements = execution_policy(recording, "api-execution")["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    # A partial secret ARN is matched with exactly six characters of AWS's suffix.
    assert by_sid["ReadOwnSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-??????"]
    assert by_sid["DecryptOwnSecrets"]["Resource"] == [
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab"]
    task_policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "api-task")["policy"])
    assert task_policy["Statement"] == [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                         "Resource": ["arn:aws:s3:::reports/*"]}]
    assert len(inputs(recording, "aws:ecs/service:Service")) == 2
    assert len(inputs(recording, "aws:ecs/cluster:Cluster")) == 1  # shared cluster


def test_ecs_exec_adds_only_its_channel_permissions():
    services = services_of("staging")
    services[0]["enable_execute_command"] = True
    services[0]["containers"][0]["scratch_paths"] = ["/tmp", "/var/lib/amazon", "/var/log/amazon"]
    recording = run_stack("staging", shipyard__services=services)
    policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "web-task")["policy"])
    assert policy["Statement"] == [{
        "Sid": "EcsExecChannel", "Effect": "Allow",
        "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                   "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
        "Resource": "*"}]
    assert one(recording, "aws:ecs/service:Service")["enableExecuteCommand"] is True
    mounts = json.loads(one(recording, TD)["containerDefinitions"])[0]["mountPoints"]
    assert [m["containerPath"] for m in mounts] == ["/tmp", "/var/lib/amazon", "/var/log/amazon"]


def test_ecs_exec_with_a_read_only_root_and_no_agent_folders_is_refused():
    from shipyard.errors import ConfigError
    services = services_of("staging")
    services[0]["enable_execute_command"] = True
    services[0]["containers"][0]["scratch_paths"] = ["/tmp", "/var/lib/amazon/ssm"]
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__services=services)
    assert str(raised.value) == (
        "shipyard:services[0].enable_execute_command: True is not valid; ECS Exec's SSM agent "
        "writes inside the container and the root filesystem is read-only; add these to "
        "scratch_paths (web: /var/log/amazon/ssm), or turn ECS Exec off")
    assert raised.value.registered_before_failure == []


def test_existing_network_is_used_as_given():
    recording = run_stack("staging", shipyard__network={
        "vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
        "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]})
    assert not inputs(recording, "aws:ec2/vpc:Vpc")
    assert not inputs(recording, "aws:ec2/subnet:Subnet")
    service = one(recording, "aws:ecs/service:Service")
    assert service["networkConfiguration"]["subnets"] == ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]
    assert one(recording, "aws:lb/loadBalancer:LoadBalancer")["subnets"] == [
        "subnet-0a1a1a1a", "subnet-0b1b1b1b"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_nothing_is_created_for_an_invalid_stack(stack):
    from shipyard.errors import ConfigError
    services = services_of(stack)
    services[0]["memory"] = 3000
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, shipyard__services=services)
    assert raised.value.setting == "shipyard:services[0].memory"
    assert raised.value.registered_before_failure == []


def test_roles_carry_the_permissions_boundary_of_the_delivery_project(staging, prod):
    # The delivery project creates the boundary in each stack's account (prod has its own).
    for recording, account in ((staging, "111122223333"), (prod, "444455556666")):
        boundary = f"arn:aws:iam::{account}:policy/shipyard-workload-boundary"
        roles = inputs(recording, "aws:iam/role:Role")
        assert {name: role.get("permissionsBoundary") for name, role in roles.items()
                if name in ("web-execution", "web-task")} == {
            "web-execution": boundary, "web-task": boundary}
        # Every role the service creates carries it (prod adds blue/green's ECS role).
        assert {role.get("permissionsBoundary") for role in roles.values()} == {boundary}


def test_roles_have_no_boundary_unless_given():
    defaults = {"spot": True, "log_retention_days": 14}  # staging's, without the boundary
    recording = run_stack("staging", shipyard__service_defaults=defaults)
    roles = inputs(recording, "aws:iam/role:Role")
    assert sorted(roles) == ["web-execution", "web-task"]
    assert all("permissionsBoundary" not in role for role in roles.values())


def test_service_waits_for_the_clusters_capacity_providers(staging, prod):
    """A strategy may name only providers already associated with the cluster (ECS API
    reference, CapacityProviderStrategyItem): the service depends on the association."""
    for recording in (staging, prod):
        association = resource(recording, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
                               "cluster")
        service = resource(recording, "aws:ecs/service:Service", "web-service")
        assert association.urn in service.property_dependencies["cluster"]
        assert one(recording, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")[
            "capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
