"""The one error family of Home Board: every error raised on purpose is a HomeboardError."""

from __future__ import annotations


class HomeboardError(Exception):
    """Base class of every error Home Board raises on purpose."""

    exit_code = 1


class ConfigError(HomeboardError, ValueError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UsageError(HomeboardError):
    """The command line asked for something that cannot be done."""

    exit_code = 2


class SourceError(HomeboardError):
    """A weather, calendar or special-day source could not deliver data."""


class SourceLimitExceeded(SourceError):
    """A source's answer went past one of its caps (bytes, time, instances) and was cut.

    Its last good data is kept, and the frame says that the source was cut. With
    ``partial`` (what could be kept within the caps, e.g. the events a day can show)
    that is the source's new data instead, and the frame still says it was cut.
    """

    def __init__(self, message: str, *, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class DisplayError(HomeboardError):
    """The panel (or the mock display) could not show a frame."""


class PanelBusyTimeout(DisplayError, TimeoutError):
    """The panel's BUSY line did not release in time, even after a reset."""


class MissingDependency(HomeboardError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module} is not installed: pip install 'homeboard[{extra}]'"
        )
        self.module = module
        self.extra = extra
