"""Collections: one application and one agreement cover every model of a family."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Collection(models.Model):
    """A group of models (a family, a series of releases). Its policy is its lead model's
    policy (licence, statements, questions, requirements, approvals); every member carries
    the same licence. Grants stay per model, so one can be revoked alone."""

    namespace = models.SlugField(max_length=64)
    name = models.SlugField(max_length=100)
    display_name = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    lead = models.ForeignKey("catalog.Model", on_delete=models.PROTECT, related_name="led_collections")
    members = models.ManyToManyField("catalog.Model", related_name="collections")
    covers_later_models = models.BooleanField(
        _("grants extend to models added later"),
        default=True,
        help_text=_("On: adding a model gives every holder of an approved collection request a grant on it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="access_collection_unique_name")]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"
