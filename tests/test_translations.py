"""The gettext catalogues are complete and in step with the code.

Every message id in app/locales/messages.pot has a finished (non-empty, non-fuzzy) translation in French and
Arabic with the same placeholders, and the .pot lists exactly the messages the code and templates use today.
When a test here fails after adding or changing a string: run `make messages`, then translate the new entries
in app/locales/fr/LC_MESSAGES/messages.po and app/locales/ar/LC_MESSAGES/messages.po.
"""

import io
import re
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

pytestmark = pytest.mark.database_independent  # no query: .ci/run runs it on SQLite only

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "app" / "locales"
POT = LOCALES / "messages.pot"
TRANSLATED = ("fr", "ar")
HOW_TO_FIX = "Run `make messages`, then translate the new entries in app/locales/{fr,ar}/LC_MESSAGES/messages.po."

# %(name)s / %(name)d placeholders, and positional %s / %d (a literal percent sign is written %%)
NAMED = re.compile(r"%\((\w+)\)[sdifr]")
POSITIONAL = re.compile(r"(?<!%)(?:%%)*%[sdifr]")


def _key(message: Message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _ids(catalog: Catalog) -> set:
    return {_key(m) for m in catalog if m.id}


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _placeholders(text: str) -> tuple[set[str], int]:
    return set(NAMED.findall(text)), len(POSITIONAL.findall(NAMED.sub("", text.replace("%%", ""))))


@pytest.fixture(scope="module")
def template() -> Catalog:
    with POT.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module", params=TRANSLATED)
def catalogue(request) -> Catalog:
    path = LOCALES / request.param / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing. {HOW_TO_FIX}"
    with path.open("rb") as f:
        return read_po(f, locale=request.param)


def test_every_message_is_translated(template: Catalog, catalogue: Catalog) -> None:
    problems = []
    for msgid in sorted(_ids(template), key=str):
        message = catalogue.get(msgid)
        if message is None:
            problems.append(f"missing from the catalogue: {_singular(msgid)!r}")
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy (check it, then remove the fuzzy flag): {_singular(msgid)!r}")
        elif not all(s.strip() for s in strings):
            problems.append(f"not translated: {_singular(msgid)!r}")
        elif isinstance(msgid, tuple) and len(strings) != catalogue.num_plurals:
            problems.append(f"needs {catalogue.num_plurals} plural forms: {_singular(msgid)!r}")
    assert not problems, f"{catalogue.locale} catalogue: {HOW_TO_FIX}\n  " + "\n  ".join(problems)


def test_translations_keep_the_placeholders(template: Catalog, catalogue: Catalog) -> None:
    problems = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected_named = set().union(*(_placeholders(i)[0] for i in ids))
        expected_positional = {_placeholders(i)[1] for i in ids}
        for string in strings:
            if not string:
                continue
            named, positional = _placeholders(string)
            # a plural form may leave out %(num)s (e.g. Arabic "one" and "two" forms), never add one
            plural_ok = isinstance(message.id, tuple) and named <= expected_named
            if (named != expected_named and not plural_ok) or positional not in expected_positional:
                problems.append(f"{_singular(message.id)!r} → {string!r}")
    assert not problems, f"{catalogue.locale}: placeholders differ from the message id:\n  " + "\n  ".join(problems)


def test_catalogues_compile_and_translate(template: Catalog, catalogue: Catalog) -> None:
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    translations = GNUTranslations(buffer)
    for message in catalogue:
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            assert translations.gettext(message.id) == message.string


def test_catalogue_template_lists_exactly_the_messages_in_use(template: Catalog) -> None:
    # Same extraction as `make messages` (pybabel extract -F babel.cfg ... .), through Babel's Python API:
    # the [extractors] section of babel.cfg names app.i18n_extract, and directories starting with "." or "_"
    # are skipped as by pybabel's default.
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    in_use = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message if isinstance(message, str) else tuple(m for m in message if m is not None)
        if isinstance(msgid, tuple) and len(msgid) == 1:
            msgid = msgid[0]
        if msgid:
            in_use.add(msgid)
    listed = _ids(template)
    new = sorted(map(_singular, in_use - listed))
    gone = sorted(map(_singular, listed - in_use))
    assert not new and not gone, (
        f"app/locales/messages.pot is out of date. {HOW_TO_FIX}\n"
        + "".join(f"  new in the code: {m!r}\n" for m in new)
        + "".join(f"  no longer in the code: {m!r}\n" for m in gone)
    )
