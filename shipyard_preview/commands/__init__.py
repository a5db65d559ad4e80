"""Subcommands of `shipyard` beyond `preview` and `rules`, one module each.

Each module defines `register(commands)`, which adds its subparser(s) to the `shipyard` parser
and sets `run` to a function taking the parsed arguments and returning an exit code. Modules are
found by listing this package, so a new command is one new file. Registration must stay cheap
(no SDK or boto3 import at module level): `shipyard --help` builds every parser."""

import argparse
import importlib
import pkgutil


def register_all(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(commands)
