"""Settings of the import engine (environment prefix ``CHEESE_IMPORT_``).

Lists accept JSON (``["a.example", ".b.example"]``) or a comma-separated
string (``a.example,.b.example``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter

MiB = 1024 * 1024

# What the analysis can decode: HEIC is recognised when sniffing but refused at
# import (as not-an-image) until the decoder reads it, instead of failing later.
DEFAULT_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class ImportSettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_IMPORT_")

    # Extra hosts we may fetch from, on top of the adapters' own page and image
    # hosts: "host.example" (exactly), ".example.com" (it and every subdomain),
    # "img*.example.com" (`*` matches inside one DNS label). Empty: adapters only.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Plain http to any allowed host (the local stack and tests). Off: http
    # links are upgraded to https, except for the adapters' declared
    # http-only hosts when `vendor_http` is on.
    allow_http: bool = False
    # Let adapters fetch their declared http-only hosts over plain http
    # (Harufilm's and Photo Signature's QR codes are observed to be http://).
    vendor_http: bool = False
    # ONLY for tests that serve pages on 127.0.0.1: permits loopback
    # addresses (127.0.0.0/8, ::1) and any port. Every other refused range
    # (private, link-local, metadata, CGNAT...) stays refused.
    allow_private_addresses: bool = False

    max_bytes: int = Field(default=20 * MiB, ge=1024)  # one image
    max_page_bytes: int = Field(default=2 * MiB, ge=1024)  # one HTML/JSON page
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=5.0, gt=0)  # silence between two reads
    total_timeout: float = Field(default=10.0, gt=0)  # one fetch, redirects included
    import_timeout: float = Field(default=20.0, gt=0)  # one import: page + all its images
    max_redirects: int = Field(default=3, ge=0, le=10)
    max_images: int = Field(default=8, ge=1, le=32)  # images fetched per page
    max_url_length: int = Field(default=2048, ge=64)
    image_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_IMAGE_TYPES)
    )
    qr_max_pixels: int = Field(default=40_000_000, ge=10_000)
    user_agent: str = "CheeseImport/1.0 (+https://cheese.dev/import)"

    @field_validator("allowed_hosts", "image_types", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [host.strip().lower().rstrip(".") for host in value if host.strip()]


get_import_settings = settings_getter(ImportSettings)
