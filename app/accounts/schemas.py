"""Input and output shapes of the accounts domain (shared by HTML forms and the JSON API)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.accounts.models import OrgKind, Role
from app.countries import CountryCode
from app.validation import Email

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=160)]
Password = Annotated[str, StringConstraints(max_length=256)]
Language = Literal["fr", "en", "ar"]
# the API's schema names the values; they are OrgKind's and Role's (checked below)
OrgKindName = Literal["city", "partner", "startup", "operator"]
RoleName = Literal["admin", "member"]
assert set(OrgKindName.__args__) == set(OrgKind) and set(RoleName.__args__) == set(Role)  # type: ignore[attr-defined]
Scope = Literal["read", "write"]


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class StartupRegistration(Strict):
    name: Name
    email: Email
    password: Password
    organisation_name: OrgName
    country: CountryCode | None = None
    city: Annotated[str, StringConstraints(max_length=120)] | None = None
    website: Annotated[str, StringConstraints(max_length=300)] | None = None
    preferred_language: Language | None = None
    accept_terms: bool = False

    _blank = field_validator("country", "city", "website", mode="before")(_blank_to_none)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("Enter a valid web address, such as https://example.org.")
        return value


class InvitationAcceptance(Strict):
    name: Name
    password: Password


class AccountUpdate(Strict):
    name: Name
    preferred_language: Language


class PasswordChange(Strict):
    current_password: Password
    new_password: Password
    revoke_tokens: bool = False


class Login(Strict):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Password


class OrganisationCreate(Strict):
    kind: OrgKindName
    name: OrgName
    slug: Annotated[str, StringConstraints(max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")] | None = None
    country: CountryCode | None = None
    city: Annotated[str, StringConstraints(max_length=120)] | None = None
    website: Annotated[str, StringConstraints(max_length=300)] | None = None
    admin_email: Email | None = Field(
        default=None, description="Its first admin, invited at once (required but for platform admins)"
    )

    _blank = field_validator("slug", "country", "city", "website", "admin_email", mode="before")(_blank_to_none)


class InvitationCreate(Strict):
    email: Email
    role: RoleName = "member"


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    scope: Scope = "read"
    expires_in_days: Annotated[int, Field(ge=1, le=730)] | None = None

    _blank = field_validator("expires_in_days", mode="before")(_blank_to_none)


# ---- API output -------------------------------------------------------------------------------------------


class MembershipPublic(BaseModel):
    organisation_id: int
    organisation_slug: str
    organisation_name: str
    kind: OrgKindName
    role: RoleName


class MePublic(BaseModel):
    id: int
    url: str
    email: str
    name: str
    preferred_language: str | None
    is_platform_admin: bool
    organisations: list[MembershipPublic]
    created_at: datetime
    updated_at: datetime


class OrganisationPublic(BaseModel):
    id: int
    url: str
    kind: OrgKindName
    name: str
    slug: str
    country: str | None
    city: str | None
    website: str | None
    created_at: datetime
    updated_at: datetime


class TokenPublic(BaseModel):
    id: int
    url: str
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret, shown this once; send it as `Authorization: Bearer <token>`.")


class InvitationPublic(BaseModel):
    id: int
    url: str
    email: str
    organisation_id: int
    role: RoleName
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    link: str | None = Field(default=None, description="The single-use link; present only in the creation answer.")
