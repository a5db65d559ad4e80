"""The one error type for bad input, so callers (the program, the offline preview) can tell a
user mistake from a bug and print it without a traceback."""


class ConfigError(ValueError):
    """Bad stack config or component argument. The message names the setting, the value and what
    is allowed."""

    def __init__(self, setting: str, value: object, allowed: str) -> None:
        self.setting = setting
        self.value = value
        self.allowed = allowed
        super().__init__(f"{setting}: {value!r} is not valid; {allowed}")
