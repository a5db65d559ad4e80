"""IAM's wildcard matching without regular expressions, so no input can make it backtrack.

A pattern is split at its `*`s into segments of literal characters and `?`s. The first segment
must match at the start, the last at the end, and every segment between them is placed at its
leftmost fit after the previous one: for `*`-separated segments the leftmost fit is always a safe
choice, so nothing is ever tried twice. Each segment is found with `str.find` on its longest
literal run, then checked in place. The cost is bounded by len(pattern) x len(text), never
exponential (an IAM pattern compiled to a backtracking regular expression can take minutes on a
short input; one did, in the pack).

Tokens, as IAM reads them (IAM User Guide, "IAM JSON policy elements: Resource" and "IAM policy
elements: Variables and tags"): `*` any run of characters, `?` one character, `${*}`, `${?}`,
`${$}` the literal characters, any other `${name}` or `${name, 'default'}` a policy variable.
A variable is replaced by its value when the caller knows it (`variables`); otherwise
`unresolved` says what it stands for: "any" (a value the requester controls: the conservative
reading for what an Allow grants) or "none" (IAM's own behaviour for a variable missing from the
request: the element never matches; the conservative reading for what a Deny covers)."""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

ANY_ONE = None
"""The token for `?` inside a segment; every other token is a one-character string."""
Segment = tuple[str | None, ...]
Unresolved = Literal["any", "none"]
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_PLACEHOLDER = "\x00var\x00"


@dataclass(frozen=True)
class Glob:
    """A compiled pattern: `segments` separated by `*`; `starts`/`ends` say whether the first /
    last segment is anchored (no `*` before / after it). `never` marks a pattern that matches
    nothing (an unresolved variable read as "none")."""
    segments: tuple[Segment, ...]
    starts: bool
    ends: bool
    never: bool = False

    @property
    def literal(self) -> str | None:
        """The single string this pattern matches, or None when it has a wildcard."""
        if self.never or not (self.starts and self.ends) or len(self.segments) != 1:
            return None
        if any(token is ANY_ONE for token in self.segments[0]):
            return None
        return "".join(t for t in self.segments[0] if t is not None)


def _tokens(pattern: str, variables: Mapping[str, str] | None,
            unresolved: Unresolved) -> tuple[list[str | None | bool], bool]:
    """Characters, ANY_ONE for `?`, True for `*`; and whether a variable made it match nothing."""
    tokens: list[str | None | bool] = []
    never = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            tokens.append(True)
        elif char == "?":
            tokens.append(ANY_ONE)
        elif char == "$" and pattern.startswith("${", index) and "}" in pattern[index + 2:]:
            end = pattern.index("}", index + 2)
            inner = pattern[index + 2:end]
            if inner in _ESCAPES:
                tokens.append(_ESCAPES[inner])
            else:
                name, _, default = inner.partition(",")
                default = default.strip()
                value = None
                if variables is not None:
                    value = next((v for k, v in variables.items()
                                  if k.lower() == name.strip().lower()), None)
                if value is None and len(default) >= 2 and default[0] == default[-1] == "'":
                    value = default[1:-1]
                if value is not None:
                    tokens.extend(value)
                elif unresolved == "any":
                    tokens.append(True)
                else:
                    never = True
            index = end
        else:
            tokens.append(char)
        index += 1
    return tokens, never


def compile_glob(pattern: str, *, ignore_case: bool = False,
                 variables: Mapping[str, str] | None = None,
                 unresolved: Unresolved = "any") -> Glob:
    if variables is None and len(pattern) <= 4096:
        return _cached(pattern, ignore_case, unresolved)
    return _compile(pattern, ignore_case, variables, unresolved)


@lru_cache(maxsize=8192)
def _cached(pattern: str, ignore_case: bool, unresolved: Unresolved) -> Glob:
    return _compile(pattern, ignore_case, None, unresolved)


def _compile(pattern: str, ignore_case: bool, variables: Mapping[str, str] | None,
             unresolved: Unresolved) -> Glob:
    tokens, never = _tokens(pattern, variables, unresolved)
    segments: list[Segment] = []
    current: list[str | None] = []
    for token in tokens:
        if token is True:
            segments.append(tuple(current))
            current = []
        else:
            assert token is not False
            current.append(token.lower() if ignore_case and token is not None else token)
    segments.append(tuple(current))
    starts = bool(tokens) and tokens[0] is not True
    ends = bool(tokens) and tokens[-1] is not True
    if not tokens:
        return Glob(((),), True, True, never)
    # Drop the empty segments that leading, trailing or repeated stars leave.
    kept = tuple(s for s in segments if s)
    if not kept:
        return Glob((), False, False, never)
    return Glob(kept, starts, ends, never)


