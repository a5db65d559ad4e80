"""What the day-two commands share: the stack and its outputs, the AWS chain, the exit codes.
Cheap to import: boto3 and the SDK load only when a command runs."""

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..operations.aws import Aws
    from ..operations.stack_outputs import ServiceOutputs, StackOutputs

EXIT_OK, EXIT_NOT_OK, EXIT_BAD_INPUT, EXIT_AWS_FAILED = 0, 1, 2, 3
EXIT_CODES = """exit codes: 0 done (status: every service steady and as deployed), 1 not (status:
not steady or drifted), 2 bad input (arguments, outputs, a setting that is off), 3 an AWS call
failed (the message names the call, the resource and what to do); run: the container's exit
code, 125 when the task never ran; 130 after Ctrl-C"""


def add_stack_arguments(parser: argparse.ArgumentParser, *, service: str) -> None:
    parser.add_argument("--project-dir", default=argparse.SUPPRESS,
                        help="folder with Pulumi.yaml, where `pulumi stack output` runs "
                             "(default: the nearest one up from here)")
    parser.add_argument("stack", help="the stack (as `pulumi stack ls` names it)")
    if service == "optional":
        parser.add_argument("service", nargs="?", help="one service (default: all)")
    else:
        parser.add_argument("service", help="the service, as the stack names it")
    parser.add_argument("--outputs", metavar="FILE",
                        help="the stack's outputs from `pulumi stack output --json "
                             "--show-secrets=false` (default: run that command)")
    parser.add_argument("--profile", help="AWS profile (default: the standard chain: "
                                          "AWS_PROFILE, environment, SSO, instance role)")
    parser.add_argument("--region", help="AWS region; must be the stack's (default: the region "
                                         "of the stack's cluster ARN)")


def project_dir(args: argparse.Namespace) -> Path | None:
    given = getattr(args, "project_dir", None)
    if given:
        return Path(given).resolve()
    here = Path.cwd()
    return next((p for p in (here, *here.parents) if (p / "Pulumi.yaml").is_file()), None)


def stack_outputs(args: argparse.Namespace) -> "StackOutputs":
    from ..operations.stack_outputs import load_outputs

    return load_outputs(args.stack, outputs_file=args.outputs, project_dir=project_dir(args))


def aws_for(args: argparse.Namespace) -> Callable[["ServiceOutputs"], "Aws"]:
    """The Aws of a service: its cluster's region, from the standard chain."""
    from shipyard.errors import ConfigError

    from ..operations import aws as aws_module

    opened: dict[str, Aws] = {}

    def of(service: "ServiceOutputs") -> "Aws":
        region = service.region
        if args.region and args.region != region:
            raise ConfigError("--region", args.region,
                              f"the region of the stack's cluster ({region}) or nothing")
        if region not in opened:
            opened[region] = aws_module.open_aws(profile=args.profile, region=region)
        return opened[region]
    return of


def reports_aws_failures(run: Callable[[argparse.Namespace], int]
                         ) -> Callable[[argparse.Namespace], int]:
    """An AWS failure is one line on stderr and exit 3, never a traceback."""
    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        from ..operations.aws import AwsCallFailed

        try:
            return run(args)
        except AwsCallFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_AWS_FAILED
    return guarded


def subparser(commands: Any, name: str, help_text: str,
              description: str) -> argparse.ArgumentParser:
    import textwrap

    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=textwrap.fill(description, 92) + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def add_command_argument(parser: argparse.ArgumentParser) -> None:
    """The command after `--`; `split_command` reads it."""
    parser.add_argument("task_command", nargs=argparse.REMAINDER, metavar="-- command",
                        help="the command and its arguments, after `--`")
    parser.set_defaults(options_parser=parser)


def split_command(args: argparse.Namespace) -> tuple[argparse.Namespace, list[str]]:
    """argparse gives everything after the service to the remainder, options included: what
    stands before `--` is parsed as the command's own options, what follows is the command."""
    rest = list(args.task_command)
    head, command = ((rest[:rest.index("--")], rest[rest.index("--") + 1:]) if "--" in rest
                     else (rest, []))
    if head:
        args = args.options_parser.parse_args([*head, args.stack, args.service], namespace=args)
    return args, command
