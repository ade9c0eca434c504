#!/usr/bin/env bash
# Packs test binaries built here (CUDA for sm_90) with the shared libraries the GPU machine lacks
# (Qt, ICU, SQLite, Vulkan loader...) into a folder that the device tool can carry, because that
# machine has CUDA and PyTorch but no Debian packages and no network.
#   tests/gpu/make-carry.sh BUILD_DIR OUT_DIR BINARY...
# On the GPU machine: LD_LIBRARY_PATH=OUT_DIR/lib OUT_DIR/bin/<binary>
set -euo pipefail
build=$1 out=$2
shift 2
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for b in "$@"; do
    cp -L "$build/$b" "$out/bin/"
    ldd "$build/$b" | awk '/=> \//{print $3}' | while read -r lib; do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;
            *) cp -Ln "$lib" "$out/lib/" 2>/dev/null || true ;;
        esac
    done
done
du -sh "$out"
