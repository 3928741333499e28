"""Home Board configuration: typed, validated once, with errors that point at the line.

Each setting is defined once, as a field of a frozen dataclass whose metadata (made by
`setting()`) carries its description and checks. The same definitions drive the YAML
reader (`load_config`), which collects every problem as ``FILE:LINE: field.path: what is
wrong``, and the JSON Schema (`config_schema`) that editors use to complete the file.
Rules that tie several fields together are methods marked with `@invariant`.
"""

from __future__ import annotations

from homeboard.config.fields import (
    NOT_EMPTY,
    Check,
    at_least,
    between,
    check,
    invariant,
    matches,
    one_of,
    setting,
)
from homeboard.config.models import (
    CalDAVCalendar,
    CalendarConfig,
    Config,
    DisplayConfig,
    GoogleCalendar,
    HolidaysConfig,
    Layout,
    Location,
    Pins,
    QuietHours,
    Schedule,
    SpecialEvent,
    WeatherConfig,
    WebConfig,
)
from homeboard.config.reader import (
    DEFAULT_CONFIG_PATHS,
    find_config_path,
    load_config,
)
from homeboard.config.schema import (
    SCHEMA_ID,
    config_schema,
)
from homeboard.config.values import (
    CONFIG_ENV,
    DISPLAY_ENV,
    DRIVERS,
    DURATION_PATTERN,
    PANEL_MIN_INTERVAL,
    PANELS,
    TIME_PATTERN,
    DateRule,
    EventDate,
    format_duration,
    parse_duration,
    parse_event_date,
    parse_rule,
    parse_time_of_day,
    redact_url,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATHS",
    "DISPLAY_ENV",
    "DRIVERS",
    "DURATION_PATTERN",
    "NOT_EMPTY",
    "PANELS",
    "PANEL_MIN_INTERVAL",
    "SCHEMA_ID",
    "TIME_PATTERN",
    "CalDAVCalendar",
    "CalendarConfig",
    "Check",
    "Config",
    "DateRule",
    "DisplayConfig",
    "EventDate",
    "GoogleCalendar",
    "HolidaysConfig",
    "Layout",
    "Location",
    "Pins",
    "QuietHours",
    "Schedule",
    "SpecialEvent",
    "WeatherConfig",
    "WebConfig",
    "at_least",
    "between",
    "check",
    "config_schema",
    "find_config_path",
    "format_duration",
    "invariant",
    "load_config",
    "matches",
    "one_of",
    "parse_duration",
    "parse_event_date",
    "parse_rule",
    "parse_time_of_day",
    "redact_url",
    "setting",
]
