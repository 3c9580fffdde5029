"""The Jinja2 environment on ../templates, with gettext and locale-aware filters (pages and emails alike)."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app import countries, i18n
from app.accounts.models import ORG_KIND_LABELS, ROLE_LABELS, OrgKind
from app.challenges.models import STATUS_LABELS, THEME_LABELS
from app.config import LANGUAGES
from app.markdown import render_markdown

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def isolate(text: Any) -> Markup:
    """User text inside a sentence of the page's language, isolated so that its direction does not reorder
    the sentence around it (a French name in an Arabic sentence): <bdi>, escaped."""
    return Markup("<bdi>%s</bdi>") % text


def _labeller(labels: Mapping[Any, str]) -> Callable[[str], str]:
    """A template function giving a stored code's label in the reader's language (the code itself if unknown)."""
    return lambda code: i18n.gettext(labels[code]) if code in labels else code


def _options(labels: Mapping[Any, str]) -> Callable[[], list[tuple[str, str]]]:
    """A template function giving a select's (code, label) options in the reader's language."""
    return lambda: [(str(code), i18n.gettext(label)) for code, label in labels.items()]


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations().gettext(message),
        lambda singular, plural, n: i18n.translations().ngettext(singular, plural, n),
        newstyle=True,
    )
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["number"] = i18n.format_number
    env.filters["filesize"] = i18n.format_size
    env.filters["language_name"] = i18n.language_name
    env.filters["bdi"] = isolate
    env.filters["markdown"] = render_markdown
    env.filters["country"] = lambda code: countries.name(code, i18n.get_language())
    env.globals["country_options"] = countries.options
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    env.globals["OrgKind"] = OrgKind
    env.globals["theme_label"] = _labeller(THEME_LABELS)
    env.globals["challenge_status_label"] = _labeller(STATUS_LABELS)
    env.globals["org_kind_label"] = _labeller(ORG_KIND_LABELS)
    env.globals["org_kind_options"] = _options(ORG_KIND_LABELS)
    env.globals["role_label"] = _labeller(ROLE_LABELS)
    env.globals["role_options"] = _options(ROLE_LABELS)
    return env


environment = _make_environment()


def render(template: str, **context: Any) -> str:
    return environment.get_template(template).render(**context)
