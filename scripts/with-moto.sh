#!/usr/bin/env bash
# Runs a command with a local moto S3 server on 127.0.0.1 whose request signature checking is on.
#
# It starts moto_server on a free port, creates an IAM user with an access key and an s3:* policy, switches
# authentication on (POST /moto-api/reset-auth with body 0), exports the endpoint and key for the tests as
# VELERO_CAS_TEST_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY, runs the command, and stops moto afterwards.
set -euo pipefail

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp /tmp/moto-XXXXXX.log)
python3 "$(dirname "$0")/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

keys=$(python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
import boto3
endpoint = sys.argv[1]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="velero-cas-tests")
iam.put_user_policy(UserName="velero-cas-tests", PolicyName="s3-all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="velero-cas-tests")["AccessKey"]
request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
urllib.request.urlopen(request).read()
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
read -r access secret <<<"$keys"
export VELERO_CAS_TEST_S3_ENDPOINT="$endpoint"
export VELERO_CAS_TEST_S3_ACCESS_KEY="$access"
export VELERO_CAS_TEST_S3_SECRET_KEY="$secret"
echo "moto S3 with signature checking on at $endpoint" >&2
"$@"
