from django.conf import settings
from django.core.checks import Error, register


@register()
def storage_settings(app_configs, **kwargs):
    errors = []
    backend = settings.ACCESSGATE_STORAGE_BACKEND
    if backend not in ("local", "s3"):
        errors.append(Error(f"ACCESSGATE_STORAGE_BACKEND is {backend!r}; use 'local' or 's3'.", id="accessgate.E001"))
    if backend == "s3" and not settings.ACCESSGATE_S3["bucket"]:
        errors.append(Error("The S3 storage backend needs ACCESSGATE_S3_BUCKET.", id="accessgate.E002"))
    if settings.ACCESSGATE_S3["addressing_style"] not in ("path", "virtual"):
        errors.append(Error("ACCESSGATE_S3_ADDRESSING_STYLE is 'path' or 'virtual'.", id="accessgate.E003"))
    try:
        count, seconds = (int(part) for part in settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT.split("/"))
        assert count > 0 and seconds > 0
    except (ValueError, AssertionError):
        errors.append(
            Error("ACCESSGATE_DOWNLOAD_RATE_LIMIT must look like '120/60' (requests/seconds).", id="accessgate.E004")
        )
    if settings.ACCESSGATE_LOCAL_OFFLOAD not in ("python", "x-accel", "x-sendfile"):
        errors.append(Error("ACCESSGATE_LOCAL_OFFLOAD is 'python', 'x-accel' or 'x-sendfile'.", id="accessgate.E005"))
    return errors
