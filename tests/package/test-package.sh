#!/usr/bin/env bash
# The package install test (CTest: package-install, labels package;slow).
#
# Usage: test-package.sh BUILD_DIR
#
# Makes the DEB and TGZ packages of BUILD_DIR with CPack into a temporary folder, unpacks the .deb
# with dpkg-deb -x into a temporary root (no dpkg database is touched) and checks, from there:
#   1. the package holds the CLI, the .desktop entry and the AppStream metainfo;
#   2. installed executables carry no RPATH/RUNPATH into the build or source tree and resolve
#      every shared library through the system loader (LD_LIBRARY_PATH unset);
#   3. usr/bin/moestudio-cli --version, make-model and generate (fixed seed, run twice: same text)
#      work from the temporary root, with the working directory outside the build tree;
#   4. the .tar.gz holds the same binaries under bin/;
#   5. desktop-file-validate and appstreamcli validate --no-net accept the installed files, when
#      those tools exist (a printed line says when one is skipped).
set -euo pipefail

BUILD=$(cd "${1:?usage: test-package.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/moestudio-package.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
unset LD_LIBRARY_PATH

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "build (up to date after ./studio build) and cpack into $TMP/out"
cmake --build "$BUILD"
# CPACK_OUTPUT_FILE_PREFIX is relative (packages): run from $TMP/out so nothing lands in $BUILD.
mkdir "$TMP/out"
(cd "$TMP/out" && cpack --config "$BUILD/CPackConfig.cmake" -G "DEB;TGZ" -B "$TMP/out" \
    >"$TMP/cpack.log" 2>&1) \
    || { cat "$TMP/cpack.log" >&2; fail "cpack failed"; }
shopt -s nullglob
debs=("$TMP"/out/packages/*.deb)
tgzs=("$TMP"/out/packages/*.tar.gz)
shopt -u nullglob
[[ ${#debs[@]} -eq 1 ]] || fail "expected one .deb in $TMP/out/packages, found ${#debs[@]}"
[[ ${#tgzs[@]} -eq 1 ]] || fail "expected one .tar.gz in $TMP/out/packages, found ${#tgzs[@]}"
deb=${debs[0]}
tgz=${tgzs[0]}
echo "$(basename "$deb") $(du -h "$deb" | cut -f1), $(basename "$tgz") $(du -h "$tgz" | cut -f1)"

step "control fields"
dpkg-deb --field "$deb" Package Version Architecture Section Maintainer Depends
[[ $(dpkg-deb --field "$deb" Package) == moestudio ]] || fail "package name is not moestudio"
[[ $(dpkg-deb --field "$deb" Section) == science ]] || fail "section is not science"

step "unpack into a temporary root"
ROOT=$TMP/root
dpkg-deb -x "$deb" "$ROOT"
for f in usr/bin/moestudio-cli \
         usr/share/applications/moestudio.desktop \
         usr/share/metainfo/io.moestudio.MoEStudio.metainfo.xml; do
    [[ -e $ROOT/$f ]] || fail "the .deb lacks /$f"
done
(cd "$ROOT" && find . -type f | sort)

step "installed executables: no RPATH into the build tree, every library resolved"
for exe in "$ROOT"/usr/bin/*; do
    rpath=$(readelf -d "$exe" | grep -E 'R(UN)?PATH' || true)
    if [[ -n $rpath ]] && grep -qE "$BUILD|$SRC" <<<"$rpath"; then
        fail "$(basename "$exe") has a run path into the build tree: $rpath"
    fi
    if ldd "$exe" | grep -q 'not found'; then
        ldd "$exe" >&2
        fail "$(basename "$exe") has unresolved shared libraries"
    fi
    echo "$(basename "$exe"): ok${rpath:+ ($rpath)}"
done

CLI=$ROOT/usr/bin/moestudio-cli
cd "$TMP"

step "moestudio-cli --version"
"$CLI" --version

step "moestudio-cli make-model (tiny mixtral, seed 3)"
"$CLI" make-model --arch mixtral --preset tiny --seed 3 --out "$TMP/tiny.gguf"
[[ -s $TMP/tiny.gguf ]] || fail "make-model wrote no model to $TMP/tiny.gguf"

step "moestudio-cli generate (seed 7, twice)"
gen() {
    "$CLI" generate --model "$TMP/tiny.gguf" --prompt "The experts of this model" \
        --max-tokens 16 --temperature 0.8 --seed 7
}
gen >"$TMP/reply1.txt" 2>"$TMP/speed1.txt" || { cat "$TMP/speed1.txt" >&2; fail "generate failed"; }
gen >"$TMP/reply2.txt" 2>"$TMP/speed2.txt" || { cat "$TMP/speed2.txt" >&2; fail "generate failed"; }
printf 'reply: %s\n' "$(cat "$TMP/reply1.txt")"
printf 'stderr: %s\n' "$(cat "$TMP/speed1.txt")"
[[ -s $TMP/reply1.txt ]] || fail "generate printed no reply"
cmp -s "$TMP/reply1.txt" "$TMP/reply2.txt" \
    || fail "generate with --seed 7 gave two different replies: '$(cat "$TMP/reply2.txt")'"

step "the .tar.gz"
tar -tzf "$tgz" >"$TMP/tgz.txt"
grep -qE '^[^/]+/bin/moestudio-cli$' "$TMP/tgz.txt" || fail "the .tar.gz lacks bin/moestudio-cli"
grep -qE '^[^/]+/share/applications/moestudio.desktop$' "$TMP/tgz.txt" \
    || fail "the .tar.gz lacks share/applications/moestudio.desktop"
mkdir "$TMP/tgz" && tar -xzf "$tgz" -C "$TMP/tgz"
tgzCli=$(find "$TMP/tgz" -path '*/bin/moestudio-cli' -type f)
[[ -n $tgzCli ]] || fail "no bin/moestudio-cli after unpacking the .tar.gz"
"$tgzCli" --version

step "desktop entry and AppStream metainfo"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$ROOT/usr/share/applications/moestudio.desktop"
    echo "desktop-file-validate: ok"
else
    echo "desktop-file-validate not installed (desktop-file-utils): skipped"
fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$ROOT/usr/share/metainfo/io.moestudio.MoEStudio.metainfo.xml"
else
    echo "appstreamcli not installed (appstream): skipped"
fi

echo "package-install: all checks passed"
