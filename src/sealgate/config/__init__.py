"""Configuration: the root model (``model.py``) and the YAML loader with line-numbered errors (``load.py``)."""

from sealgate.config.load import load_config, parse_config_text
from sealgate.config.model import SealgateConfig

__all__ = ["SealgateConfig", "load_config", "parse_config_text"]
