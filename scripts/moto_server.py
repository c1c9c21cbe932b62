"""Starts moto's S3 server with two fixes to its signature check (the query's encoding, presigned URLs).

moto re-signs each request to compare signatures, but it rebuilds the canonical query string from a URL whose query
it has already percent-decoded, so a query value holding '/' (e.g. ListObjectsV2's prefix=a/b/) is signed as 'a/b/'.
AWS's SigV4 specification, and real S3, encode it as 'a%2Fb%2F'; boto3 itself fails against unpatched moto there.
This re-encodes the query the way the specification says before moto signs, so signature checking stays strict.
"""
import sys
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from moto.iam import access_control

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_with_encoded_query(self):
    request = _create_aws_request(self)
    parts = urlsplit(request.url)
    if parts.query:
        pairs = [pair.partition("=") for pair in parts.query.split("&")]
        query = "&".join(
            quote(unquote(name), safe="-_.~") + "=" + quote(unquote(value), safe="-_.~") for name, _, value in pairs
        )
        request.url = urlunsplit(parts._replace(query=query))
    return request


access_control.IAMRequestBase._create_aws_request = _create_aws_request_with_encoded_query

# moto's signature checking reads only the Authorization header, so a presigned URL (SigV4 query-string
# authentication) fails with a KeyError. This checks one as S3 does: the signature botocore's own query signer
# computes for the same request, time and lifetime must match, and the URL must not have expired. A request with
# neither form of authentication is refused (403), as S3 refuses anonymous access to a private bucket.
import datetime  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

from botocore.auth import S3SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402

_AUTH_PARAMS = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "X-Amz-Security-Token",
}
_init = access_control.IAMRequestBase.__init__
_check_signature = access_control.IAMRequestBase.check_signature


def _init_accepting_presigned(self, account_id, method, path, data, body, headers, action):
    query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    self._presigned = None
    if "Authorization" not in headers and "X-Amz-Credential" in query:
        self._presigned = query
        headers = {key: value for key, value in headers.items()}
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
            query["X-Amz-Credential"], query.get("X-Amz-SignedHeaders", ""), query.get("X-Amz-Signature", ""))
    elif "Authorization" not in headers:
        headers = {key: value for key, value in headers.items()}
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=anonymous/19700101/us-east-1/s3/aws4_request, , "
        self._anonymous = True
    _init(self, account_id, method, path, data, body, headers, action)


def _check_presigned_signature(self):
    if getattr(self, "_anonymous", False):
        self._raise_access_denied()
    if self._presigned is None:
        return _check_signature(self)
    query = self._presigned
    signed_at = datetime.datetime.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ")
    expires = int(query.get("X-Amz-Expires", "0"))
    if datetime.datetime.utcnow() > signed_at + datetime.timedelta(seconds=expires):
        self._raise_access_denied()
    rest = [(name, value) for name, value in parse_qsl(urlsplit(self._path).query, keep_blank_values=True)
            if name not in _AUTH_PARAMS]
    host = self._headers["Host"]
    url = "http://%s%s" % (host, urlsplit(self._path).path)
    if rest:
        url += "?" + "&".join(quote(n, safe="-_.~") + "=" + quote(v, safe="-_.~") for n, v in rest)
    request = AWSRequest(method=self._method, url=url, headers={"host": host})
    credentials = self._access_key.create_credentials()
    auth = S3SigV4QueryAuth(credentials, self._service, self._region, expires=expires)
    # add_auth would sign at the current time; the URL was signed at its X-Amz-Date, so sign step by step at that.
    request.context["timestamp"] = query["X-Amz-Date"]
    auth._modify_request_before_signing(request)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if expected != query.get("X-Amz-Signature"):
        self._raise_signature_does_not_match()


access_control.IAMRequestBase.__init__ = _init_accepting_presigned
access_control.IAMRequestBase.check_signature = _check_presigned_signature

from moto.server import main  # noqa: E402

sys.exit(main())
