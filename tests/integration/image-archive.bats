#!/usr/bin/env bats
# berth save, load and import, against the archives skopeo and podman write
# and read, and against archives broken on purpose.

load image-helpers

setup_file() {
	local bb d=$BATS_FILE_TMPDIR
	bb=$(busybox_tar)
	python3 "$MKTAR" file "$d/hello.tar" etc/hello "hello from layer two"
	# Two layers (busybox and a file), OCI media types, gzip.
	python3 "$MKIMAGE" "$d/two" --tar "$bb" --tar "$d/hello.tar" --label org.example.kind=two >/dev/null
	# One image, two platforms and an attestation, in one index.
	python3 "$MKIMAGE" "$d/multi" --tar "$bb" --platform linux/amd64 --platform linux/arm64/v8 \
		--attestation >/dev/null
	skopeo copy --quiet "oci:$d/two:latest" "docker-archive:$d/two-docker.tar:test/two:v1" >&2
	skopeo copy --quiet "oci:$d/two:latest" "oci-archive:$d/two-oci.tar:test/two:v1" >&2
}

setup() {
	image_setup
	B2_ROOT=$BATS_TEST_TMPDIR/root2
	B2_RUNROOT=$BATS_TEST_TMPDIR/run2
}

teardown() {
	pkill -9 -f -- "--root $B2_ROOT " 2>/dev/null || true
	image_teardown
}

# berth2: a second, empty store, to load into.
berth2() {
	"$BERTH" --root "$B2_ROOT" --runroot "$B2_RUNROOT" "$@"
}

# pm: podman with a store of its own below the test's directory.
pm() {
	podman --root "$BATS_TEST_TMPDIR/podman" --runroot "$BATS_TEST_TMPDIR/podman-run" \
		--storage-driver vfs --events-backend file "$@"
}

need_podman() {
	command -v podman >/dev/null || skip "podman is not installed"
}

# import_busybox NAME: imports the busybox tarball as NAME with CMD ["sh"]; prints the ID.
import_busybox() {
	SOURCE_DATE_EPOCH=1704164645 berth import -c 'CMD ["sh"]' "$(busybox_tar)" "$1"
}

# tamper SRC DST WHAT [ARG...]: a copy of tar SRC with one thing changed:
#   flip NAME        one byte of entry NAME changed (same size)
#   drop NAME        entry NAME left out
#   set NAME TEXT    entry NAME's content replaced by TEXT
#   add NAME TEXT    an entry NAME (any name, even "../x") added first
tamper() {
	python3 - "$@" <<-'PY'
		import io, sys, tarfile
		src, dst, what, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
		with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
		    if what == "add":
		        ti = tarfile.TarInfo(args[0]); data = args[1].encode(); ti.size = len(data)
		        o.addfile(ti, io.BytesIO(data))
		    found = False
		    for m in i.getmembers():
		        data = i.extractfile(m).read() if m.isfile() else None
		        if m.name == (args[0] if args else None):
		            found = True
		            if what == "drop":
		                continue
		            if what == "flip":
		                data = data[:-1] + bytes([data[-1] ^ 1])
		            if what == "set":
		                data = args[1].encode(); m.size = len(data)
		        o.addfile(m, io.BytesIO(data) if data is not None else None)
		    if what != "add" and not found:
		        sys.exit("tamper: no entry " + args[0])
	PY
}

# expect_no_images: the store (berth, or berth2) lists no image.
expect_no_images() {
	run "${1:-berth}" images -q
	expect_status 0
	if [ -n "$output" ]; then
		show_run
		fail "images were left behind"
	fi
}

# ---- import ----

