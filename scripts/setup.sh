#!/usr/bin/env bash
# Installs what velero-cas needs on a fresh Debian machine with Swift: the C libraries it links (lz4, curl, OpenSSL,
# zlib), the openssl command (the TLS tests make a CA with it) and, for the tests, the moto S3 server and boto3 (used
# once to create moto's test user).
set -euo pipefail

need_apt=()
for package in liblz4-dev libcurl4-openssl-dev libssl-dev zlib1g-dev curl openssl; do
  dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" = "--tests" ]; then
  if ! python3 -c 'import moto.server, boto3' >/dev/null 2>&1; then
    echo "installing moto[server] and boto3" >&2
    python3 -m pip install --quiet 'moto[server]' boto3
  fi
fi
