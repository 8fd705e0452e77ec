# A private distribution registry for the integration tests (bats).
#
#   load registry-helpers
#   setup()    { registry_start token; }
#   teardown() { registry_stop; }
#
# registry_start MODE starts Debian's docker-registry (distribution 2.8) on
# 127.0.0.1 on a free port, with its storage in a fresh temporary directory,
# and waits until /v2/ answers. MODE is one of:
#   anon   no authentication
#   basic  htpasswd (bcrypt) with one user
#   token  Bearer tokens from tests/registry/token-server.py, which checks
#          the same user's Basic credentials and grants it every action it
#          asks for; anonymous clients get pull only
#
# It exports:
#   REGISTRY          host:port to use in image references ("127.0.0.1:41234");
#                     plain http, loopback, so clients treat it as insecure
#   REGISTRY_URL      http://$REGISTRY
#   REGISTRY_MODE     the MODE
#   REGISTRY_USER, REGISTRY_PASS   the user (basic and token; unset for anon)
#   REGISTRY_DIR      the temporary directory (config, storage, logs)
#   REGISTRY_LOG      the registry's log
#   REGISTRY_TOKEN_LOG  token mode: one JSON line per token request (scopes,
#                     account, whether Basic credentials came, what was granted)
#   REGISTRY_TOKEN_URL  token mode: the realm
#
# registry_stop stops the registry (and the token server), removes the
# directory and unsets the variables; it is safe to call when nothing runs.
# Only one registry per test process: call registry_stop before starting
# another.

REGISTRY_HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGISTRY_TOKEN_SERVER=$REGISTRY_HELPERS_DIR/../registry/token-server.py
: "${REGISTRY_BIN:=/usr/bin/docker-registry}"
: "${REGISTRY_START_TIMEOUT:=20}"

# A TCP port nothing listens on now (the kernel's choice of an ephemeral one).
registry_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry_wait_http URL PID: until URL answers any HTTP status, while PID lives.
registry_wait_http() {
	local url=$1 pid=$2 deadline=$((SECONDS + REGISTRY_START_TIMEOUT)) code
	while [ "$SECONDS" -lt "$deadline" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) || code=000
		[ "$code" != 000 ] && return 0
		sleep 0.1
	done
	return 1
}

registry_start_token_server() {
	local dir=$REGISTRY_DIR/token deadline=$((SECONDS + REGISTRY_START_TIMEOUT))
	mkdir -p "$dir"
	# fd 3 is bats' output channel: a background child holding it would hang bats.
	python3 "$REGISTRY_TOKEN_SERVER" --dir "$dir" --service berth-test-registry \
		--issuer berth-test-token-issuer --user "$REGISTRY_USER:$REGISTRY_PASS" \
		--anonymous-pull >"$dir/server.log" 2>&1 3>&- &
	REGISTRY_TOKEN_PID=$!
	while [ ! -s "$dir/port" ]; do
		if ! kill -0 "$REGISTRY_TOKEN_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			echo "registry_start: the token server did not start:" >&2
			cat "$dir/server.log" >&2
			return 1
		fi
		sleep 0.1
	done
	REGISTRY_TOKEN_URL=http://127.0.0.1:$(cat "$dir/port")/token
	REGISTRY_TOKEN_LOG=$dir/requests.log
	export REGISTRY_TOKEN_URL REGISTRY_TOKEN_LOG
}

registry_write_config() {
	local port=$1
	cat >"$REGISTRY_DIR/config.yml" <<-EOF
		version: 0.1
		log:
		  level: info
		  formatter: text
		storage:
		  filesystem:
		    rootdirectory: $REGISTRY_DIR/data
		  delete:
		    enabled: true
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: 127.0.0.1:$port
		  secret: berth-test-$RANDOM$RANDOM
		  headers:
		    X-Content-Type-Options: [nosniff]
	EOF
	case $REGISTRY_MODE in
	basic)
		cat >>"$REGISTRY_DIR/config.yml" <<-EOF
			auth:
			  htpasswd:
			    realm: berth-test-registry
			    path: $REGISTRY_DIR/htpasswd
		EOF
		;;
	token)
		cat >>"$REGISTRY_DIR/config.yml" <<-EOF
			auth:
			  token:
			    realm: $REGISTRY_TOKEN_URL
			    service: berth-test-registry
			    issuer: berth-test-token-issuer
			    rootcertbundle: $REGISTRY_DIR/token/cert.pem
		EOF
		;;
	esac
}

registry_start() {
	local mode=${1:-anon} port try
	case $mode in
	anon | basic | token) ;;
	*)
		echo "registry_start: unknown mode '$mode' (anon, basic, token)" >&2
		return 2
		;;
	esac
	if [ -n "${REGISTRY_PID:-}" ]; then
		echo "registry_start: a registry is already running (pid $REGISTRY_PID)" >&2
		return 1
	fi
	REGISTRY_MODE=$mode
	REGISTRY_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/registry.XXXXXX")
	REGISTRY_LOG=$REGISTRY_DIR/registry.log
	export REGISTRY_MODE REGISTRY_DIR REGISTRY_LOG
	mkdir -p "$REGISTRY_DIR/data"

	if [ "$mode" != anon ]; then
		REGISTRY_USER=berthtest
		REGISTRY_PASS=pw-$RANDOM$RANDOM
		export REGISTRY_USER REGISTRY_PASS
	fi
	if [ "$mode" = basic ]; then
		htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" >"$REGISTRY_DIR/htpasswd" || return 1
	fi
	if [ "$mode" = token ]; then
		registry_start_token_server || {
			registry_stop
			return 1
		}
	fi

	# The free port may be taken between the check and the bind: try again then.
	for try in 1 2 3; do
		port=$(registry_free_port) || return 1
		registry_write_config "$port"
		# docker-registry reads every REGISTRY_* variable as a configuration
		# override (REGISTRY_LOG would replace the log section): a clean environment.
		env -i PATH="$PATH" "$REGISTRY_BIN" serve "$REGISTRY_DIR/config.yml" \
			>"$REGISTRY_LOG" 2>&1 3>&- &
		REGISTRY_PID=$!
		if registry_wait_http "http://127.0.0.1:$port/v2/" "$REGISTRY_PID"; then
			REGISTRY=127.0.0.1:$port
			REGISTRY_URL=http://$REGISTRY
			export REGISTRY REGISTRY_URL REGISTRY_PID
			return 0
		fi
		registry_kill "$REGISTRY_PID"
		unset REGISTRY_PID
	done
	echo "registry_start: docker-registry did not come up:" >&2
	cat "$REGISTRY_LOG" >&2
	registry_stop
	return 1
}

# registry_kill PID: TERM, then KILL after 5 s, and reap it.
registry_kill() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

registry_stop() {
	[ -n "${REGISTRY_PID:-}" ] && registry_kill "$REGISTRY_PID"
	[ -n "${REGISTRY_TOKEN_PID:-}" ] && registry_kill "$REGISTRY_TOKEN_PID"
	[ -n "${REGISTRY_DIR:-}" ] && [ -d "$REGISTRY_DIR" ] && rm -rf "$REGISTRY_DIR"
	unset REGISTRY REGISTRY_URL REGISTRY_MODE REGISTRY_USER REGISTRY_PASS REGISTRY_DIR \
		REGISTRY_LOG REGISTRY_PID REGISTRY_TOKEN_PID REGISTRY_TOKEN_URL REGISTRY_TOKEN_LOG
	return 0
}