@test "import: --change instructions end up in the image's config" {
	run berth import \
		-c 'CMD echo hello "world"' \
		-c 'ENTRYPOINT ["/bin/tini", "--"]' \
		-c 'ENV PATH=/usr/bin:/bin GREETING="hello world"' \
		-c 'ENV LEGACY some value' \
		-c 'ENV DERIVED=${GREETING}!' \
		-c 'WORKDIR /srv' -c 'WORKDIR app' \
		-c 'USER 1000:1000' \
		-c 'EXPOSE 80 53/udp 8000-8001' \
		-c 'LABEL org.example.a=1 "org.example.b"="two words"' \
		-c 'VOLUME ["/data", "/cache"]' \
		-c 'STOPSIGNAL SIGINT' \
		-c 'ONBUILD run echo triggered' \
		"$(busybox_tar)" example/changed:v1
	expect_status 0
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	id=$output

	run berth image inspect --format '{{json .Config}}' example/changed:v1
	expect_status 0
	cfg=$output
	# CMD came before ENTRYPOINT, so it stays; its shell form runs through /bin/sh -c.
	[ "$(jq -c .Cmd <<<"$cfg")" = '["/bin/sh","-c","echo hello \"world\""]' ]
	[ "$(jq -c .Entrypoint <<<"$cfg")" = '["/bin/tini","--"]' ]
	[ "$(jq -c .Env <<<"$cfg")" = '["PATH=/usr/bin:/bin","GREETING=hello world","LEGACY=some value","DERIVED=hello world!"]' ]
	[ "$(jq -r .WorkingDir <<<"$cfg")" = /srv/app ]
	[ "$(jq -r .User <<<"$cfg")" = 1000:1000 ]
	[ "$(jq -c '.ExposedPorts | keys' <<<"$cfg")" = '["53/udp","80/tcp","8000/tcp","8001/tcp"]' ]
	[ "$(jq -c .Labels <<<"$cfg")" = '{"org.example.a":"1","org.example.b":"two words"}' ]
	[ "$(jq -c '.Volumes | keys' <<<"$cfg")" = '["/cache","/data"]' ]
	[ "$(jq -r .StopSignal <<<"$cfg")" = SIGINT ]
	[ "$(jq -c .OnBuild <<<"$cfg")" = '["RUN echo triggered"]' ]

	run berth image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}' example/changed:v1
	expect_status 0
	[ "$output" = "$id linux/$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/') 1" ]
	# The container sees the tarball's files.
	[ -x "$B_ROOT/layers/$(sha256sum "$(busybox_tar)" | cut -d' ' -f1)/diff/bin/busybox" ]
}

@test "import: an ENTRYPOINT without a CMD before it drops the CMD, as in a Dockerfile" {
	run berth import -c 'ENTRYPOINT top -b' "$(busybox_tar)" example/ep
	expect_status 0
	run berth image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' example/ep
	expect_status 0
	[ "$output" = '["/bin/sh","-c","top -b"] null' ]
}

@test "import: from stdin, compressed, with --message and --platform; SOURCE_DATE_EPOCH makes it reproducible" {
	gzip -c "$(busybox_tar)" >"$BATS_TEST_TMPDIR/bb.tar.gz"
	run env SOURCE_DATE_EPOCH=1704164645 "$BERTH" --root "$B_ROOT" --runroot "$B_RUNROOT" \
		import -m "from a gzip" --platform linux/arm64 - example/gz:1 <"$BATS_TEST_TMPDIR/bb.tar.gz"
	expect_status 0
	id=$output
	run berth image inspect --format '{{.Architecture}} {{.Variant}} {{.Created}}' example/gz:1
	expect_status 0
	[ "$output" = "arm64 v8 2024-01-02T03:04:05Z" ]
	run berth history --format '{{.Comment}}' example/gz:1
	expect_status 0
	[ "$output" = "from a gzip" ]

	# The same input, changes and time in another store: the same ID. The
	# plain tar and its gzip give the same layer (diff_id), hence the same ID.
	run env SOURCE_DATE_EPOCH=1704164645 "$BERTH" --root "$B2_ROOT" --runroot "$B2_RUNROOT" \
		import -m "from a gzip" --platform linux/arm64 "$(busybox_tar)"
	expect_status 0
	[ "$output" = "$id" ]
	# docker's wording when no message is given.
	import_busybox example/plain >/dev/null
	run berth history --format '{{.Comment}}' example/plain
	[ "$output" = "Imported from -" ]
}

