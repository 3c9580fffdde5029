"""The Frictionless Data Package descriptor of a dataset (datapackage.json, on both faces), beside the DCAT
catalogue of every harvestable dataset (catalogue.py)."""

import re
from collections.abc import Callable
from typing import Any

from app.datasets.models import DatasetFile
from app.datasets.schemas import LICENCES
from app.datasets.service import DatasetView


def _resource_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "file"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def datapackage(view: DatasetView, *, base_url: str, download_url: Callable[[DatasetFile], str]) -> dict[str, Any]:
    """A Frictionless Data Package descriptor of the dataset: its latest files as resources."""

    d = view.dataset
    licence_title, licence_url = LICENCES.get(d.licence, (d.licence, None))
    licence: dict[str, Any] = {"name": d.licence, "title": licence_title}
    if licence_url:
        licence["path"] = licence_url
    dictionary = {spec["name"]: spec for spec in view.schema}
    used: set[str] = set()
    resources = []
    for f in view.files:
        resource: dict[str, Any] = {
            "name": _resource_name(f.name, used),
            "title": f.name,
            "path": download_url(f),
            "format": f.name.rsplit(".", 1)[-1].lower() if "." in f.name else "",
            "mediatype": f.media_type,
            "bytes": f.size,
            "hash": f"sha256:{f.sha256}",
            "version": f.version,
        }
        if f.schema_fields:
            resource["profile"] = "tabular-data-resource"
            resource["encoding"] = "utf-8"
            fields = []
            for spec in f.schema_fields:
                entry = {"name": spec["name"], "type": spec.get("type", "any")}
                extra = dictionary.get(spec["name"], {})
                if extra.get("description"):
                    entry["description"] = extra["description"]
                if extra.get("unit"):
                    entry["unit"] = extra["unit"]
                fields.append(entry)
            resource["schema"] = {"fields": fields}
        resources.append(resource)
    name = _resource_name(f"{d.title}-{d.id}", set())
    return {
        "profile": "data-package",
        "name": name,
        "id": f"{base_url}/datasets/{d.id}",
        "title": d.title,
        "description": d.description,
        "homepage": f"{base_url}/datasets/{d.id}",
        "licenses": [licence],
        "created": d.created_at.isoformat(),
        "keywords": ["synthetic"] if d.synthetic else [],
        "resources": resources,
    }
