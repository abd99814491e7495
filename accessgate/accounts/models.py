import re
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries.fields import CountryField

ORCID_RE = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
USERNAME_MAX = 40


def validate_username(value: str) -> None:
    if not USERNAME_RE.match(value or ""):
        raise ValidationError(_("A username uses only letters, digits, '_', '.' and '-'."))


def username_base(email: str) -> str:
    """The handle an e-mail address suggests: its local part, cleaned to [A-Za-z0-9_.-]."""
    local = (email or "").split("@", 1)[0].lower()
    base = re.sub(r"[^a-z0-9_.-]+", "-", local).strip("._-")[: USERNAME_MAX - 6]
    return base or "user"


def unique_username(email: str, *, taken) -> str:
    """`base`, or `base-2`, `base-3`… the first that `taken(candidate)` says is free."""
    base = username_base(email)
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def validate_orcid(value: str) -> None:
    """An ORCID iD is 16 characters whose last one is an ISO 7064 11,2 check digit."""
    if not ORCID_RE.match(value):
        raise ValidationError(_("Enter an ORCID iD like 0000-0002-1825-0097."))
    digits = value.replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    if digits[-1] != expected:
        raise ValidationError(_("This ORCID iD's check digit is wrong; please copy it again from orcid.org."))


def same_person_name(a: str, b: str) -> bool:
    """Names compare ignoring case and spacing: how a typed signature or a verified name is
    matched against the profile."""

    def key(name):
        return " ".join(name.split()).casefold()

    return bool(key(a)) and key(a) == key(b)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Logs in by e-mail. `username` is a stable public handle (for the Hugging Face access-request
    API and scripts), chosen once from the e-mail's local part; it never changes."""

    username = models.CharField(
        max_length=USERNAME_MAX,
        unique=True,
        validators=[validate_username],
        help_text=gettext_lazy("A stable handle; letters, digits, '_', '.' and '-'."),
    )
    # Dropped fields (Django's way: None on the subclass); the stubs type them as str.
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(gettext_lazy("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # A BaseUserManager of our own in place of AbstractUser's django.contrib.auth UserManager.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta(AbstractUser.Meta):
        constraints = [models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci")]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        if not self.username:
            # Every way an account is created (sign-up, seed, operators) gets its handle here.
            manager = type(self)._default_manager
            self.username = unique_username(
                self.email, taken=lambda name: manager.filter(username__iexact=name).exclude(pk=self.pk).exists()
            )
        super().save(*args, **kwargs)

    def get_full_name(self):
        profile = getattr(self, "profile", None)
        return profile.full_name if profile and profile.full_name else self.email

    def get_short_name(self):
        return self.get_full_name()


class Profile(models.Model):
    """What a researcher tells us once; every application reuses it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    full_name = models.CharField(max_length=200, blank=True)
    affiliation = models.CharField(gettext_lazy("institution or company"), max_length=200, blank=True)
    position = models.CharField(max_length=120, blank=True)
    country = CountryField(blank=True)
    orcid = models.CharField(gettext_lazy("ORCID iD"), max_length=19, blank=True, validators=[validate_orcid])
    updated_at = models.DateTimeField(auto_now=True)

    REQUIRED_FIELDS = ("full_name", "affiliation", "position", "country")

    def __str__(self):
        return self.full_name or self.user.email

    @property
    def is_complete(self) -> bool:
        return all(getattr(self, name) for name in self.REQUIRED_FIELDS)

    @property
    def missing_fields(self) -> list[str]:
        return [
            # REQUIRED_FIELDS names concrete fields only, never a relation's reverse side.
            str(self._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
            for name in self.REQUIRED_FIELDS
            if not getattr(self, name)
        ]


class TokenScope(models.TextChoices):
    """What a personal access token may do. The default is download-only."""

    DOWNLOAD = "download", gettext_lazy("Download weights")
    APPLY = "apply", gettext_lazy("Apply for access")
    REVIEW = "review", gettext_lazy("Review requests (staff)")
    AUDIT = "audit", gettext_lazy("Read the audit trail (staff)")


# Staff scopes need the matching role and a session that passed two-factor.
STAFF_SCOPES = (TokenScope.REVIEW, TokenScope.AUDIT)


def default_token_scopes() -> list[str]:
    return [TokenScope.DOWNLOAD.value]


class ApiTokenQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """The one definition of a usable token: not revoked, not expired, owner active."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now(), user__is_active=True)


class ApiToken(models.Model):
    """A personal access token for scripts and clusters. Only its SHA-256 is kept."""

    PREFIX = "agt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(gettext_lazy("visible prefix"), max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    created_with_mfa = models.BooleanField(default=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(
        default=default_token_scopes, help_text=gettext_lazy("TokenScope values this token carries.")
    )
    models = models.ManyToManyField(
        "catalog.Model",
        blank=True,
        related_name="+",
        help_text=gettext_lazy("Limit the token to these models; empty: every model."),
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str, model=None) -> bool:
        """The token carries `scope` and, when it is limited to some models, `model` is one of them."""
        if str(scope) not in self.scopes:
            return False
        if model is None:
            return True
        limited = self._limited_model_ids()
        return not limited or model.pk in limited

    def _limited_model_ids(self) -> set[int]:
        cached = self.__dict__.get("_model_ids")
        if cached is None:
            cached = self.__dict__["_model_ids"] = set(self.models.values_list("pk", flat=True))
        return cached