@test "import: a bad --change, a bad name, an empty or non-tar input fail and store no image" {
	run berth import -c 'FROM busybox' "$(busybox_tar)"
	expect_status 1
	expect_output_has "change \`FROM busybox\`: FROM is not a valid change command"
	run berth import -c 'EXPOSE 70000' "$(busybox_tar)"
	expect_status 1
	expect_output_has "invalid port"
	run berth import "$(busybox_tar)" 'Not/A:Name:'
	expect_status 1
	: >"$BATS_TEST_TMPDIR/empty"
	run berth import "$BATS_TEST_TMPDIR/empty"
	expect_status 1
	expect_output_has "the input is empty"
	echo "not a tarball at all" >"$BATS_TEST_TMPDIR/junk"
	run berth import "$BATS_TEST_TMPDIR/junk" example/junk
	expect_status 1
	expect_no_images
}

# ---- save and load, berth to berth ----

@test "save | load: a fresh store gets the same image ID and names (docker-archive)" {
	id=$(import_busybox example/bb:1)
	berth tag example/bb:1 example/bb:2
	berth tag example/bb:1 other/name:latest
	# A repository without a tag saves all of its tags; the other name only when asked for.
	run bash -c '"$0" --root "$1" --runroot "$2" save example/bb >"$3"' "$BERTH" "$B_ROOT" "$B_RUNROOT" "$BATS_TEST_TMPDIR/a.tar"
	expect_status 0
	run tar -xOf "$BATS_TEST_TMPDIR/a.tar" manifest.json
	[ "$(jq -c '.[0].RepoTags' <<<"$output")" = '["example/bb:1","example/bb:2"]' ]

	run bash -c '"$0" --root "$1" --runroot "$2" load <"$3"' "$BERTH" "$B2_ROOT" "$B2_RUNROOT" "$BATS_TEST_TMPDIR/a.tar"
	expect_status 0
	[ "$output" = $'Loaded image: example/bb:1\nLoaded image: example/bb:2' ]
	run berth2 images --format '{{.Repository}}:{{.Tag}} {{.ID}}' --no-trunc
	expect_status 0
	[ "$output" = $'example/bb:1 '"$id"$'\nexample/bb:2 '"$id" ] || [ "$output" = $'example/bb:2 '"$id"$'\nexample/bb:1 '"$id" ]
	# The loaded layer is usable: the same files.
	[ -x "$B2_ROOT/layers/$(sha256sum "$(busybox_tar)" | cut -d' ' -f1)/diff/bin/busybox" ]
}

