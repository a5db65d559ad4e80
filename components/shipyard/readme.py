"""The component reference's argument and output tables (docs/component.md), generated from the
args TypedDicts' docstrings (see argument_docs): `python -m shipyard.readme docs/component.md`
rewrites them, `--check` reports drift."""

import re
import sys
from pathlib import Path

from . import argument_docs

_BLOCK_RE = re.compile(r"(<!-- (arguments|outputs): (\w+) -->\n)(.*?)(<!-- /\2 -->)", re.DOTALL)


def render_readme(text: str) -> str:
    """Regenerate every marked table of a README: `<!-- arguments: ContainerServiceArgs -->`
    ... `<!-- /arguments -->`, and `<!-- outputs: ContainerService -->` ... `<!-- /outputs -->`."""
    import shipyard  # the package's public names

    def table(match: re.Match) -> str:
        kind, name = match.group(2), match.group(3)
        target = getattr(shipyard, name)
        body = (argument_docs.markdown_table(target) if kind == "arguments"
                else argument_docs.markdown_outputs(target))
        return match.group(1) + body + match.group(5)

    return _BLOCK_RE.sub(table, text)


def main(argv: list[str] | None = None) -> int:
    """`python -m shipyard.readme docs/component.md [--check]`: rewrite the argument
    tables from the docstrings, or with --check exit 1 when they drifted."""
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m shipyard.readme docs/component.md [--check]", file=sys.stderr)
        return 2
    path = Path(paths[0])
    text = path.read_text()
    rendered = render_readme(text)
    if check:
        return 0 if rendered == text else 1
    path.write_text(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
