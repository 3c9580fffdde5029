"""Settings read from MEDINA_* environment variables; refuses the default secret outside development."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-change-me"  # noqa: S105  (refused in production)
LANGUAGES = ("fr", "en", "ar")
RTL_LANGUAGES = frozenset({"ar"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDINA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = Field(default=None, description="smtp://user:pass@host:port, smtps:// for TLS")
    mail_from: str = "Medina <no-reply@medina.local>"
    default_language: Literal["fr", "en", "ar"] = "fr"
    session_days: int = 14
    invitation_days: int = 7
    password_reset_minutes: int = 60
    email_confirmation_hours: int = 48
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_max_failures_per_account_everywhere: int = 100
    login_window_minutes: int = 15
    trusted_proxies: str = ""
    db_pool_size: int = 10
    api_rate_limit_per_minute: int = 600
    max_upload_bytes: int = 2 * 1024**3
    max_body_bytes: int = 4 * 1024**2
    # jobs (app/jobs): run each one in the process that queued it, right after its transaction (the tests)
    jobs_eager: bool = False
    # run a worker in the web process (`medina serve` on SQLite sets it); else `medina worker` runs them
    jobs_in_process: bool = False

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "MEDINA_SECRET_KEY must be set to a long random value outside development "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("MEDINA_SECRET_KEY must be at least 32 characters long")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'medina.sqlite3').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def site_url(path: str = "") -> str:
    """An absolute URL on this site, from MEDINA_BASE_URL — never from the request's Host header, which a
    client chooses (it would reach cached pages and other people's answers)."""
    return get_settings().base_url.rstrip("/") + path