@test "save: the docker-archive is docker's layout and also an OCI layout; saving again is byte-identical" {
	id=$(import_busybox example/bb:1)
	berth save -o "$BATS_TEST_TMPDIR/a.tar" example/bb:1
	run tar -tf "$BATS_TEST_TMPDIR/a.tar"
	expect_status 0
	diff_id=$(digest_of "$(busybox_tar)")
	expect_output_has "blobs/sha256/${diff_id#sha256:}"
	expect_output_has "blobs/sha256/${id#sha256:}"
	expect_output_has "index.json"
	expect_output_has "oci-layout"
	expect_output_has "repositories"
	[ "$(tar -xOf "$BATS_TEST_TMPDIR/a.tar" manifest.json | jq -c '.[0].Layers')" = "[\"blobs/sha256/${diff_id#sha256:}\"]" ]
	[ "$(tar -xOf "$BATS_TEST_TMPDIR/a.tar" repositories)" = "{\"example/bb\":{\"1\":\"${diff_id#sha256:}\"}}" ]
	# The layer in the archive is the uncompressed tar: its digest is the diff_id.
	mkdir "$BATS_TEST_TMPDIR/x"
	tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$BATS_TEST_TMPDIR/x"
	[ "$(digest_of "$BATS_TEST_TMPDIR/x/blobs/sha256/${diff_id#sha256:}")" = "$diff_id" ]
	# skopeo reads it as an OCI layout.
	run skopeo inspect --config "oci:$BATS_TEST_TMPDIR/x:1"
	expect_status 0

	berth2 load -i "$BATS_TEST_TMPDIR/a.tar"
	berth2 save -o "$BATS_TEST_TMPDIR/b.tar" example/bb:1
	cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
}

@test "save --format oci-archive keeps the exact blobs: the manifest digest survives a round trip" {
	berth load -i "$BATS_FILE_TMPDIR/two-oci.tar"
	berth save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" test/two:v1
	run tar -xOf "$BATS_TEST_TMPDIR/o.tar" index.json
	expect_status 0
	manifest=$(jq -r '.manifests[0].digest' <<<"$output")
	[ "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' <<<"$output")" = docker.io/test/two:v1 ]
	[ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' <<<"$output")" = v1 ]
	# The same manifest skopeo wrote into the archive we loaded from.
	[ "$manifest" = "$(tar -xOf "$BATS_FILE_TMPDIR/two-oci.tar" index.json | jq -r '.manifests[0].digest')" ]
	# Layers stay compressed, as stored: the layout's own layer blobs.
	for l in $(jq -r '.layers[].digest' "$BATS_FILE_TMPDIR/two/blobs/sha256/${manifest#sha256:}"); do
		tar -tf "$BATS_TEST_TMPDIR/o.tar" | grep -qx "blobs/sha256/${l#sha256:}"
	done
	run berth2 load -i "$BATS_TEST_TMPDIR/o.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/two:v1" ]
	berth2 save --format oci-archive -o "$BATS_TEST_TMPDIR/o2.tar" test/two:v1
	cmp "$BATS_TEST_TMPDIR/o.tar" "$BATS_TEST_TMPDIR/o2.tar"
}

@test "save: an image with several names, and one saved by ID, which has none" {
	id=$(import_busybox example/a:1)
	berth tag example/a:1 example/b:2
	berth tag example/a:1 registry.example:5000/c/d:3
	berth save -o "$BATS_TEST_TMPDIR/n.tar" example/a:1 example/b:2 registry.example:5000/c/d:3 "$id"
	run tar -xOf "$BATS_TEST_TMPDIR/n.tar" manifest.json
	[ "$(jq -c '.[0].RepoTags' <<<"$output")" = '["example/a:1","example/b:2","registry.example:5000/c/d:3"]' ]
	[ "$(jq length <<<"$output")" = 1 ]
	run tar -xOf "$BATS_TEST_TMPDIR/n.tar" index.json
	[ "$(jq -c '[.manifests[].annotations["io.containerd.image.name"]]' <<<"$output")" = '["docker.io/example/a:1","docker.io/example/b:2","registry.example:5000/c/d:3"]' ]
	run berth2 load -i "$BATS_TEST_TMPDIR/n.tar"
	expect_status 0
	[ "$output" = $'Loaded image: example/a:1\nLoaded image: example/b:2\nLoaded image: registry.example:5000/c/d:3' ]

	berth save -o "$BATS_TEST_TMPDIR/id.tar" "${id:7:12}"
	[ "$(tar -xOf "$BATS_TEST_TMPDIR/id.tar" manifest.json | jq -c '.[0].RepoTags')" = null ]
	run berth2 rmi -f example/a:1 example/b:2 registry.example:5000/c/d:3
	run berth2 load -i "$BATS_TEST_TMPDIR/id.tar"
	expect_status 0
	[ "$output" = "Loaded image ID: $id" ]
}

@test "save: an unknown image fails before anything is written; no terminal on stdout" {
	import_busybox example/a:1 >/dev/null
	run berth save -o "$BATS_TEST_TMPDIR/s.tar" example/a:1 example/missing:1
	expect_status 1
	expect_output_has "No such image"
	[ ! -e "$BATS_TEST_TMPDIR/s.tar" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep berth-save)" ]
	run berth save --format tarball example/a:1
	expect_status 1
	expect_output_has "unknown archive format"
	command -v script >/dev/null || skip "no script(1) for a terminal"
	run script -qec "$BERTH --root $B_ROOT --runroot $B_RUNROOT save example/a:1" /dev/null
	expect_output_has "cowardly refusing to save to a terminal"
}

# ---- load: what other tools write ----

@test "load: skopeo's docker-archive (symlinked legacy layout), plain and compressed on stdin" {
	want=$(config_digest "$BATS_FILE_TMPDIR/two")
	run berth load -i "$BATS_FILE_TMPDIR/two-docker.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/two:v1" ]
	run berth image inspect --format '{{.Id}} {{len .RootFS.Layers}} {{index .Config.Labels "org.example.kind"}}' test/two:v1
	expect_status 0
	[ "$output" = "$want 2 two" ]
	# The second layer's file is there.
	[ "$(cat "$B_ROOT"/layers/*/diff/etc/hello)" = "hello from layer two" ]

	for z in "gzip -c" "zstd -q -c" "xz -c"; do
		$z "$BATS_FILE_TMPDIR/two-docker.tar" >"$BATS_TEST_TMPDIR/z"
		run bash -c '"$0" --root "$1" --runroot "$2" load <"$3"' "$BERTH" "$B2_ROOT" "$B2_RUNROOT" "$BATS_TEST_TMPDIR/z"
		expect_status 0
		[ "$output" = "Loaded image: test/two:v1" ]
		[ "$(berth2 images -q --no-trunc)" = "$want" ]
	done
}

@test "load: docker's legacy layout (<id>/layer.tar, <hex>.json, a duplicate layer as a symlink)" {
	# What docker save wrote before 25: built here from the two-layer layout,
	# with the first layer repeated on top as a symlink, as docker dedups it.
	python3 - "$BATS_FILE_TMPDIR/two" "$BATS_TEST_TMPDIR/legacy.tar" <<-'PY'
		import gzip, hashlib, io, json, os, sys, tarfile
		lay, out = sys.argv[1:]
		blob = lambda d: open(os.path.join(lay, "blobs", *d.split(":")), "rb").read()
		m = json.loads(blob(json.load(open(os.path.join(lay, "index.json")))["manifests"][0]["digest"]))
		cfg = json.loads(blob(m["config"]["digest"]))
		layers = [gzip.decompress(blob(l["digest"])) for l in m["layers"]]
		layers.append(layers[0])
		cfg["rootfs"]["diff_ids"].append(cfg["rootfs"]["diff_ids"][0])
		cfg["history"].append({"created_by": "the first layer again"})
		cdata = json.dumps(cfg).encode()
		chex = hashlib.sha256(cdata).hexdigest()
		ids = [hashlib.sha256(b"legacy %d" % i).hexdigest() for i in range(len(layers))]
		files = {chex + ".json": cdata}
		links = {}
		for i, (lid, data) in enumerate(zip(ids, layers)):
		    files[lid + "/VERSION"] = b"1.0"
		    files[lid + "/json"] = json.dumps({"id": lid}).encode()
		    if i == len(layers) - 1:
		        links[lid + "/layer.tar"] = "../" + ids[0] + "/layer.tar"
		    else:
		        files[lid + "/layer.tar"] = data
		files["manifest.json"] = json.dumps([{"Config": chex + ".json", "RepoTags": ["test/legacy:1"],
		    "Layers": [l + "/layer.tar" for l in ids]}]).encode()
		files["repositories"] = json.dumps({"test/legacy": {"1": ids[-1]}}).encode()
		with tarfile.open(out, "w") as t:
		    for name in sorted(set(list(files) + list(links) + [l for l in ids])):
		        if name in ids:
		            ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
		            t.addfile(ti)
		        elif name in links:
		            ti = tarfile.TarInfo(name); ti.type = tarfile.SYMTYPE; ti.linkname = links[name]
		            t.addfile(ti)
		        else:
		            ti = tarfile.TarInfo(name); ti.size = len(files[name])
		            t.addfile(ti, io.BytesIO(files[name]))
	PY
	want=$(tar -xOf "$BATS_TEST_TMPDIR/legacy.tar" manifest.json | jq -r '.[0].Config' | sed 's/\.json$//')
	run berth load -i "$BATS_TEST_TMPDIR/legacy.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/legacy:1" ]
	run berth image inspect --format '{{.Id}} {{len .RootFS.Layers}}' test/legacy:1
	expect_status 0
	[ "$output" = "sha256:$want 3" ]
	# It saves again, as Docker 25 would write it, and loads into a fresh store.
	berth save -o "$BATS_TEST_TMPDIR/again.tar" test/legacy:1
	run berth2 load -i "$BATS_TEST_TMPDIR/again.tar"
	expect_status 0
	[ "$(berth2 images -q --no-trunc)" = "sha256:$want" ]
}

