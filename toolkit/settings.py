"""User settings: where gpuless keeps its data and which Ollama it talks to.

Read from ``GPULESS_*`` environment variables (pydantic-settings); paths default to the
platform's user directories (platformdirs). Nothing is created on import: callers ask for a
directory when they are about to write (``ensure_cache_dir()`` for the cache).
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from toolkit import defaults

APP_NAME = "gpuless"


class Settings(BaseSettings):
    """Settings with their defaults; each can be overridden by ``GPULESS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GPULESS_", frozen=True)

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir(APP_NAME)))
    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir(APP_NAME)))
    ollama_url: str = defaults.OLLAMA_URL
    image: str = defaults.IMAGE
    container_name: str = defaults.CONTAINER_NAME
    volume_name: str = defaults.VOLUME_NAME
    gateway_image: str = defaults.GATEWAY_IMAGE
    gateway_container_name: str = defaults.GATEWAY_CONTAINER_NAME

    @property
    def history_path(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def calibration_path(self) -> Path:
        """This machine's benchmark calibration (``adapters.bench.calibration``), beside the history."""
        return self.data_dir / "calibration.json"

    @property
    def share_dir(self) -> Path:
        """`gpuless share`'s keys (mode 0600) and the gateway's rendered configuration."""
        return self.data_dir / "share"

    @property
    def native_dir(self) -> Path:
        """What `gpuless up --runtime native` started: one record per port (``toolkit.adapters.native``)."""
        return self.data_dir / "native"

    def ensure_cache_dir(self) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir
