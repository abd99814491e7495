"""What researchers send and receive: the catalog, their profile, requests, grants and manifests."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus

SHA256 = r"^[0-9a-f]{64}$"


class AbsoluteUrlField(serializers.CharField):
    """A site path made absolute for the caller ('' stays null)."""

    def to_representation(self, value):
        if not value:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request else value


class RequirementSerializer(serializers.Serializer):
    key = serializers.CharField()
    # The API's field names shadow attributes of DRF's Field (label, required, help_text).
    label = serializers.CharField()  # type: ignore[assignment]
    met = serializers.BooleanField()
    help_url = AbsoluteUrlField(allow_null=True, help_text="Where to fix it, if it is not met.")
    detail = serializers.CharField(allow_blank=True)


class LicenceSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    sha256 = serializers.CharField(help_text="Send it back when applying, to show which text the person accepted.")
    text = serializers.CharField()
    published_at = serializers.DateTimeField()


class StatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    sha256 = serializers.CharField()


class ReleaseSerializer(serializers.Serializer):
    version = serializers.CharField()
    revision = serializers.CharField(help_text="The release's 40-hex revision id.")
    notes = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class FileSerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class ReleaseDetailSerializer(ReleaseSerializer):
    model = serializers.CharField(source="model.full_name")
    files = serializers.SerializerMethodField(help_text="Listed for grant holders only; null for others.")

    @extend_schema_field(FileSerializer(many=True, allow_null=True))
    def get_files(self, release):
        if not self.context.get("can_see_files"):
            return None
        return FileSerializer(release.files.order_by("path"), many=True).data


class ModelSummarySerializer(serializers.Serializer):
    namespace = serializers.CharField()
    name = serializers.CharField()
    full_name = serializers.CharField()
    display_name = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)


class MyAccessSerializer(serializers.Serializer):
    open_request_id = serializers.IntegerField(allow_null=True)
    grant_id = serializers.IntegerField(allow_null=True)
    grant_expires_at = serializers.DateTimeField(allow_null=True)


class QuestionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The answer's name in `answers`.")
    label = serializers.CharField()  # type: ignore[assignment]  # shadows Field.label
    kind = serializers.CharField(
        help_text="text, long_text, single_choice, multiple_choice, checkbox, country, date (YYYY-MM-DD) or url."
    )
    required = serializers.BooleanField()  # type: ignore[assignment]  # shadows Field.required
    help_text = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # shadows Field.help_text
    choices = serializers.ListField(child=serializers.CharField())
    sha256 = serializers.CharField()


class PolicySerializer(serializers.Serializer):
    gating = serializers.CharField(
        help_text="`auto`: granted at once when every requirement holds; `manual`: reviewed."
    )
    licence = LicenceSerializer(source="license")
    statements = StatementSerializer(many=True, help_text="Every one must be shown and accepted to apply.")
    min_intended_use_chars = serializers.IntegerField()
    questions = QuestionSerializer(many=True, help_text="The policy's own questions, in order; answer them by key.")
    approvals_required = serializers.IntegerField()
    requirements = RequirementSerializer(many=True, help_text="Each requirement and whether the caller meets it.")


class ModelDetailSerializer(ModelSummarySerializer):
    card_markdown = serializers.CharField(allow_blank=True)
    policy = PolicySerializer(allow_null=True, help_text="Null while the model is not open for applications.")
    releases = ReleaseSerializer(many=True)
    my_access = MyAccessSerializer()


class TokenInfoSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    models = serializers.ListField(child=serializers.CharField(), help_text="Empty: every model.")
    expires_at = serializers.DateTimeField()


class ProfileSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField(allow_blank=True)
    affiliation = serializers.CharField(allow_blank=True)
    position = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    orcid = serializers.CharField(allow_blank=True)
    is_complete = serializers.BooleanField()
    missing_fields = serializers.ListField(child=serializers.CharField())
    roles = serializers.ListField(child=serializers.CharField())
    token = TokenInfoSerializer(allow_null=True, help_text="The token of this call; null for a session.")


class AgreementSerializer(serializers.Serializer):
    license = serializers.CharField(source="license.__str__")
    license_sha256 = serializers.CharField()
    attestation_sha256s = serializers.SerializerMethodField()
    typed_name = serializers.CharField()
    signed_at = serializers.DateTimeField()
    answers = serializers.ListField(
        child=serializers.DictField(), help_text="The answers to the policy's questions, as signed."
    )
    answers_sha256 = serializers.CharField(help_text="sha256 of the answers' canonical JSON; empty without questions.")

    def get_attestation_sha256s(self, agreement) -> list[str]:
        return [a["sha256"] for a in agreement.attestations]


class AccessRequestSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.full_name")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    grant_id = serializers.SerializerMethodField()
    agreements = AgreementSerializer(many=True, help_text="What was signed, oldest first.")
    renews_id = serializers.IntegerField(allow_null=True, help_text="A renewal: the grant it extends.")

    class Meta:
        model = AccessRequest
        fields = [
            "id", "model", "status", "intended_use", "created_at", "submitted_at", "decided_at",
            "reviewer_message", "grant_id", "agreements", "kind", "renews_id", "progress_report",
        ]  # fmt: skip

    def get_grant_id(self, access_request) -> int | None:
        grant = getattr(access_request, "grant", None)  # the reverse one-to-one raises an AttributeError
        return grant.pk if grant else None


class ApplicationSerializer(serializers.Serializer):
    """The signed application. The licence hash and statement ids are those the person was shown."""

    license_sha256 = serializers.RegexField(SHA256, help_text="sha256 of the licence text shown to the person.")
    statement_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=100,
        help_text="Ids of the attestation statements shown to and accepted by the person.",
    )
    intended_use = serializers.CharField(max_length=20000, allow_blank=True)
    typed_name = serializers.CharField(max_length=200, allow_blank=True, help_text="The person's signature.")
    answers = serializers.DictField(
        required=False, default=dict, help_text="Answers to the policy's own questions, by question key."
    )


class SignatureSerializer(serializers.Serializer):
    """Accepting a model's new licence version under an existing grant."""

    license_sha256 = serializers.RegexField(SHA256, help_text="sha256 of the licence text shown to the person.")
    statement_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=100,
        help_text="Ids of the attestation statements shown to and accepted by the person.",
    )
    typed_name = serializers.CharField(max_length=200, allow_blank=True, help_text="The person's signature.")


class ApplySerializer(ApplicationSerializer):
    model = serializers.RegexField(r"^[^/]+/[^/]+$", max_length=200, help_text="`namespace/name`.")


class GrantSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.full_name")
    status = serializers.ChoiceField(choices=GrantStatus.choices)
    is_active = serializers.BooleanField(help_text="Active and not past its expiry.")
    request_id = serializers.IntegerField()
    waiting_for = serializers.ListField(
        child=serializers.CharField(), help_text="While pending: what the grant waits for (the policy's rules unmet)."
    )

    class Meta:
        model = Grant
        fields = [
            "id", "model", "status", "is_active", "granted_at", "expires_at", "ended_at", "revoke_reason",
            "request_id", "waiting_for",
        ]  # fmt: skip


class ManifestFileSerializer(FileSerializer):
    url = serializers.URLField(help_text="Signed URL; valid until `expires_at`.")
    expires_at = serializers.DateTimeField()
    downloads_remaining = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")


class ManifestSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.CharField()
    revision = serializers.CharField()
    files = ManifestFileSerializer(many=True)
