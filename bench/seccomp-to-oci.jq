# Converts a seccomp profile in the containers/Docker format (defaultAction,
# archMap, syscalls with includes/excludes) into an OCI linux.seccomp object
# for one container, the way Docker and podman do it at container creation:
#
#   jq --argjson caps '["CAP_...", ...]' --arg arch amd64 \
#      --arg scmp_arch SCMP_ARCH_X86_64 -f bench/seccomp-to-oci.jq PROFILE
#
# $caps is the container's bounding set, $arch the Go name of the native
# architecture (what includes/excludes.arches say), $scmp_arch its libseccomp
# name (what archMap says). A rule is kept when every cap in includes.caps is
# in $caps, $arch is in includes.arches (if that is given), no cap of
# excludes.caps is in $caps and $arch is not in excludes.arches. minKernel
# conditions are not handled: the conversion stops if a profile has one.

def has_all($set): all(.[]; . as $x | $set | index([$x]) != null);
def has_any($set): any(.[]; . as $x | $set | index([$x]) != null);

if [.syscalls[] | .includes.minKernel?, .excludes.minKernel? | select(. != null)] != []
then error("includes/excludes.minKernel is not handled by this conversion")
else . end
| {
    defaultAction: .defaultAction,
    architectures: (
      [.archMap[]? | select(.architecture == $scmp_arch)
       | [.architecture] + (.subArchitectures // [])] | add // [$scmp_arch]),
    syscalls: [
      .syscalls[]
      | select((.includes.caps // []) | has_all($caps))
      | select((.includes.arches // []) | length == 0 or has_any([$arch]))
      | select((.excludes.caps // []) | has_any($caps) | not)
      | select((.excludes.arches // []) | has_any([$arch]) | not)
      | {names, action}
        + (if .errnoRet != null then {errnoRet} else {} end)
        + (if (.args // []) != [] then {args} else {} end)
    ]
  }
  + (if .defaultErrnoRet != null then {defaultErrnoRet} else {} end)
