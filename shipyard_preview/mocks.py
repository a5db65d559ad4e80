"""Mock provider answers that look like AWS's, so the program takes the same paths offline as
under the real engine. Every value derives from the resource's URN, so two runs of the same
program agree and saved plans diff cleanly."""

import hashlib
from typing import Any

import pulumi
from pulumi.runtime import rpc

ACCOUNT_ID = "111122223333"
PARTITION = "aws"
# Values a first `pulumi preview` cannot know for a resource that does not exist yet.
_COMPUTED_KEYS = ("arn", "arnSuffix", "dnsName", "repoDigest", "repositoryUrl", "registryId",
                  "keyId", "allocationId", "publicIp", "versionId",
                  "revision", "bucket", "zoneId")
_AUTO_NAMED = {"aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup",
               "aws:ecr/repository:Repository", "aws:iam/role:Role",
               "aws:cloudwatch/logGroup:LogGroup", "aws:secretsmanager/secret:Secret",
               "aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:s3/bucket:Bucket",
               "aws:ec2/securityGroup:SecurityGroup", "aws:wafv2/webAcl:WebAcl",
               "aws:servicediscovery/httpNamespace:HttpNamespace"}


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


class OfflineMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str, *, preview_unknowns: bool = False) -> None:
        self.region = region
        self.preview_unknowns = preview_unknowns

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        seed = f"{args.typ}::{args.name}"
        inputs: dict[str, Any] = dict(args.inputs)
        physical = inputs.get("name") or (f"{args.name}-{_hex(seed, 7)}"
                                          if args.typ in _AUTO_NAMED else args.name)
        resource_id, computed = self._outputs(args.typ, args.name, physical, seed, inputs)
        state = {**inputs, **computed}
        if self.preview_unknowns:
            for key in _COMPUTED_KEYS:
                if key in state:
                    state[key] = rpc.UNKNOWN
            if args.typ in _AUTO_NAMED and "name" not in inputs:
                state["name"] = rpc.UNKNOWN
        return resource_id, state

    def _outputs(self, typ: str, name: str, physical: str, seed: str,
                 inputs: dict) -> tuple[str, dict]:
        region = self.region
        h = _hex(seed, 17)
        if typ == "aws:ec2/vpc:Vpc":
            return f"vpc-{h}", {"arn": self._arn("ec2", f"vpc/vpc-{h}"),
                                "defaultRouteTableId": f"rtb-{_hex(seed + 'default', 17)}"}
        if typ == "aws:ec2/subnet:Subnet":
            return f"subnet-{h}", {"arn": self._arn("ec2", f"subnet/subnet-{h}")}
        if typ == "aws:ec2/routeTable:RouteTable":
            return f"rtb-{h}", {"arn": self._arn("ec2", f"route-table/rtb-{h}")}
        if typ == "aws:ec2/internetGateway:InternetGateway":
            return f"igw-{h}", {"arn": self._arn("ec2", f"internet-gateway/igw-{h}")}
        if typ == "aws:ec2/eip:Eip":
            return f"eipalloc-{h}", {"allocationId": f"eipalloc-{h}",
                                     "publicIp": f"203.0.113.{int(h[:2], 16) % 250 + 1}"}
        if typ == "aws:ec2/natGateway:NatGateway":
            return f"nat-{h}", {}
        if typ == "aws:ec2/flowLog:FlowLog":
            return f"fl-{h}", {"arn": self._arn("ec2", f"vpc-flow-log/fl-{h}")}
        if typ == "aws:kms/key:Key":
            key_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-a{_hex(seed + 'k', 3)}-{_hex(seed + 'kk', 12)}"
            return key_id, {"arn": self._arn("kms", f"key/{key_id}"), "keyId": key_id}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return physical, {"name": physical,
                              "arn": self._arn("logs", f"log-group:{physical}")}
        if typ == "aws:ecr/repository:Repository":
            return physical, {
                "name": physical, "registryId": ACCOUNT_ID,
                "arn": self._arn("ecr", f"repository/{physical}"),
                "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{physical}"}
        if typ == "docker:index/image:Image":
            image_name = str(inputs.get("imageName", name))
            repository = image_name.rsplit(":", 1)[0]
            digest = hashlib.sha256(image_name.encode()).hexdigest()
            return f"{repository}@sha256:{digest}", {
                "imageName": image_name, "repoDigest": f"{repository}@sha256:{digest}",
                "baseImageName": image_name}
        if typ == "aws:secretsmanager/secret:Secret":
            arn = self._arn("secretsmanager", f"secret:{physical}-{_hex(seed, 6)}")
            return arn, {"arn": arn, "name": physical}
        if typ == "aws:secretsmanager/secretVersion:SecretVersion":
            return f"{inputs.get('secretId')}|{h}", {"versionId": h, "arn": inputs.get("secretId")}
        if typ == "aws:iam/role:Role":
            return physical, {"name": physical, "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/"
                                                       f"{physical}", "uniqueId": f"AROA{h}"}
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs.get("url", name)).removeprefix("https://")
            arn = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{host}"
            return arn, {"arn": arn}
        if typ == "aws:iam/policy:Policy":
            return physical, {"name": physical,
                              "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy/{physical}"}
        if typ == "aws:ecs/cluster:Cluster":
            arn = self._arn("ecs", f"cluster/{physical}")
            return arn, {"name": physical, "arn": arn}
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family", physical)
            return family, {"arn": self._arn("ecs", f"task-definition/{family}:1"), "revision": 1,
                            "arnWithoutRevision": self._arn("ecs", f"task-definition/{family}")}
        if typ == "aws:ecs/service:Service":
            arn = self._arn("ecs", f"service/{physical}")
            return arn, {"name": physical, "arn": arn}
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            return f"sg-{h}", {"arn": self._arn("ec2", f"security-group/sg-{h}"), "name": physical}
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            suffix = f"app/{physical}/{h[:16]}"
            return self._arn("elasticloadbalancing", f"loadbalancer/{suffix}"), {
                "name": physical, "arn": self._arn("elasticloadbalancing", f"loadbalancer/{suffix}"),
                "arnSuffix": suffix, "zoneId": "Z32O12XQLNTSW2",
                "dnsName": f"{physical}-{int(h[:9], 16)}.{region}.elb.amazonaws.com"}
        if typ == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{physical}/{h[:16]}"
            arn = self._arn("elasticloadbalancing", suffix)
            return arn, {"name": physical, "arn": arn, "arnSuffix": suffix}
        if typ == "aws:lb/listener:Listener":
            arn = self._arn("elasticloadbalancing", f"listener/app/{name}/{h[:16]}/{h[1:17]}")
            return arn, {"arn": arn}
        if typ == "aws:lb/listenerRule:ListenerRule":
            listener = str(inputs.get("listenerArn", "")).split(":listener/", 1)[-1]
            arn = self._arn("elasticloadbalancing", f"listener-rule/{listener}/{h[:16]}")
            return arn, {"arn": arn}
        if typ == "aws:servicediscovery/httpNamespace:HttpNamespace":
            namespace_id = f"ns-{h[:16]}"
            return namespace_id, {"arn": self._arn("servicediscovery", f"namespace/{namespace_id}"),
                                  "httpName": inputs.get("name", physical)}
        if typ == "aws:wafv2/webAcl:WebAcl":
            acl_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}"
            return acl_id, {"arn": self._arn("wafv2", f"regional/webacl/{physical}/{acl_id}"),
                            "name": physical}
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return physical, {"arn": self._arn("cloudwatch", f"alarm:{physical}")}
        if typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket", physical)
            return bucket, {"bucket": bucket, "arn": f"arn:{PARTITION}:s3:::{bucket}"}
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            return f"vpce-{h}", {"arn": self._arn("ec2", f"vpc-endpoint/vpce-{h}")}
        if typ == "aws:appautoscaling/policy:Policy":
            return physical, {"arn": self._arn("autoscaling", f"scalingPolicy:{h}:{physical}")}
        if typ == "pulumi-python:dynamic:Resource":
            # Dynamic providers (the scan gate) do not run offline: say so in the outputs.
            return f"{name}-{h[:8]}", {"status": "not evaluated offline"}
        if typ.startswith("pulumi:providers:"):
            return h, {}
        return f"{name}-{h[:8]}", {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root",
                    "userId": ACCOUNT_ID, "id": ACCOUNT_ID}, []
        if token == "aws:index/getRegion:getRegion":
            return {"region": self.region, "name": self.region, "id": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com"}, []
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "offline-ecr-token",
                    "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com",
                    "authorizationToken": "offline", "expiresAt": "2099-01-01T00:00:00Z"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = [f"{self.region}{letter}" for letter in "abcdef"]
            return {"names": zones, "zoneIds": [f"{self.region}-az{i}" for i in range(1, 7)],
                    "id": self.region}, []
        if token == "aws:ec2/getRouteTables:getRouteTables":
            vpc = args.args.get("vpcId", "vpc")
            return {"ids": [f"rtb-{_hex(f'{vpc}{i}', 17)}" for i in range(3)]}, []
        if token == "aws:ecr/getImage:getImage":
            # The digest the docker.Image mock gives the same <registry>/<repository>:<tag>.
            registry = args.args.get("registryId") or ACCOUNT_ID
            name = (f"{registry}.dkr.ecr.{self.region}.amazonaws.com/"
                    f"{args.args.get('repositoryName')}:{args.args.get('imageTag')}")
            return {"imageDigest": f"sha256:{hashlib.sha256(name.encode()).hexdigest()}",
                    "imageTags": [args.args.get("imageTag")]}, []
        if token == "aws:ec2/getVpc:getVpc":
            return {"cidrBlock": "10.0.0.0/16", "id": args.args.get("id")}, []
        return {}, []