def _fits(segment: Segment, text: str, at: int) -> bool:
    if at < 0 or at + len(segment) > len(text):
        return False
    return all(token is ANY_ONE or text[at + offset] == token
               for offset, token in enumerate(segment))


def _anchor(segment: Segment) -> tuple[int, str]:
    """(offset, text) of the segment's longest run of literal characters."""
    best = (0, "")
    start = 0
    run: list[str] = []
    for offset, token in enumerate([*segment, ANY_ONE]):
        if token is ANY_ONE:
            if len(run) > len(best[1]):
                best = (start, "".join(run))
            run = []
            start = offset + 1
        else:
            run.append(token)
    return best


def _find(segment: Segment, text: str, start: int, stop: int) -> int:
    """The leftmost index in [start, stop - len(segment)] where the segment fits, or -1."""
    width = len(segment)
    if start + width > stop:
        return -1
    offset, literal = _anchor(segment)
    if not literal:
        return start  # only `?`s: any position with room fits
    if len(literal) == width:
        return text.find(literal, start, stop)
    position = start
    while True:
        found = text.find(literal, position + offset, stop - (width - offset - len(literal)))
        if found < 0:
            return -1
        candidate = found - offset
        if _fits(segment, text, candidate):
            return candidate
        position = candidate + 1


def glob_match(glob: Glob, text: str, *, ignore_case: bool = False) -> bool:
    if glob.never:
        return False
    if ignore_case:
        text = text.lower()
    segments = glob.segments
    if not segments:
        return True  # only stars
    if glob.starts and glob.ends and len(segments) == 1:
        return len(text) == len(segments[0]) and _fits(segments[0], text, 0)
    low, high = 0, len(text)
    first, last = 0, len(segments)
    if glob.starts:
        if not _fits(segments[0], text, 0):
            return False
        low = len(segments[0])
        first = 1
    if glob.ends:
        tail = segments[-1]
        if len(tail) > high - low or not _fits(tail, text, high - len(tail)):
            return False
        high -= len(tail)
        last -= 1
    for segment in segments[first:last]:
        found = _find(segment, text, low, high)
        if found < 0:
            return False
        low = found + len(segment)
    return True


def matches(pattern: str, text: str, *, ignore_case: bool = False,
            variables: Mapping[str, str] | None = None, unresolved: Unresolved = "any") -> bool:
    return glob_match(compile_glob(pattern, ignore_case=ignore_case, variables=variables,
                                   unresolved=unresolved), text, ignore_case=ignore_case)


def has_wildcard(pattern: str) -> bool:
    """Whether the pattern can match more than one string (a `*`, a `?` or a variable)."""
    return compile_glob(pattern).literal is None


# ---- intersection ------------------------------------------------------------------------------
def _flat(glob: Glob) -> list[str | None | bool]:
    """Tokens again: characters, ANY_ONE, True for a star."""
    flat: list[str | None | bool] = []
    if not glob.starts:
        flat.append(True)
    for index, segment in enumerate(glob.segments):
        if index:
            flat.append(True)
        flat.extend(segment)
    if not glob.ends and glob.segments:
        flat.append(True)
    return flat


def intersects(a: Glob, b: Glob) -> bool:
    """Whether some string matches both patterns: a breadth-first walk over pairs of positions,
    len(a) x len(b) states at most."""
    if a.never or b.never:
        return False
    left, right = _flat(a), _flat(b)
    seen: set[tuple[int, int]] = set()
    queue = deque([(0, 0)])
    while queue:
        i, j = queue.popleft()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(left) and j == len(right):
            return True
        x = left[i] if i < len(left) else False
        y = right[j] if j < len(right) else False
        if x is True:
            queue.append((i + 1, j))
        if y is True:
            queue.append((i, j + 1))
        if x is False or y is False:
            continue
        if isinstance(x, str) and isinstance(y, str) and x != y:
            continue
        queue.append((i if x is True else i + 1, j if y is True else j + 1))
    return False
