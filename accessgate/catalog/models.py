import hashlib

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .names import validate_file_path, validate_name_part, validate_namespace, validate_version


class ModelStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Model(models.Model):
    """An AI model, named `<namespace>/<name>` like on the Hugging Face Hub.

    A draft is seen only by its publishers, its reviewers and admins (catalog selectors);
    publishing it is an explicit, audited step once it has a licence, a policy and a release.
    """

    namespace = models.CharField(max_length=96, validators=[validate_namespace])
    name = models.CharField(max_length=96, validators=[validate_name_part])
    display_name = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    card_markdown = models.TextField(_("model card (Markdown)"), blank=True)
    is_listed = models.BooleanField(_("listed in the catalog"), default=True)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviewed_models")
    publishers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="published_models")
    # Models made before drafts existed (and from the admin or seed_demo) are published.
    status = models.CharField(max_length=16, choices=ModelStatus.choices, default=ModelStatus.PUBLISHED)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(Lower("namespace"), Lower("name"), name="catalog_model_unique_name_ci"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def is_draft(self) -> bool:
        return self.status == ModelStatus.DRAFT


class LicenseVersion(models.Model):
    """One immutable version of a licence. Agreements point at the exact version signed."""

    name = models.CharField(max_length=200)
    version = models.CharField(max_length=32)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "-published_at"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="catalog_license_unique_version")]

    def __str__(self):
        return f"{self.name} {self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("A published licence version cannot change; publish a new version instead.")
        self.sha256 = self.digest(self.text)
        super().save(*args, **kwargs)

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()


class Release(models.Model):
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=64, validators=[validate_version])
    revision = models.CharField(max_length=40, editable=False)
    notes = models.TextField(blank=True)
    # False: withdrawn; downloads are refused (access.policy.download_check).
    is_active = models.BooleanField(default=True)
    withdrawn_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="catalog_release_unique_version"),
            models.UniqueConstraint(fields=["model", "revision"], name="catalog_release_unique_revision"),
        ]

    def __str__(self):
        return f"{self.model.full_name}@{self.version}"


class WeightFile(models.Model):
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=500, validators=[validate_file_path])
    storage_key = models.CharField(max_length=1024)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["release", "path"], name="catalog_weightfile_unique_path")]

    def __str__(self):
        return self.path


class ImportPrefix(models.Model):
    """A prefix of the configured bucket that an admin opened to one publisher: besides each
    model's own `<namespace>/<name>/`, that publisher may index releases of the models they
    publish from under it (`downloads.sources`). Added and removed, never edited, through
    audited services (`catalog.services.import_prefix_add` / `import_prefix_remove`)."""

    publisher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_prefixes")
    # Normalised (`catalog.areas.normalise_key_prefix`): no leading '/', ends with '/'.
    prefix = models.CharField(max_length=1024)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["publisher", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["publisher", "prefix"], name="catalog_importprefix_unique"),
        ]

    def __str__(self):
        return f"{self.prefix} ({self.publisher})"
