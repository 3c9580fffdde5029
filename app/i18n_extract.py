"""A Babel extractor for the message ids that services pass around as plain strings.

Services raise errors and flash messages with English sentences (translated when rendered), so they are not
wrapped in _(). This extractor picks, from Python files, every string literal that reads like a sentence for
a person: it starts with a capital letter, has a space, and ends with . ? ! or :. Registered in babel.cfg.
"""

import ast
import io
import tokenize
from collections.abc import Iterator
from typing import Any

SENTENCE_END = (".", "?", "!", ":", ".)")


def _is_user_facing(text: str) -> bool:
    # sentences that start with "A"/"The" are user messages when they end like one and are short
    return bool(text) and text[0].isupper() and " " in text and text.rstrip().endswith(SENTENCE_END) and len(text) < 200


def extract_messages(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    source = fileobj.read().decode("utf-8")
    docstring_lines = _docstring_lines(source)
    previous: list[str] = ["", ""]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        called = previous in (["gettext", "("], ["_", "("], ["N_", "("])
        previous = [previous[1], token.string]
        if token.type != tokenize.STRING or token.start[0] in docstring_lines:
            continue
        if called:
            yield token.start[0], None, ast.literal_eval(token.string), []
            continue
        try:
            value = ast.literal_eval(token.string)
        except (ValueError, SyntaxError):
            continue
        if (
            isinstance(value, str)
            and not token.string.lstrip("rbuRBU").startswith(('f"', "f'"))
            and _is_user_facing(value)
            and "\n" not in value
            and not value.startswith(("%", "-"))
        ):
            yield token.start[0], None, value, []


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines
