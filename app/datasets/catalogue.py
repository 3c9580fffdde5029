"""The open-data catalogue as DCAT-AP JSON-LD, so that open-data portals can harvest the public datasets.

Only datasets with public access, on challenges that are public (published, closed, awarded, archived),
are listed; each distribution is the latest version of a file, with its download URL, media type, size
and SHA-256 checksum (spdx:checksum, as DCAT-AP 2 recommends).
"""

from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.datasets.models import Dataset, DatasetFile
from app.datasets.permissions import harvestable_datasets
from app.datasets.schemas import LICENCES

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
}
IANA = "https://www.iana.org/assignments/media-types/"


def public_datasets(session: Session) -> list[tuple[Dataset, list[DatasetFile], Organisation | None]]:
    """Public datasets of public challenges (and catalogue datasets), with the latest version of each file."""
    datasets = session.exec(select(Dataset).where(harvestable_datasets()).order_by(col(Dataset.id))).all()
    ids = [d.id for d in datasets]
    latest: dict[tuple[int, str], DatasetFile] = {}
    for f in session.exec(select(DatasetFile).where(col(DatasetFile.dataset_id).in_(ids or [-1]))):
        key = (f.dataset_id, f.name)
        if key not in latest or f.version > latest[key].version:
            latest[key] = f
    by_dataset: dict[int, list[DatasetFile]] = {}
    for (dataset_id, _), f in sorted(latest.items(), key=lambda item: (item[0][0], item[0][1].lower())):
        by_dataset.setdefault(dataset_id, []).append(f)
    owners = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({d.owner_id for d in datasets} or {-1}))
        )
    }
    return [(d, by_dataset.get(d.id or 0, []), owners.get(d.owner_id)) for d in datasets]


def _licence(licence: str) -> dict[str, Any]:
    title, url = LICENCES.get(licence, (licence, None))
    return (
        {"@id": url, "@type": "dct:LicenseDocument", "dct:title": title, "dct:identifier": licence}
        if url
        else {
            "@type": "dct:LicenseDocument",
            "dct:title": title,
            "dct:identifier": licence,
        }
    )


def catalogue(session: Session, base_url: str) -> dict[str, Any]:
    items = []
    for dataset, files, owner in public_datasets(session):
        page = f"{base_url}/datasets/{dataset.id}"
        distributions = [
            {
                "@id": f"{page}/files/{f.id}",
                "@type": "dcat:Distribution",
                "dct:title": f.name,
                "dcat:accessURL": {"@id": page},
                "dcat:downloadURL": {"@id": f"{page}/files/{f.id}/download"},
                "dcat:mediaType": {"@id": IANA + f.media_type},
                "dct:format": f.media_type,
                "dcat:byteSize": {"@value": str(f.size), "@type": "xsd:nonNegativeInteger"},
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": f.sha256,
                },
                "dct:license": _licence(dataset.licence),
                "dct:issued": {"@value": f.created_at.isoformat(), "@type": "xsd:dateTime"},
                "adms:version": str(f.version),
            }
            for f in files
        ]
        item: dict[str, Any] = {
            "@id": page,
            "@type": "dcat:Dataset",
            "dct:identifier": str(dataset.id),
            "dct:title": dataset.title,
            "dct:description": dataset.description or dataset.title,
            "dct:license": _licence(dataset.licence),
            "dct:issued": {"@value": dataset.created_at.isoformat(), "@type": "xsd:dateTime"},
            "dct:modified": {"@value": dataset.updated_at.isoformat(), "@type": "xsd:dateTime"},
            "dcat:landingPage": {"@id": page},
            "dcat:distribution": distributions,
        }
        if owner is not None:
            item["dct:publisher"] = {"@type": "foaf:Organization", "foaf:name": owner.name}
        if dataset.synthetic:
            item["dcat:keyword"] = ["synthetic"]
        items.append(item)
    return {
        "@context": CONTEXT,
        "@id": f"{base_url}/catalogue.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": "Medina open data",
        "dct:description": "Datasets that cities and partners share with their open-innovation challenges.",
        "foaf:homepage": {"@id": base_url + "/"},
        "dcat:dataset": items,
    }
