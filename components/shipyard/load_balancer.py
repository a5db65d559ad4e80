"""The public edge of one service: its ALB, listeners, target group and both security groups.

Security group rules are separate resources (not inline blocks) because the ALB group's egress
names the service group and the service group's ingress names the ALB group: inline rules would
make the two groups depend on each other."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .spec import ServiceSpec

# TLS 1.3 with 1.2 fallback; AWS's recommended default policy for ALB HTTPS listeners.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_INTERVAL_SECONDS = 5
HEALTH_CHECK_TIMEOUT_SECONDS = 4
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 2


def rollout_bound_seconds(deregistration_delay_seconds: int) -> int:
    """Upper bound of one task swap once the new task is running: the new target needs
    HEALTHY_THRESHOLD consecutive passing checks, the old one drains for the deregistration
    delay. With AWS defaults (30 s x 5 checks + 300 s draining) this is 450 s."""
    return HEALTH_CHECK_INTERVAL_SECONDS * HEALTHY_THRESHOLD + deregistration_delay_seconds


def admit_load_balancer(*, service: str, load_balancer: str, port: int,
                        load_balancer_group: pulumi.Input[str], service_group: pulumi.Input[str],
                        rule_names: tuple[str, str], tags: dict[str, str],
                        opts: pulumi.ResourceOptions) -> None:
    """The pair of rules that lets a load balancer, and only it, reach a service's tasks on the
    container port: egress on the load balancer's group, ingress on the service's. `rule_names`
    (egress, ingress) are the rules' logical names, kept as live stacks know them."""
    egress_name, ingress_name = rule_names
    aws.vpc.SecurityGroupEgressRule(
        egress_name, security_group_id=load_balancer_group, ip_protocol="tcp",
        from_port=port, to_port=port, referenced_security_group_id=service_group,
        description=f"to {service} tasks on the container port", tags=tags, opts=opts)
    aws.vpc.SecurityGroupIngressRule(
        ingress_name, security_group_id=service_group, ip_protocol="tcp",
        from_port=port, to_port=port, referenced_security_group_id=load_balancer_group,
        description=f"from the {load_balancer} load balancer only", tags=tags, opts=opts)


@dataclass
class ServiceEdge:
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listeners: list[aws.lb.Listener]
    service_security_group: aws.ec2.SecurityGroup
    url: pulumi.Output[str]


def create_service_edge(spec: ServiceSpec, parent: pulumi.Resource,
                        tags: dict[str, str]) -> ServiceEdge:
    name = spec.name
    opts = pulumi.ResourceOptions(parent=parent)
    port = spec.web_container.port
    assert port is not None
    https = spec.certificate_arn is not None

    alb_sg = aws.ec2.SecurityGroup(
        f"{name}-alb-sg", vpc_id=spec.vpc_id, tags=tags, opts=opts,
        description=f"{name} load balancer: clients in, service port out")
    service_sg = aws.ec2.SecurityGroup(
        f"{name}-service-sg", vpc_id=spec.vpc_id, tags=tags, opts=opts,
        description=f"{name} tasks: only the load balancer in")

    client_ports = [443, 80] if https else [80]
    for client_port in client_ports:
        purpose = "HTTPS from clients" if client_port == 443 else (
            "HTTP from clients, redirected to HTTPS" if https else "HTTP from clients")
        for index, cidr in enumerate(spec.ingress_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{client_port}-{index}", security_group_id=alb_sg.id,
                ip_protocol="tcp", from_port=client_port, to_port=client_port, cidr_ipv4=cidr,
                description=purpose, tags=tags, opts=opts)
    admit_load_balancer(
        service=name, load_balancer=name, port=port, load_balancer_group=alb_sg.id,
        service_group=service_sg.id, rule_names=(f"{name}-alb-out-service",
                                                 f"{name}-service-in-alb"),
        tags=tags, opts=opts)
    # Tasks reach AWS APIs (ECR, Secrets Manager, CloudWatch Logs) and their own dependencies
    # over HTTPS only.
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-service-out-https", security_group_id=service_sg.id, ip_protocol="tcp",
        from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
        description="HTTPS to AWS APIs and dependencies", tags=tags, opts=opts)

    access_logs = None
    if spec.access_logs_bucket is not None:
        access_logs = aws.lb.LoadBalancerAccessLogsArgs(
            bucket=spec.access_logs_bucket, enabled=True, prefix=name)
    load_balancer = aws.lb.LoadBalancer(
        f"{name}-alb", load_balancer_type="application", internal=False,
        security_groups=[alb_sg.id], subnets=spec.public_subnet_ids,
        drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
        enable_deletion_protection=spec.deletion_protection, access_logs=access_logs,
        tags=tags, opts=opts)
    target_group = aws.lb.TargetGroup(
        f"{name}-tg", target_type="ip", port=port, protocol="HTTP", vpc_id=spec.vpc_id,
        deregistration_delay=spec.deregistration_delay_seconds,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True, path=spec.health_check_path, protocol="HTTP", port="traffic-port",
            interval=HEALTH_CHECK_INTERVAL_SECONDS, timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
            healthy_threshold=HEALTHY_THRESHOLD, unhealthy_threshold=UNHEALTHY_THRESHOLD,
            matcher="200-399"),
        tags=tags, opts=opts)

    forward = [aws.lb.ListenerDefaultActionArgs(type="forward",
                                                target_group_arn=target_group.arn)]
    listeners = []
    if https:
        listeners.append(aws.lb.Listener(
            f"{name}-https", load_balancer_arn=load_balancer.arn, port=443, protocol="HTTPS",
            ssl_policy=TLS_POLICY, certificate_arn=spec.certificate_arn,
            default_actions=forward, tags=tags, opts=opts))
        listeners.append(aws.lb.Listener(
            f"{name}-http-redirect", load_balancer_arn=load_balancer.arn, port=80,
            protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))],
            tags=tags, opts=opts))
        url = pulumi.Output.concat("https://", load_balancer.dns_name)
    else:
        listeners.append(aws.lb.Listener(
            f"{name}-http", load_balancer_arn=load_balancer.arn, port=80, protocol="HTTP",
            default_actions=forward, tags=tags, opts=opts))
        url = pulumi.Output.concat("http://", load_balancer.dns_name)
    return ServiceEdge(load_balancer, target_group, listeners, service_sg, url)
