import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accessgate.access.models import AccessRequest, Agreement, Decision, Grant, GrantStatus, RequestStatus, Review
from accessgate.accounts.mfa import totp_activate, totp_new_secret, totp_now
from accessgate.accounts.models import Profile
from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_grant
from accessgate.catalog.models import LicenseVersion, Model
from accessgate.catalog.services import FileSpec, release_create
from accessgate.core.storage import get_storage

PASSWORD = "correct horse battery staple"


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    full_name = factory.Faker("name")
    affiliation = "University of Testing"
    position = "Research scientist"
    country = "NL"


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a verified e-mail and a complete profile; `role=` adds a staff role."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    profile = factory.RelatedFactory(ProfileFactory, factory_related_name="user")

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        self.save()
        EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            with transaction.atomic():
                role_grant(actor=None, user=self, role=Role(extracted))
            self.totp_secret = add_totp(self)  # staff pages need a second factor


def add_totp(user) -> str:
    """Give a user an authenticator app; returns its secret (tests compute codes from it)."""
    secret = totp_new_secret()
    totp_activate(user, secret)
    return secret


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenseVersion

    name = factory.Sequence(lambda n: f"Research Licence {n}")
    version = "1.0"
    text = "You may use the weights for research only.\nDo not redistribute them."


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Model
        skip_postgeneration_save = True

    namespace = "acme-lab"
    name = factory.Sequence(lambda n: f"frontier-{n}b")
    display_name = factory.LazyAttribute(lambda o: o.name.title())
    summary = "A capable model."
    card_markdown = "## Card\nSome **bold** claims."

    @factory.post_generation
    def reviewers(self, create, extracted, **kwargs):
        if extracted:
            self.reviewers.set(extracted)

    @factory.post_generation
    def publishers(self, create, extracted, **kwargs):
        if extracted:
            self.publishers.set(extracted)


def make_release(model, version="1.0", files=None):
    """A release whose bytes are really in the configured storage."""
    files = files or {"config.json": b"{}", "model.safetensors": b"weights" * 100}
    storage = get_storage()
    with tempfile.TemporaryDirectory() as scratch:
        for path, content in files.items():
            source = Path(scratch) / "file"
            source.write_bytes(content)
            storage.put_file(f"{model.full_name}/{version}/{path}", source)
    specs = [
        FileSpec(
            path=path,
            storage_key=f"{model.full_name}/{version}/{path}",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        for path, content in files.items()
    ]
    with transaction.atomic():
        return release_create(actor=None, model=model, version=version, files=specs)


def totp_code(secret: str) -> str:
    return totp_now(secret)


# --- access rows, straight into the database ------------------------------------------------
# For tests about what happens *to* a request or grant; tests of how one comes about go
# through the services (`access_request_submit`, `access_request_approve`).


class AccessRequestFactory(factory.django.DjangoModelFactory):
    """An open request (status `submitted`); pass `status=` for another state."""

    class Meta:
        model = AccessRequest

    user = factory.SubFactory(UserFactory)
    model = factory.SubFactory(ModelFactory)
    intended_use = "Red-teaming refusal behaviour for a university safety study."
    status = RequestStatus.SUBMITTED


class AgreementFactory(factory.django.DjangoModelFactory):
    """What the request's applicant signed: the licence of the model's policy (or `license=`)."""

    class Meta:
        model = Agreement

    request = factory.SubFactory(AccessRequestFactory)
    user = factory.SelfAttribute("request.user")
    license = factory.LazyAttribute(lambda o: o.request.model.policy.license)
    license_sha256 = factory.SelfAttribute("license.sha256")
    attestations = factory.LazyAttribute(
        lambda o: [
            {"text": s.text, "sha256": s.sha256} for s in o.request.model.policy.statements.filter(is_active=True)
        ]
    )
    intended_use = factory.SelfAttribute("request.intended_use")
    typed_name = factory.LazyAttribute(lambda o: o.user.profile.full_name)


class GrantFactory(factory.django.DjangoModelFactory):
    """An active grant under an approved request with a signed agreement, for `days` more days."""

    class Meta:
        model = Grant
        skip_postgeneration_save = True

    class Params:
        days = 30

    user = factory.SubFactory(UserFactory)
    model = factory.SubFactory(ModelFactory)
    request = factory.SubFactory(
        AccessRequestFactory,
        user=factory.SelfAttribute("..user"),
        model=factory.SelfAttribute("..model"),
        status=RequestStatus.APPROVED,
    )
    status = GrantStatus.ACTIVE
    granted_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.granted_at + timedelta(days=o.days))

    @factory.post_generation
    def agreement(self, create, extracted, **kwargs):
        if create and extracted is not False and hasattr(self.model, "policy"):
            AgreementFactory(request=self.request, **kwargs)

    @factory.post_generation
    def approvals(self, create, extracted, **kwargs):
        """The approvals the model's policy asks for, by its reviewers (the door counts them)."""
        if not create or extracted is False or not hasattr(self.model, "policy"):
            return
        policy = self.model.policy
        if policy.gating == "auto":
            Review.objects.create(request=self.request, reviewer=None, decision=Decision.APPROVED)
            return
        reviewers = list(self.model.reviewers.exclude(pk=self.user_id)[: policy.approvals_required])
        while len(reviewers) < policy.approvals_required:
            reviewers.append(UserFactory(role="reviewer"))
            self.model.reviewers.add(reviewers[-1])
        for reviewer in reviewers:
            Review.objects.create(request=self.request, reviewer=reviewer, decision=Decision.APPROVED)
