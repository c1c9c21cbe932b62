"""Starts moto's S3 server with one fix to its signature check.

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

from moto.server import main  # noqa: E402

sys.exit(main())
