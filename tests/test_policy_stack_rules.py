"""Rules that need the whole graph: they follow the engine's property dependencies between
resources (a lifecycle policy computed from a repository, a rule attached to a group)."""

from conftest import recorded
from policy_helpers import document, stack_messages

REPO = "aws:ecr/repository:Repository"
SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def repository(name="repo", scan=True):
    return recorded(REPO, name, {"imageTagMutability": "IMMUTABLE",
                                 "imageScanningConfiguration": {"scanOnPush": scan}})


def test_lifecycle_policy_required_for_every_repository(pack):
    covered, bare = repository("covered"), repository("bare")
    lifecycle = recorded("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lc",
                         {"repository": "covered-1234", "policy": "{}"},
                         deps={"repository": [covered]})
    assert stack_messages(pack, "ecr-lifecycle-policy", [covered, bare, lifecycle]) == [
        ("bare", "The repository has no lifecycle policy; untagged and old images accumulate "
                 "forever.")]


def test_scan_on_push_per_repository_or_registry(pack):
    scanned, unscanned = repository("scanned"), repository("unscanned", scan=False)
    expected = [("unscanned", "Images are not scanned on push; set "
                              "imageScanningConfiguration.scanOnPush or a registry scanning "
                              "rule whose filter matches this repository.")]
    assert stack_messages(pack, "ecr-scan-on-push", [scanned, unscanned]) == expected
    registry = recorded("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
                        "registry", {"scanType": "ENHANCED", "rules": [
                            {"scanFrequency": "CONTINUOUS_SCAN",
                             "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]})
    assert stack_messages(pack, "ecr-scan-on-push", [scanned, unscanned, registry]) == []
    # A registry rule scans only the repositories its filter matches.
    narrow = recorded("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
                      "registry", {"scanType": "BASIC", "rules": [
                          {"scanFrequency": "SCAN_ON_PUSH",
                           "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}]}]})
    assert stack_messages(pack, "ecr-scan-on-push", [scanned, unscanned, narrow]) == expected


def service_graph(extra_rule_props=None, source="alb"):
    """An ALB group, a service group, a rule into the service group, a service and an ALB."""
    alb_sg = recorded(SG, "alb-sg", {"description": "alb"})
    other_sg = recorded(SG, "bastion-sg", {"description": "bastion"})
    service_sg = recorded(SG, "service-sg", {"description": "service"})
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": ["sg-aaaaaaaa"]},
                  deps={"securityGroups": [alb_sg]})
    rule_props = {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080,
                  "referencedSecurityGroupId": "sg-aaaaaaaa", "securityGroupId": "sg-55555555",
                  "description": "from alb", **(extra_rule_props or {})}
    source_sg = {"alb": alb_sg, "bastion": other_sg}.get(source)
    deps = {"securityGroupId": [service_sg]}
    if source_sg is not None:
        deps["referencedSecurityGroupId"] = [source_sg]
    rule = recorded(RULE, "service-in", rule_props, deps=deps)
    service = recorded("aws:ecs/service:Service", "svc", {
        "loadBalancers": [{"containerPort": 8080, "containerName": "web"}],
        "networkConfiguration": {"securityGroups": ["sg-55555555"], "subnets": ["s-1"]}},
        deps={"networkConfiguration": [service_sg]})
    return [alb_sg, other_sg, service_sg, lb, rule, service]


def test_service_group_admits_only_the_alb_group_on_the_container_port(pack):
    assert stack_messages(pack, "sg-service-from-alb-only", service_graph()) == []


def test_service_group_admitting_another_group(pack):
    assert stack_messages(pack, "sg-service-from-alb-only", service_graph(source="bastion")) == [
        ("service-in", "The service's security group admits a source other than its load "
                       "balancer's security group.")]


def test_service_group_admitting_a_cidr(pack):
    graph = service_graph({"referencedSecurityGroupId": None, "cidrIpv4": "10.0.0.0/8"},
                          source=None)
    assert stack_messages(pack, "sg-service-from-alb-only", graph) == [
        ("service-in", "The service's security group admits a source other than its load "
                       "balancer's security group.")]


def test_service_group_admitting_a_port_range(pack):
    graph = service_graph({"fromPort": 0, "toPort": 65535})
    assert stack_messages(pack, "sg-service-from-alb-only", graph) == [
        ("service-in", "The service's security group admits tcp ports 0-65535; only the container "
                       "port 8080 is needed.")]


def test_service_group_with_inline_ingress(pack):
    graph = service_graph()
    graph[2] = recorded(SG, "service-sg", {"description": "service", "ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}]})
    graph[5].property_dependencies["networkConfiguration"] = [graph[2].urn]
    assert ("service-sg", "ingress[0] is inline; the service group may admit only the load "
                          "balancer's group, as a separate rule.") in stack_messages(
        pack, "sg-service-from-alb-only", graph)


def test_waf_is_advisory_and_follows_the_association(pack):
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application"})
    verdicts, _ = pack.analyze_stack([lb])
    assert [(v.policy, v.enforcement_level) for v in verdicts if v.policy == "alb-waf"] == [
        ("alb-waf", "advisory")]
    association = recorded("aws:wafv2/webAclAssociation:WebAclAssociation", "waf",
                           {"resourceArn": "arn", "webAclArn": "arn"},
                           deps={"resourceArn": [lb]})
    assert stack_messages(pack, "alb-waf", [lb, association]) == []
    internal = recorded("aws:lb/loadBalancer:LoadBalancer", "internal", {"internal": True})
    assert stack_messages(pack, "alb-waf", [internal]) == []


def test_secret_rotation(pack):
    secret = recorded("aws:secretsmanager/secret:Secret", "s", {"kmsKeyId": "k"})
    assert stack_messages(pack, "secret-rotation", [secret]) == [
        ("s", "The secret neither rotates (aws.secretsmanager.SecretRotation) nor declares who "
              "rotates it (tag 'rotation').")]
    rotation = recorded("aws:secretsmanager/secretRotation:SecretRotation", "r",
                        {"secretId": "arn"}, deps={"secretId": [secret]})
    assert stack_messages(pack, "secret-rotation", [secret, rotation]) == []
    tagged = recorded("aws:secretsmanager/secret:Secret", "t",
                      {"tags": {"rotation": "pulumi-config-secret"}})
    assert stack_messages(pack, "secret-rotation", [tagged]) == []


def log_bucket_graph(block=True, tls=True, expiry=True):
    bucket = recorded("aws:s3/bucket:Bucket", "logs", {})
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb",
                  {"accessLogs": {"bucket": "logs", "enabled": True}},
                  deps={"accessLogs": [bucket]})
    resources = [bucket, lb]
    if block:
        resources.append(recorded("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab",
                                  {k: True for k in ("blockPublicAcls", "blockPublicPolicy",
                                                     "ignorePublicAcls", "restrictPublicBuckets")},
                                  deps={"bucket": [bucket]}))
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    if tls:
        resources.append(recorded("aws:s3/bucketPolicy:BucketPolicy", "policy",
                                  {"policy": document(statement)}, deps={"bucket": [bucket]}))
    if expiry:
        resources.append(recorded(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lc",
            {"rules": [{"id": "x", "status": "Enabled", "expiration": {"days": 90}}]},
            deps={"bucket": [bucket]}))
    return resources


def test_log_bucket_hardened(pack):
    assert stack_messages(pack, "s3-log-bucket-hardened", log_bucket_graph()) == []
    assert stack_messages(pack, "s3-log-bucket-hardened", log_bucket_graph(block=False)) == [
        ("logs", "The access-log bucket does not block all public access.")]
    assert stack_messages(pack, "s3-log-bucket-hardened", log_bucket_graph(tls=False)) == [
        ("logs", "The access-log bucket does not deny every request without TLS (a Deny of s3:* to "
                 "every principal on the bucket and its objects when aws:SecureTransport is "
                 "false).")]
    assert stack_messages(pack, "s3-log-bucket-hardened", log_bucket_graph(expiry=False)) == [
        ("logs", "The access-log bucket never expires old logs.")]
