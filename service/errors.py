"""The root of the service's own exceptions."""


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigError(ServiceError):
    """A setting a command needs is missing or malformed; the message names it."""
