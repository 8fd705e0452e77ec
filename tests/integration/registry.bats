#!/usr/bin/env bats
# The test registry harness (registry-helpers.bash) against a real client,
# skopeo: each auth mode accepts what it should and refuses the rest, and
# registry_stop leaves no process or directory behind. The suites for
# `berth pull/push` build on this harness.

bats_require_minimum_version 1.5.0

load registry-helpers

setup() {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	command -v umoci >/dev/null || skip "umoci is not installed"
	[ -x "$REGISTRY_BIN" ] || skip "docker-registry is not installed"
	IMAGE=$BATS_TEST_TMPDIR/oci
	umoci init --layout "$IMAGE"
	umoci new --image "$IMAGE:v1"
}

teardown() {
	registry_stop
}

# registry_gone PID DIR [TOKEN_PID]: registry_stop left nothing running or on disk.
registry_gone() {
	registry_stop
	! kill -0 "$1" 2>/dev/null
	[ ! -e "$2" ]
	[ -z "${3:-}" ] || ! kill -0 "$3" 2>/dev/null
	[ -z "${REGISTRY:-}" ]
}

@test "registry anon: skopeo pushes and reads back; stop cleans up" {
	registry_start anon
	[[ "$REGISTRY" == 127.0.0.1:* ]]
	[ -z "${REGISTRY_USER:-}" ]
	run -0 curl -s -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/"
	[ "$output" = 200 ]

	skopeo copy -q --dest-tls-verify=false "oci:$IMAGE:v1" "docker://$REGISTRY/test/img:v1"
	run -0 skopeo inspect --tls-verify=false "docker://$REGISTRY/test/img:v1"
	[ "$(jq -r .Digest <<<"$output")" = "$(jq -r '.manifests[0].digest' "$IMAGE/index.json")" ]

	registry_gone "$REGISTRY_PID" "$REGISTRY_DIR"
}

@test "registry basic: credentials required, the exported ones work" {
	registry_start basic
	[ -n "$REGISTRY_USER" ] && [ -n "$REGISTRY_PASS" ]
	run -0 curl -s -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/"
	[ "$output" = 401 ]
	run -0 curl -s -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY_URL/v2/"
	[ "$output" = 200 ]

	run ! skopeo copy -q --dest-tls-verify=false "oci:$IMAGE:v1" "docker://$REGISTRY/test/img:v1"
	run ! skopeo copy -q --dest-tls-verify=false --dest-creds "$REGISTRY_USER:wrong" \
		"oci:$IMAGE:v1" "docker://$REGISTRY/test/img:v1"
	skopeo copy -q --dest-tls-verify=false --dest-creds "$REGISTRY_USER:$REGISTRY_PASS" \
		"oci:$IMAGE:v1" "docker://$REGISTRY/test/img:v1"
	run -0 skopeo list-tags --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASS" \
		"docker://$REGISTRY/test/img"
	[ "$(jq -c .Tags <<<"$output")" = '["v1"]' ]

	registry_gone "$REGISTRY_PID" "$REGISTRY_DIR"
}

@test "registry token: tokens for the user, pull only for anonymous clients" {
	registry_start token
	[[ "$REGISTRY_TOKEN_URL" == http://127.0.0.1:*/token ]]
	run -0 curl -s -D - -o /dev/null "$REGISTRY_URL/v2/"
	[[ "$output" == *"Bearer realm=\"$REGISTRY_TOKEN_URL\",service=\"berth-test-registry\""* ]]
	run -0 curl -s -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:wrong" \
		"$REGISTRY_TOKEN_URL?service=berth-test-registry"
	[ "$output" = 401 ]

	skopeo copy -q --dest-tls-verify=false --dest-creds "$REGISTRY_USER:$REGISTRY_PASS" \
		"oci:$IMAGE:v1" "docker://$REGISTRY/test/img:v1"
	run -0 skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/img:v1"
	run ! skopeo copy -q --dest-tls-verify=false "oci:$IMAGE:v1" "docker://$REGISTRY/test/other:v1"

	# The token service saw the user's push and granted it; anonymous got pull only.
	run -0 jq -c 'select(.valid and (.granted | any(.actions | index("push"))))' "$REGISTRY_TOKEN_LOG"
	[[ "$output" == *'"account":"'"$REGISTRY_USER"'"'* ]]
	run -0 jq -c 'select(.user == null) | .granted[].actions[]' "$REGISTRY_TOKEN_LOG"
	[[ "$output" != *push* ]]

	registry_gone "$REGISTRY_PID" "$REGISTRY_DIR" "$REGISTRY_TOKEN_PID"
}

@test "registry_start refuses an unknown mode and a second registry" {
	run -2 registry_start tls
	[[ "$output" == *"unknown mode"* ]]
	registry_start anon
	run -1 registry_start anon
	[[ "$output" == *"already running"* ]]
}
