from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config
from django.core import signing
from django.utils import timezone

from accessgate.core.storage import LocalStorage, content_disposition
from accessgate.core.storage.sigv4 import Presigner

pytestmark = pytest.mark.django_db
CONTENT = bytes(range(256)) * 40  # 10,240 bytes


@pytest.mark.parametrize(
    ("endpoint", "style"),
    [
        ("http://127.0.0.1:4568", "path"),
        ("https://s3.eu-west-1.example.org", "virtual"),
        ("https://minio:9000", "path"),
    ],
)
@pytest.mark.parametrize("key", ["a/b.bin", "demo lab/x+y/ü.safetensors", "weird/%20~*'()!.bin"])
def test_presigner_matches_boto3_exactly(endpoint, style, key):
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),
    )
    disposition = content_disposition(key.rsplit("/", 1)[-1])
    expected = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": "weights", "Key": key, "ResponseContentDisposition": disposition},
        ExpiresIn=300,
    )
    now = datetime.strptime(dict(parse_qsl(urlsplit(expected).query))["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    presigner = Presigner(
        endpoint_url=endpoint,
        bucket="weights",
        region="eu-west-1",
        credentials=lambda: ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
        addressing_style=style,
    )
    ours = presigner.presign_get(
        key, expires_in=300, now=now.replace(tzinfo=UTC), params={"response-content-disposition": disposition}
    )
    assert ours == expected


def test_content_disposition_handles_unicode_and_quotes():
    assert content_disposition("model.safetensors") == 'attachment; filename="model.safetensors"'
    assert content_disposition('we"ird.bin') == "attachment; filename=\"we_ird.bin\"; filename*=UTF-8''we%22ird.bin"
    assert "filename*=UTF-8''%C3%BC.bin" in content_disposition("ü.bin")


class TestLocalFileView:
    @pytest.fixture
    def storage(self, settings, tmp_path):
        storage = LocalStorage(settings.ACCESSGATE_LOCAL_STORAGE_ROOT)
        source = tmp_path / "src.bin"
        source.write_bytes(CONTENT)
        storage.put_file("m/1.0/weights.bin", source)
        return storage

    def url(self, storage, ttl=60, key="m/1.0/weights.bin", now=None):
        return storage.signed_url(
            key, filename="weights.bin", sha256="ab" * 32, ttl_seconds=ttl, now=now or timezone.now()
        )

    def test_full_file_with_headers(self, client, storage):
        response = client.get(self.url(storage))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == CONTENT
        assert response["Content-Length"] == str(len(CONTENT))
        assert response["Accept-Ranges"] == "bytes"
        assert response["ETag"] == f'"{"ab" * 32}"'
        assert response["Content-Disposition"] == 'attachment; filename="weights.bin"'

    @pytest.mark.parametrize(
        ("header", "start", "end"),
        [
            ("bytes=0-0", 0, 0),
            ("bytes=100-", 100, 10239),
            ("bytes=-10", 10230, 10239),
            ("bytes=10000-99999", 10000, 10239),
        ],
    )
    def test_single_ranges(self, client, storage, header, start, end):
        response = client.get(self.url(storage), HTTP_RANGE=header)
        assert response.status_code == 206
        assert b"".join(response.streaming_content) == CONTENT[start : end + 1]
        assert response["Content-Range"] == f"bytes {start}-{end}/{len(CONTENT)}"
        assert response["Content-Length"] == str(end - start + 1)

    @pytest.mark.parametrize("header", ["bytes=20000-", "bytes=-0", "bytes=5-2"])
    def test_unsatisfiable_range(self, client, storage, header):
        response = client.get(self.url(storage), HTTP_RANGE=header)
        assert response.status_code == 416
        assert response["Content-Range"] == f"bytes */{len(CONTENT)}"

    def test_multi_range_gets_the_whole_file(self, client, storage):
        response = client.get(self.url(storage), HTTP_RANGE="bytes=0-1,5-6")
        assert response.status_code == 200

    def test_head(self, client, storage):
        response = client.head(self.url(storage))
        assert response.status_code == 200
        assert response["Content-Length"] == str(len(CONTENT))
        assert response.content == b""

    def test_expired_tampered_and_malformed_tokens(self, client, storage):
        expired = self.url(storage, ttl=5, now=timezone.now() - timedelta(seconds=10))
        response = client.get(expired)
        assert response.status_code == 403 and b"expired" in response.content
        assert response["Content-Type"].startswith("text/plain")
        good = self.url(storage)
        token = good.split("/")[2]
        assert client.get(good.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))).status_code == 403
        assert client.get("/dl/not-a-token/weights.bin").status_code == 403

        forged = signing.dumps({"k": "m/1.0/weights.bin"}, salt="other")
        assert client.get(f"/dl/{forged}/weights.bin").status_code == 403

    def test_missing_file_is_403_not_500(self, client, storage):
        assert client.get(self.url(storage, key="m/1.0/nope.bin")).status_code == 403

    def test_keys_cannot_escape_the_root(self, storage):
        with pytest.raises(ValueError):
            storage.path("../../etc/passwd")


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=1.bin", "nul\x00.bin", "tab\x7f.bin", "back\\\\slash.bin"])
def test_content_disposition_never_carries_a_control_character(name):
    """The local backend's `/dl/<token>/<filename>` takes the name from the URL: whatever it
    holds, the header stays one line of printable ASCII (else a 500, or a split header)."""
    disposition = content_disposition(name)
    assert all(" " <= char <= "~" for char in disposition)
    assert disposition.startswith('attachment; filename="') and "\\" not in disposition.split(";")[1]