@test "load: skopeo's oci-archive, and an OCI layout directory with an index of platforms" {
	want=$(config_digest "$BATS_FILE_TMPDIR/two")
	run berth load -i "$BATS_FILE_TMPDIR/two-oci.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/two:v1" ]
	[ "$(berth images -q --no-trunc)" = "$want" ]

	# A layout directory: its ref.name is a bare tag, which names nothing.
	run berth2 load -i "$BATS_FILE_TMPDIR/multi"
	expect_status 0
	[ "$output" = "Loaded image ID: $(config_digest "$BATS_FILE_TMPDIR/multi" 0)" ]
	run berth2 load --platform linux/arm64 -i "$BATS_FILE_TMPDIR/multi"
	expect_status 0
	[ "$output" = "Loaded image ID: $(config_digest "$BATS_FILE_TMPDIR/multi" 1)" ]
	run berth2 load --platform linux/s390x -i "$BATS_FILE_TMPDIR/multi"
	expect_status 1
	expect_output_has "linux/s390x"
}

@test "load: podman's docker-archive and oci-archive" {
	need_podman
	want=$(config_digest "$BATS_FILE_TMPDIR/two")
	run pm load -i "$BATS_FILE_TMPDIR/two-docker.tar"
	expect_status 0
	pm save -o "$BATS_TEST_TMPDIR/pd.tar" docker.io/test/two:v1
	pm save --format oci-archive -o "$BATS_TEST_TMPDIR/po.tar" docker.io/test/two:v1

	run berth load -i "$BATS_TEST_TMPDIR/pd.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/two:v1" ]
	[ "$(berth images -q --no-trunc)" = "$want" ]
	# podman converts the config when it writes OCI: the ID is that of the archive's config.
	mkdir "$BATS_TEST_TMPDIR/po"
	tar -xf "$BATS_TEST_TMPDIR/po.tar" -C "$BATS_TEST_TMPDIR/po"
	run berth2 load -i "$BATS_TEST_TMPDIR/po.tar"
	expect_status 0
	[ "$output" = "Loaded image: test/two:v1" ]
	[ "$(berth2 images -q --no-trunc)" = "$(config_digest "$BATS_TEST_TMPDIR/po")" ]
}

