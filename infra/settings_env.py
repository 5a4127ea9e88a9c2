"""Environment variable names of the runtime settings (``cheese_runtime.settings``)."""

from __future__ import annotations

from pydantic.fields import FieldInfo

from cheese_runtime.settings import Settings

PREFIX = Settings.model_config["env_prefix"]


def _field(name: str) -> FieldInfo:
    if name not in Settings.model_fields:
        raise KeyError(f"cheese_runtime.settings.Settings has no field {name!r}")
    return Settings.model_fields[name]


def setting_env(field: str) -> str:
    """``CHEESE_<FIELD>``, refusing a field the functions would not read."""
    _field(field)
    return f"{PREFIX}{field.upper()}"


def default_setting(field: str) -> str:
    """The local default of a setting (a resource base name, e.g. the face collection's)."""
    return str(_field(field).default)
