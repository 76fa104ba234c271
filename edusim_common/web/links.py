"""Where each service's pages live, so that every page can link to the others.

`edusim up` sets these from the ports it chose; the defaults are its default ports.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebLinks(BaseSettings):
    """Public base URLs of the three services (``EDUSIM_ONDE_URL`` …)."""

    model_config = SettingsConfigDict(env_prefix="EDUSIM_", extra="ignore")

    onde_url: str = Field(default="http://127.0.0.1:8001")
    educonnect_url: str = Field(default="http://127.0.0.1:8002")
    sync_url: str = Field(default="http://127.0.0.1:8003")

    def origins(self) -> set[str]:
        """The scheme://host:port of each service (where a redirect may go)."""
        return {_origin(url) for url in (self.onde_url, self.educonnect_url, self.sync_url)}

    def safe_next(self, target: str | None, fallback: str = "/") -> str:
        """``target`` if it is a local path or a page of one of the services, else ``fallback``.

        Refuses open redirects: ``//evil.example``, other hosts, other schemes.
        """
        if not target:
            return fallback
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target if not target.startswith("//") else fallback
        if parts.scheme in ("http", "https") and _origin(target) in self.origins():
            return target
        return fallback


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".rstrip("/")


@lru_cache(maxsize=1)
def get_links() -> WebLinks:
    """The links, read once from the environment."""
    return WebLinks()