@test "load into podman: berth's docker-archive and oci-archive; podman sees the same image ID" {
	need_podman
	id=$(import_busybox example/bb:1)
	berth load -i "$BATS_FILE_TMPDIR/two-oci.tar"
	berth save -o "$BATS_TEST_TMPDIR/d.tar" example/bb:1
	berth save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" test/two:v1

	run pm load -i "$BATS_TEST_TMPDIR/d.tar"
	expect_status 0
	run pm images --no-trunc --format '{{.ID}}' example/bb:1
	expect_status 0
	[ "$output" = "$id" ]
	run pm load -i "$BATS_TEST_TMPDIR/o.tar"
	expect_status 0
	run pm images --no-trunc --format '{{.ID}}' docker.io/test/two:v1
	expect_status 0
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/two")" ]
}

# ---- load: broken archives ----

@test "load: a blob whose content does not match its name fails, naming it; no image is left" {
	berth load -i "$BATS_FILE_TMPDIR/two-oci.tar" >/dev/null
	berth save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" test/two:v1
	layer=$(tar -tf "$BATS_TEST_TMPDIR/o.tar" | grep 'blobs/sha256/.' | while read -r n; do
		printf '%s %s\n' "$(tar -xOf "$BATS_TEST_TMPDIR/o.tar" "$n" | wc -c)" "$n"; done | sort -n | tail -1 | cut -d' ' -f2)
	tamper "$BATS_TEST_TMPDIR/o.tar" "$BATS_TEST_TMPDIR/bad.tar" flip "$layer"
	run berth2 load -i "$BATS_TEST_TMPDIR/bad.tar"
	expect_status 1
	expect_output_has "entry \`$layer\`"
	expect_output_has "content has digest"
	expect_no_images berth2
}

@test "load: a layer missing from manifest.json's list fails, naming it; no image is left" {
	layer=$(tar -xOf "$BATS_FILE_TMPDIR/two-docker.tar" manifest.json | jq -r '.[0].Layers[1]')
	tamper "$BATS_FILE_TMPDIR/two-docker.tar" "$BATS_TEST_TMPDIR/bad.tar" drop "$layer"
	run berth load -i "$BATS_TEST_TMPDIR/bad.tar"
	expect_status 1
	expect_output_has "layer \`$layer\` is not in the archive"
	expect_no_images
}

