"""The delivery plumbing of shipyard as code: Pulumi Deployments settings, policy groups, ESC
environments and the AWS identities that let GitHub and Pulumi Cloud act without static keys."""
