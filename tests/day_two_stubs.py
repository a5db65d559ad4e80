"""AWS answers for the day-two command tests, in the exact shapes of botocore's ECS, ELBv2,
CloudWatch Logs and STS models: every answer goes through botocore's Stubber, which validates
it against the operation's output shape (and the request against its input shape)."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import moto  # noqa: F401  (its botocore hook joins sessions made after this import)
from botocore.stub import Stubber

from shipyard_preview.operations.aws import Aws

REGION = "eu-west-1"
ACCOUNT = "111122223333"
CLUSTER_NAME = "cluster-0a1b2c3"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER_NAME}"
SERVICE_NAME = "web-service-8f946f3"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER_NAME}/{SERVICE_NAME}"
FAMILY = "shipyard-staging-web"
LOG_GROUP = "web-logs-5e1d2a7"
TARGET_GROUP = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web-tg-3c4d5e6/0123456789abcdef"
REPOSITORY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipyard-staging/web/web"
DIGESTS = {n: "sha256:" + (str(n) * 64)[:64] for n in range(1, 10)}
T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
SUBNETS = ["subnet-0aaa1111bbbb2222c", "subnet-0ddd3333eeee4444f"]
SECURITY_GROUP = "sg-0123456789abcdef0"
TASK_IDS = ["3f9a1c2e4b5d6e7f8091a2b3c4d5e6f7", "8e7d6c5b4a3928171605f4e3d2c1b0a9"]


def task_definition_arn(revision):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:{revision}"


def task_arn(task_id):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER_NAME}/{task_id}"


def image(revision):
    return f"{REPOSITORY}@{DIGESTS[revision]}"


def outputs_document(*, revision=7, execute_command=False, url="https://web.example.com"):
    """What `pulumi stack output --json --show-secrets=false` prints for the staging stack."""
    return {"services": {"web": {
        "cluster_arn": CLUSTER, "cluster_name": CLUSTER_NAME, "service_name": SERVICE_NAME,
        "log_group_name": LOG_GROUP, "task_definition_family": FAMILY,
        "task_definition_arn": task_definition_arn(revision),
        "execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/web-execution-1a2b3c4",
        "task_role_arn": f"arn:aws:iam::{ACCOUNT}:role/web-task-5d6e7f8",
        "image_digests": {"web": image(revision)}, "url": url,
        "execute_command": execute_command}},
        "cluster_name": CLUSTER_NAME, "web_url": url}


def write_outputs(tmp_path, **changes):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs_document(**changes)))
    return str(path)


def deployment(status, revision, rollout_state, *, reason=None, running=2, desired=2,
               pending=0, failed=0, created=T0):
    item = {"id": f"ecs-svc/{revision}{status[:2]}0123456789", "status": status,
            "taskDefinition": task_definition_arn(revision), "desiredCount": desired,
            "runningCount": running, "pendingCount": pending, "failedTasks": failed,
            "createdAt": created, "updatedAt": created + timedelta(minutes=3),
            "launchType": "FARGATE", "platformVersion": "1.4.0"}
    if rollout_state:
        item["rolloutState"] = rollout_state
    if reason:
        item["rolloutStateReason"] = reason
    return item


def service_answer(*deployments, running=2, desired=2, pending=0, tags=None, events=None,
                   execute_command=False, blue_green=False):
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    balancer = {"targetGroupArn": TARGET_GROUP, "containerName": "web", "containerPort": 8080}
    if blue_green:
        balancer["advancedConfiguration"] = {
            "alternateTargetGroupArn": TARGET_GROUP.replace("web-tg-3c4d5e6", "web-tg2-7f8a9b0"),
            "productionListenerRule": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                                      "listener-rule/app/web/0123456789abcdef/0123456789abcdef/"
                                      "0123456789abcdef",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/web-ecs-infrastructure"}
    return {"services": [{
        "serviceArn": SERVICE, "serviceName": SERVICE_NAME, "clusterArn": CLUSTER,
        "status": "ACTIVE", "desiredCount": desired, "runningCount": running,
        "pendingCount": pending, "taskDefinition": primary["taskDefinition"],
        "loadBalancers": [balancer],
        "deployments": list(deployments),
        "events": events if events is not None else [
            {"id": "e3", "createdAt": T0 + timedelta(minutes=4),
             "message": f"(service {SERVICE_NAME}) has reached a steady state."},
            {"id": "e2", "createdAt": T0 + timedelta(minutes=2),
             "message": f"(service {SERVICE_NAME}) has started 2 tasks: (task {TASK_IDS[0]}) "
                        f"(task {TASK_IDS[1]})."}],
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": SUBNETS, "securityGroups": [SECURITY_GROUP], "assignPublicIp": "DISABLED"}},
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        "platformVersion": "LATEST", "enableExecuteCommand": execute_command,
        "tags": [{"key": k, "value": v} for k, v in (tags or {"service": "web"}).items()],
    }], "failures": []}


def task_definition_answer(revision, *, source_version="app@9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
                           containers=("web",), registered=T0, prefix="ecs"):
    return {"taskDefinition": {
        "taskDefinitionArn": task_definition_arn(revision), "family": FAMILY,
        "revision": revision, "status": "ACTIVE", "registeredAt": registered,
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/shipyard-deploy-staging/pulumi",
        "cpu": "256", "memory": "512", "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{
            "name": name, "image": image(revision) if name == "web" else
            f"{REPOSITORY}-{name}@{DIGESTS[9]}", "essential": name == "web",
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": LOG_GROUP, "awslogs-region": REGION,
                "awslogs-stream-prefix": prefix}}} for name in containers]},
        "tags": [{"key": "service", "value": "web"},
                 {"key": "source-version", "value": source_version}]}


def task(task_id, revision, *, last_status="RUNNING", digest=None, exit_code=None,
         stopped_reason=None, stop_code=None, container_reason=None, health="HEALTHY",
         exec_agent=None):
    container = {"containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER_NAME}/"
                                 f"{task_id}/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                 "taskArn": task_arn(task_id), "name": "web", "image": image(revision),
                 "imageDigest": digest or DIGESTS[revision], "runtimeId": f"{task_id}-1234567890",
                 "lastStatus": last_status, "healthStatus": health}
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason:
        container["reason"] = container_reason
    if exec_agent:
        container["managedAgents"] = [{"name": "ExecuteCommandAgent", "lastStatus": exec_agent}]
    item = {"taskArn": task_arn(task_id), "clusterArn": CLUSTER,
            "taskDefinitionArn": task_definition_arn(revision), "lastStatus": last_status,
            "desiredStatus": "STOPPED" if last_status == "STOPPED" else "RUNNING",
            "healthStatus": health, "launchType": "FARGATE", "containers": [container],
            "enableExecuteCommand": exec_agent is not None, "group": f"service:{SERVICE_NAME}"}
    if stopped_reason:
        item["stoppedReason"] = stopped_reason
    if stop_code:
        item["stopCode"] = stop_code
    return item


def target_health_answer(*states):
    return {"TargetHealthDescriptions": [
        {"Target": {"Id": f"10.0.{i}.{10 + i}", "Port": 8080},
         "TargetHealth": {"State": state, **({"Reason": reason} if reason else {})}}
        for i, (state, reason) in enumerate(states)]}


# One session for every test: it caches the loaded service models, so a client is cheap.
SESSION = boto3.Session(aws_access_key_id="AKIATESTING", aws_secret_access_key="x",
                        region_name=REGION)


class StubbedAws:
    """An Aws whose clients answer from Stubber queues (made on first use); `verify()` checks
    every queued answer was asked for."""

    def __init__(self, region=REGION):
        self.aws = Aws(session=SESSION, region=region)
        self.stubbers = {}

    def stubber(self, service):
        if service not in self.stubbers:
            self.stubbers[service] = Stubber(self.aws.client(service))
            self.stubbers[service].activate()
        return self.stubbers[service]

    def add(self, service, operation, answer, expected=None):
        self.stubber(service).add_response(operation, answer, expected)

    def error(self, service, operation, code, message="", status=400):
        self.stubber(service).add_client_error(operation, code, message, status)

    def verify(self):
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def stub_status(stub, service, definition, tasks, *, health=(("healthy", None),) * 2,
                groups=1):
    """The calls `status` makes for one service, in order."""
    stub.add("ecs", "describe_services", service,
             {"cluster": CLUSTER, "services": [SERVICE_NAME], "include": ["TAGS"]})
    revision = definition["taskDefinition"]["revision"]
    stub.add("ecs", "describe_task_definition", definition,
             {"taskDefinition": task_definition_arn(revision), "include": ["TAGS"]})
    stub.add("ecs", "list_tasks", {"taskArns": [t["taskArn"] for t in tasks]},
             {"cluster": CLUSTER, "serviceName": SERVICE_NAME, "desiredStatus": "RUNNING"})
    if tasks:
        stub.add("ecs", "describe_tasks", {"tasks": tasks, "failures": []},
                 {"cluster": CLUSTER, "tasks": [t["taskArn"] for t in tasks]})
    for _ in range(groups):
        stub.add("elbv2", "describe_target_health", target_health_answer(*health))
