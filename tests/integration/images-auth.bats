#!/usr/bin/env bats
# Registries that want credentials: htpasswd Basic auth and Bearer tokens
# from a token server; login/logout keep them where docker and podman look.

load registry-helpers
load image-helpers

setup() {
	image_setup
}

teardown() {
	registry_stop
	image_teardown
}

# auth_image MODE: a registry in MODE holding test/busybox:latest.
auth_image() {
	registry_start "$1"
	python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/img" --tar "$(busybox_tar)" >/dev/null
	push_layout "$BATS_TEST_TMPDIR/img" test/busybox:latest
}

login_pull_push_logout() {
	run berth login -u "$REGISTRY_USER" -p wrong "$REGISTRY"
	expect_status 1
	expect_output_has "$REGISTRY"
	[[ "$output" == *unauthorized* || "$output" == *"incorrect username or password"* ]] || fail "$output"
	[ ! -e "$HOME/.docker/config.json" ]

	run berth login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
	expect_status 0
	expect_output_has "Login Succeeded"
	[ "$(stat -c %a "$HOME/.docker/config.json")" = 600 ]
	[ "$(jq -r --arg r "$REGISTRY" '.auths[$r].auth' "$HOME/.docker/config.json" | base64 -d)" = "$REGISTRY_USER:$REGISTRY_PASS" ]

	run berth pull -q "$REGISTRY/test/busybox"
	expect_status 0
	berth tag "$REGISTRY/test/busybox" "$REGISTRY/mine/busybox:1"
	run berth push "$REGISTRY/mine/busybox:1"
	expect_status 0
	run skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASS" --format '{{.Digest}}' "docker://$REGISTRY/mine/busybox:1"
	expect_status 0

	# skopeo finds berth's login where docker keeps it.
	run skopeo inspect --tls-verify=false --authfile "$HOME/.docker/config.json" --format '{{.Name}}' "docker://$REGISTRY/mine/busybox:1"
	expect_status 0

	run berth logout "$REGISTRY"
	expect_status 0
	[ "$output" = "Removing login credentials for $REGISTRY" ]
	[ "$(jq -r --arg r "$REGISTRY" '.auths[$r] // "gone"' "$HOME/.docker/config.json")" = gone ]
	run berth logout "$REGISTRY"
	[ "$output" = "Not logged in to $REGISTRY" ]
}

@test "basic auth: refused without credentials, works after login, logout forgets" {
	auth_image basic
	run berth pull "$REGISTRY/test/busybox"
	expect_status 1
	expect_output_has "unauthorized"
	login_pull_push_logout
}

@test "token auth: anonymous pull, push needs login; tokens per scope" {
	auth_image token
	# The token server grants anonymous pull.
	run berth pull -q "$REGISTRY/test/busybox"
	expect_status 0
	berth tag "$REGISTRY/test/busybox" "$REGISTRY/anon/busybox:1"
	run berth push "$REGISTRY/anon/busybox:1"
	expect_status 1
	expect_output_has "$REGISTRY"
	login_pull_push_logout
	# Tokens were asked for with the repository's scope, and with credentials after login.
	grep -q 'repository:mine/busybox:.*push' "$REGISTRY_TOKEN_LOG"
}

@test "credentials from podman's auth.json and from --authfile are used" {
	auth_image basic
	mkdir -p "$XDG_RUNTIME_DIR/containers"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY" "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)" >"$XDG_RUNTIME_DIR/containers/auth.json"
	run berth pull -q "$REGISTRY/test/busybox"
	expect_status 0
	mv "$XDG_RUNTIME_DIR/containers/auth.json" "$BATS_TEST_TMPDIR/auth.json"
	berth rmi -f "$REGISTRY/test/busybox" >/dev/null
	run berth pull -q "$REGISTRY/test/busybox"
	expect_status 1
	run berth pull -q --authfile "$BATS_TEST_TMPDIR/auth.json" "$REGISTRY/test/busybox"
	expect_status 0
}
