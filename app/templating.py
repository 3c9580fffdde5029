"""The Jinja2 environment on ../templates, with gettext and locale-aware filters (pages and emails alike)."""

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app import countries, i18n
from app.config import LANGUAGES
from app.markdown import render_markdown
from app.web import confirm

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def isolate(text: Any) -> Markup:
    """User text inside a sentence of the page's language, isolated so that its direction does not reorder
    the sentence around it (a French name in an Arabic sentence): <bdi>, escaped."""
    return Markup("<bdi>%s</bdi>") % text


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
    env.globals["CONFIRM_LABEL"] = confirm.LABEL
    return env


environment = _make_environment()


def render(template: str, **context: Any) -> str:
    return environment.get_template(template).render(**context)
