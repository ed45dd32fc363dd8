#!/usr/bin/env bash
# Generates an RSA signing key for Tessera with the openssl command, as an operator would
# bring one: an unencrypted PKCS#8 PEM file, mode 0600, in the keys dir.
#
#   scripts/gen-key.sh [KEYS_DIR] [BITS]      # defaults: ./keys and 2048 (3072 or 4096 also fine)
#
# Place it before the first start: with no key present, `tessera serve` generates one itself.
set -euo pipefail
keys_dir=${1:-./keys}
bits=${2:-2048}
if [ "$bits" -lt 2048 ]; then
  echo "gen-key: $bits bits is too small; Tessera requires 2048 or more" >&2
  exit 2
fi
mkdir -p "$keys_dir"
chmod 700 "$keys_dir"
file="$keys_dir/tessera-$(date -u +%Y%m%dT%H%M%SZ)-$bits.pem"
umask 077
openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$file" 2>/dev/null
chmod 600 "$file"
echo "$file"
