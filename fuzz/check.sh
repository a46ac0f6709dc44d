#!/usr/bin/env bash
# Builds every fuzz target (does not fuzz), so that CI notices when a
# change to the crates breaks them. Run from anywhere:
#
#   fuzz/check.sh                # build all targets
#   fuzz/check.sh --run-seeds    # ... and replay seeds and regressions once
#
# Uses cargo-fuzz when it is installed (release build with debug
# assertions, as `cargo fuzz run` uses); otherwise a plain
# `cargo build --bins` of the fuzz crate, which works on stable Rust with a
# C++ compiler because libfuzzer-sys compiles libFuzzer itself
# (FUZZ_CHECK_PLAIN_CARGO=1 forces that path).
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${FUZZ_CHECK_PLAIN_CARGO:-}" ] && cargo fuzz --version >/dev/null 2>&1; then
    cargo fuzz build --sanitizer none
    bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"
else
    echo "cargo-fuzz not installed; building with plain cargo" >&2
    cargo build --manifest-path Cargo.toml --bins
    bin_dir="target/debug"
fi

if [ "${1:-}" = "--run-seeds" ]; then
    for src in fuzz_targets/*.rs; do
        t="$(basename "$src" .rs)"
        inputs=()
        for d in "seeds/$t" "regressions/$t"; do
            if [ -d "$d" ]; then
                for f in "$d"/*; do
                    [ -f "$f" ] && inputs+=("$f")
                done
            fi
        done
        if [ ${#inputs[@]} -gt 0 ]; then
            echo "replaying ${#inputs[@]} inputs through $t"
            # With file arguments libFuzzer runs each input once and exits
            # non-zero on the first failure.
            "$bin_dir/$t" "${inputs[@]}" >/dev/null 2>&1 || {
                "$bin_dir/$t" "${inputs[@]}"
                exit 1
            }
        fi
    done
fi
echo "fuzz targets OK"
