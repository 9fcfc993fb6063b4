"""pydantic v2 support for `SettingsPatch` (its `__get_pydantic_core_schema__` calls this):
a model field typed `SettingsPatch` takes a `SettingsPatch` as it is or a mapping of settings
(API spelling or snake_case, as `SettingsPatch.from_dict`; errors become pydantic's
`ValidationError`), and dumps as `to_dict(names="api")`: the request body with the webhook
secret redacted, as pydantic's own `SecretStr` dumps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def core_schema(cls: type[Any]) -> Any:
    """The pydantic-core schema of `cls` (`SettingsPatch`); pydantic must be installed."""
    from pydantic_core import core_schema as cs

    def validate(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            try:
                return cls.from_dict(value)
            except ValueError as e:  # greenapi_settings.ValidationError is a ValueError
                raise ValueError(str(e)) from None
        raise ValueError(f"expected a SettingsPatch or a mapping of settings, found {type(value).__name__}")

    serialization = cs.plain_serializer_function_ser_schema(lambda p: p.to_dict(names="api"))
    # For `model_json_schema()`: an object of settings (pydantic-core 2.27+ takes this).
    as_json = cs.dict_schema(keys_schema=cs.str_schema(), values_schema=cs.any_schema())
    try:
        return cs.no_info_plain_validator_function(
            validate, json_schema_input_schema=as_json, serialization=serialization
        )
    except TypeError:  # an older pydantic-core: no JSON schema, validation as above
        return cs.no_info_plain_validator_function(validate, serialization=serialization)
