# shellcheck shell=bash
# Validates the OpenAPI document Patchbay serves with a strict validator (openapi-spec-validator,
# OpenAPI 3.1 rules). Sourced by scripts/test; needs `log` from scripts/lib/postgres.sh.
#
# The validator is taken from PATH when installed; otherwise it is installed with pip into a
# virtual environment under the target directory (target/openapi-venv), once.

openapi_validator() {
  if command -v openapi-spec-validator >/dev/null 2>&1; then
    command -v openapi-spec-validator
    return
  fi
  local venv="${CARGO_TARGET_DIR:-target}/openapi-venv"
  if [[ ! -x "$venv/bin/openapi-spec-validator" ]]; then
    log "installing openapi-spec-validator (pip) into $venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<1' >&2
  fi
  echo "$venv/bin/openapi-spec-validator"
}

validate_openapi() {
  local validator doc
  validator="$(openapi_validator)"
  doc="${CARGO_TARGET_DIR:-target}/openapi.json"
  cargo run --quiet -p patchbay-server --example openapi >"$doc"
  log "validating /openapi.json ($doc) with $validator"
  # The schema version is detected from the document (`openapi: 3.1.0`).
  if ! "$validator" "$doc"; then
    log "/openapi.json is not a valid OpenAPI 3.1 document (see above)"
    return 1
  fi
}
