"""Environment variable names of the runtime settings (``cheese_runtime.settings``)."""

from __future__ import annotations

from cheese_runtime.settings import Settings

PREFIX = Settings.model_config["env_prefix"]


def setting_env(field: str) -> str:
    """``CHEESE_<FIELD>``, refusing a field the functions would not read."""
    if field not in Settings.model_fields:
        raise KeyError(f"cheese_runtime.settings.Settings has no field {field!r}")
    return f"{PREFIX}{field.upper()}"
