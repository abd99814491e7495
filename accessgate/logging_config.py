"""The LOGGING dictionary (filters and formatters live in accessgate/logs.py); built here so
settings.py only says which options are on."""


def logging_config(*, json: bool, level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "accessgate.logs.RequestIdFilter"},
            "redact_tokens": {"()": "accessgate.logs.RedactTokensFilter"},
        },
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "accessgate.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id", "redact_tokens"],
                "formatter": "json" if json else "text",
            },
        },
        "loggers": {
            # Django's defaults give these their own unfiltered handlers; ours redact tokens.
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["console"], "level": level},
    }
