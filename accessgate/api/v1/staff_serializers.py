"""What reviewers and auditors send and receive."""

from rest_framework import serializers

from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus
from accessgate.audit.models import AuditEvent, AuditExport, ExportFormat, VerificationRun
from accessgate.core.jobs import JobStatus

from .serializers import AgreementSerializer, RequirementSerializer

QUEUE_STATUSES = [*RequestStatus.values, "any"]


class ApplicantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField(source="profile.full_name", allow_blank=True)
    affiliation = serializers.CharField(source="profile.affiliation", allow_blank=True)
    position = serializers.CharField(source="profile.position", allow_blank=True)
    country = serializers.CharField(source="profile.country", allow_blank=True)


class ReviewRequestSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.full_name")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    applicant = ApplicantSerializer(source="user")

    class Meta:
        model = AccessRequest
        fields = [
            "id", "model", "status", "applicant", "intended_use", "created_at", "submitted_at", "decided_at",
            "reviewer_message",
        ]  # fmt: skip


class ReviewSerializer(serializers.Serializer):
    decision = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    reviewer = serializers.CharField(source="reviewer.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class HistoryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model.full_name")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    submitted_at = serializers.DateTimeField()


class IdentitySerializer(serializers.Serializer):
    verified_name = serializers.CharField(allow_blank=True)
    document_country = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    name_matches = serializers.BooleanField(allow_null=True)


class ReviewRequestDetailSerializer(ReviewRequestSerializer):
    requirements = RequirementSerializer(many=True, help_text="The policy's checklist for this applicant.")
    verified_orcid = serializers.CharField(allow_null=True)
    identity = IdentitySerializer(allow_null=True)
    agreements = AgreementSerializer(many=True)
    reviews = ReviewSerializer(many=True)
    history = HistoryItemSerializer(many=True, help_text="The applicant's other requests, newest first.")
    grant_id = serializers.IntegerField(allow_null=True)
    is_own = serializers.BooleanField(help_text="Your own request: you cannot decide it.")

    class Meta(ReviewRequestSerializer.Meta):
        fields = [
            *ReviewRequestSerializer.Meta.fields, "requirements", "verified_orcid", "identity", "agreements",
            "reviews", "history", "grant_id", "is_own",
        ]  # fmt: skip


class QueueFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=QUEUE_STATUSES, default=RequestStatus.SUBMITTED)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class GrantFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    all = serializers.BooleanField(required=False, default=False, help_text="Include ended grants.")


class DecisionSerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReviewerAddSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="The e-mail of an account with the reviewer role.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text="Shown to the researcher."
    )


class ReviewGrantSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.full_name")
    status = serializers.ChoiceField(choices=GrantStatus.choices)
    is_active = serializers.BooleanField()
    holder = ApplicantSerializer(source="user")
    request_id = serializers.IntegerField()
    waiting_for = serializers.ListField(child=serializers.CharField(), help_text="While pending: what it waits for.")

    class Meta:
        model = Grant
        fields = [
            "id", "model", "status", "is_active", "holder", "granted_at", "expires_at", "ended_at",
            "revoke_reason", "request_id", "waiting_for",
        ]  # fmt: skip


class AuditFilterSerializer(serializers.Serializer):
    """The trail's filters (the audit page's form applies the same rules after these types)."""

    since = serializers.DateField(required=False, help_text="First UTC day.")
    until = serializers.DateField(required=False, help_text="Last UTC day, inclusive.")
    actor = serializers.CharField(required=False, allow_blank=True, max_length=320, help_text="Actor e-mail contains.")
    action = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="Action starts with.")
    model = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="`namespace/name`.")
    ip = serializers.IPAddressField(required=False)


class EventFilterSerializer(AuditFilterSerializer):
    after_seq = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Only events after this `seq`, oldest first (to follow the trail).",
    )


class ExportCreateSerializer(AuditFilterSerializer):
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.JSONL)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")
    details = serializers.DictField()

    class Meta:
        model = AuditEvent
        fields = [
            "seq", "created_at", "actor", "action", "target_type", "target_id", "target_label", "ip",
            "user_agent", "details", "prev_hash", "hash",
        ]  # fmt: skip


class VerificationRunSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=JobStatus.choices)

    class Meta:
        model = VerificationRun
        fields = ["id", "status", "ok", "checked", "total", "broken_seq", "summary", "created_at", "finished_at"]


class AuditExportSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=JobStatus.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    filters = serializers.DictField(child=serializers.CharField())
    sha256 = serializers.SerializerMethodField()

    class Meta:
        model = AuditExport
        fields = [
            "id", "status", "format", "filters", "is_full", "rows_total", "rows_done", "sha256", "error",
            "created_at", "finished_at",
        ]  # fmt: skip

    def get_sha256(self, export) -> str | None:
        return (export.manifest or {}).get("sha256")


class SignedManifestSerializer(serializers.Serializer):
    manifest = serializers.DictField(help_text="The export's manifest (format, sha256, row count, seq range…).")
    signature = serializers.CharField(help_text="Ed25519 signature; verify with /audit/public-key.pem.")
