"""Input and output shapes of datasets, their files and data dictionary (shared by forms and the API)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.i18n import N_

AccessLevel = Literal["public", "registered", "applicants", "selected"]
ACCESS_LABELS: dict[str, str] = {  # message ids, translated where shown
    "public": N_("Public: anyone"),
    "registered": N_("Registered users"),
    "applicants": N_("Applicants who accepted the challenge's terms"),
    "selected": N_("Selected startups only"),
}

# SPDX and Open Data Commons ids, plus the platform's own "restricted" licence; the titles are message ids.
LICENCES: dict[str, tuple[str, str | None]] = {
    "CC-BY-4.0": (N_("Creative Commons Attribution 4.0"), "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": (
        N_("Creative Commons Attribution-ShareAlike 4.0"),
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC0-1.0": (N_("Creative Commons Zero 1.0 (public domain)"), "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": (N_("Open Database License 1.0"), "https://opendatacommons.org/licenses/odbl/1-0/"),
    "ODC-By-1.0": (N_("Open Data Commons Attribution 1.0"), "https://opendatacommons.org/licenses/by/1-0/"),
    "PDDL-1.0": (
        N_("Open Data Commons Public Domain Dedication 1.0"),
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
    "etalab-2.0": (
        N_("Licence Ouverte / Open Licence 2.0"),
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    ),
    "restricted": (N_("Restricted: programme use only"), None),
}
Licence = Literal[
    "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODbL-1.0", "ODC-By-1.0", "PDDL-1.0", "etalab-2.0", "restricted"
]
assert set(Licence.__args__) == set(LICENCES)  # type: ignore[attr-defined]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=160)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DictionaryEntry(BaseModel):
    """A sponsor's description and unit of one field (column) of the dataset."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: FieldName
    description: Annotated[str, StringConstraints(max_length=1000)] = ""
    unit: Annotated[str, StringConstraints(max_length=40)] = ""


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: Title
    description: Description = ""
    licence: Licence = Field(description="SPDX / Open Data Commons id, or `restricted` (programme use only)")
    access: AccessLevel = "public"


class DatasetUpdate(BaseModel):
    """PATCH: every field optional; `schema` edits the data dictionary of the named fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    title: Title | None = None
    description: Description | None = None
    licence: Licence | None = None
    access: AccessLevel | None = None
    schema_: list[DictionaryEntry] | None = Field(default=None, alias="schema", max_length=1000)


class FilePublic(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    media_type: str
    version: int
    url: str
    download_url: str
    row_count: int | None = None
    report: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class SchemaFieldPublic(BaseModel):
    name: str
    type: str
    description: str = ""
    unit: str = ""


class DatasetPublic(BaseModel):
    id: int
    url: str
    html_url: str
    challenge: int | None
    owner: int
    title: str
    description: str
    licence: str
    access: AccessLevel
    synthetic: bool
    files: list[FilePublic]
    versions: list[FilePublic] = Field(description="Every version of every file, newest first")
    schema_: list[SchemaFieldPublic] = Field(alias="schema", serialization_alias="schema")
    datapackage_url: str
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(populate_by_name=True)