@test "load: a layer.tar with other content than the config's diff_id fails, naming it" {
	layer=$(tar -xOf "$BATS_FILE_TMPDIR/two-docker.tar" manifest.json | jq -r '.[0].Layers[1]')
	python3 "$MKTAR" file "$BATS_TEST_TMPDIR/other.tar" etc/hello "something else"
	python3 - "$BATS_FILE_TMPDIR/two-docker.tar" "$BATS_TEST_TMPDIR/bad.tar" "$layer" "$BATS_TEST_TMPDIR/other.tar" <<-'PY'
		import io, sys, tarfile
		src, dst, name, repl = sys.argv[1:]
		data = open(repl, "rb").read()
		with tarfile.open(src) as i, tarfile.open(dst, "w") as o:
		    for m in i.getmembers():
		        f = i.extractfile(m).read() if m.isfile() else None
		        if m.name == name:
		            f = data; m.size = len(data)
		        o.addfile(m, io.BytesIO(f) if f is not None else None)
	PY
	run berth load -i "$BATS_TEST_TMPDIR/bad.tar"
	expect_status 1
	expect_output_has "layer \`$layer\`: its content has diff_id"
	expect_no_images
}

@test "load: manifest.json that is not JSON, an entry named ../x, a non-tar: errors that say so" {
	tamper "$BATS_FILE_TMPDIR/two-docker.tar" "$BATS_TEST_TMPDIR/bad.tar" set manifest.json "not json ["
	run berth load -i "$BATS_TEST_TMPDIR/bad.tar"
	expect_status 1
	expect_output_has "manifest.json"
	expect_no_images

	tamper "$BATS_FILE_TMPDIR/two-docker.tar" "$BATS_TEST_TMPDIR/dotdot.tar" add ../x "escaped"
	run berth load -i "$BATS_TEST_TMPDIR/dotdot.tar"
	expect_status 1
	expect_output_has "entry \`../x\`: path escapes the archive"
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
	expect_no_images

	tamper "$BATS_FILE_TMPDIR/two-docker.tar" "$BATS_TEST_TMPDIR/abs.tar" add /etc/x "escaped"
	run berth load -i "$BATS_TEST_TMPDIR/abs.tar"
	expect_status 1
	expect_output_has "entry \`/etc/x\`"
	expect_no_images

	echo "this is not a tar" >"$BATS_TEST_TMPDIR/junk"
	run berth load -i "$BATS_TEST_TMPDIR/junk"
	expect_status 1
	expect_output_has "not a tar archive"
	run berth load -i "$BATS_FILE_TMPDIR/hello.tar"
	expect_status 1
	expect_output_has "neither manifest.json nor index.json"
	expect_no_images
}

@test "load: stdin that is a terminal is refused, as docker does" {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	run script -qec "$BERTH --root $B_ROOT --runroot $B_RUNROOT load" /dev/null
	expect_output_has "requested load from stdin, but stdin is empty"
}

# ---- the default image ----

@test "default-image.sh makes busybox:latest once, with the same ID in every store" {
	build=$(dirname "$(dirname "$(dirname "$BERTH")")")
	run "$IMAGE_SRC_DIR/scripts/default-image.sh" "$build" "$B_ROOT" "$B_RUNROOT"
	expect_status 0
	expect_output_has "busybox:latest sha256:"
	id=$(berth images -q --no-trunc busybox:latest)
	[ -n "$id" ]
	run berth image inspect --format '{{json .Config.Cmd}} {{.Created}}' busybox
	expect_status 0
	[ "$output" = "[\"sh\"] $(date -u -d "@$(stat -c %Y /bin/busybox)" +%Y-%m-%dT%H:%M:%SZ)" ]

	run "$IMAGE_SRC_DIR/scripts/default-image.sh" "$build" "$B_ROOT" "$B_RUNROOT"
	expect_status 0
	expect_output_has "there already"
	[ "$(berth images -q --no-trunc)" = "$id" ]

	run "$IMAGE_SRC_DIR/scripts/default-image.sh" "$build" "$B2_ROOT" "$B2_RUNROOT"
	expect_status 0
	[ "$(berth2 images -q --no-trunc busybox)" = "$id" ]
}
