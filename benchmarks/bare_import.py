"""The baseline: import the SDK classes the program uses, and nothing else. pulumi_aws loads a
submodule only when an attribute is touched, so touching the classes is what makes this fair.

With --without-teardown the process ends at once after the import (os._exit), as the `shipyard`
command ends after its work: the interpreter's teardown (about a second with these modules) is
then in neither figure."""

import os
import sys

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

USED = [
    aws.Provider, aws.get_caller_identity_output, aws.get_region_output,
    aws.appautoscaling.Target, aws.appautoscaling.Policy, aws.cloudwatch.LogGroup,
    aws.ec2.SecurityGroup, aws.ec2.VpcEndpoint, aws.ec2.get_route_tables_output,
    aws.ecr.Repository, aws.ecr.LifecyclePolicy, aws.ecr.get_authorization_token_output,
    aws.ecs.Cluster, aws.ecs.ClusterCapacityProviders, aws.ecs.TaskDefinition, aws.ecs.Service,
    aws.iam.Role, aws.iam.RolePolicy, aws.kms.Key, aws.lb.LoadBalancer, aws.lb.TargetGroup,
    aws.lb.Listener, aws.s3.Bucket, aws.s3.BucketPolicy, aws.secretsmanager.Secret,
    aws.secretsmanager.SecretVersion, aws.vpc.SecurityGroupIngressRule,
    aws.vpc.SecurityGroupEgressRule, aws.ec2.Vpc, aws.ec2.Subnet, aws.ec2.RouteTable,
    aws.ec2.Route, aws.ec2.RouteTableAssociation, aws.ec2.InternetGateway, aws.ec2.Eip,
    aws.ec2.NatGateway, aws.ec2.FlowLog, aws.get_availability_zones_output, docker.Image,
    pulumi.ComponentResource,
    # Prod's blue/green, rollback alarms, WAF and versioned log bucket. WAF's module alone is
    # about as slow to import as the rest together (a 2.8 MB generated _inputs.py); only a stack
    # that turns WAF on loads it.
    aws.lb.ListenerRule, aws.cloudwatch.MetricAlarm, aws.wafv2.WebAcl,
    aws.wafv2.WebAclAssociation, aws.s3.BucketVersioning,
]

if "--without-teardown" in sys.argv[1:]:
    os._exit(0)
