# musicgenre: librosa-compatible features in Rust and a libtorch genre MLP.
# `just` lists the recipes; `just demo` and `just test` are the quick start.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Where `just features` writes by default and `just train` reads.
default_features := "features.csv"
# Development data (not part of the repository).
shared_data := "../shared/data"

# List the recipes.
default:
    @just --list --unsorted

# Fetch libtorch 2.13.0 (CPU) into ~/.cache once and link .libtorch to it.
setup:
    @command -v c++ >/dev/null || { echo "setup: a C++ compiler is needed to build torch-sys and libsoxr: sudo apt-get install g++"; exit 1; }
    @python3 scripts/setup-libtorch.py

# Build the four binaries (release).
build: setup
    cargo build --release --locked --bins

# The whole test suite.
test: setup
    cargo test --workspace --all-targets --locked
    bash scripts/check-simd-inlined.sh target/debug/features

# rustfmt check, clippy and rustdoc with warnings as errors, on every target.
lint: setup
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# Set up, build, and classify the bundled example clips with the bundled model.
demo: build
    ./target/release/classify --top 2 assets/examples/*.ogg

# Features of every audio file under AUDIO_DIR (label = first folder) into OUT_CSV.
features AUDIO_DIR OUT_CSV=default_features *FLAGS: build
    ./target/release/features {{FLAGS}} "{{AUDIO_DIR}}" "{{OUT_CSV}}"

# Train a model on a feature table (default: the table `just features` writes).
train FEATURES_CSV=default_features MODEL_DIR="model" *FLAGS: build
    ./target/release/train {{FLAGS}} "{{FEATURES_CSV}}" -o "{{MODEL_DIR}}"

# Print the genre of each audio file, folders walked (bundled model unless --model DIR is given).
classify +FILES: build
    ./target/release/classify {{FILES}}

# Evaluate a trained model on a labelled feature table.
evaluate MODEL_DIR FEATURES_CSV *FLAGS: build
    ./target/release/evaluate --model "{{MODEL_DIR}}" {{FLAGS}} "{{FEATURES_CSV}}"

# K-fold, artist-grouped cross-validation of the training procedure on a feature table.
evaluate-cv FEATURES_CSV K="5" *FLAGS: build
    ./target/release/evaluate --cv {{K}} {{FLAGS}} "{{FEATURES_CSV}}"

# The bundled model (assets/model): emotify-dev's clips in 5-s windows every 2.5 s, trained
# with the default settings; then its artist-grouped cross-validation (README, "Accuracy").
train-default DATA=(shared_data / "emotify-dev"): build
    ./target/release/features --quiet --segment 5 --segment-hop 2.5 "{{DATA}}" target/emotify-dev-w5.csv
    ./target/release/train target/emotify-dev-w5.csv -o assets/model

# Cross-validation of the default training on emotify-dev, as the README reports it.
evaluate-default DATA=(shared_data / "emotify-dev"): build
    test -f target/emotify-dev-w5.csv || ./target/release/features --quiet --segment 5 --segment-hop 2.5 "{{DATA}}" target/emotify-dev-w5.csv
    ./target/release/evaluate --cv 5 --repeats 4 --json target/emotify-dev-cv.json --plot docs/cv-confusion.png target/emotify-dev-w5.csv

# The other training settings the README's "Accuracy" section reports, each on the same
# folds as evaluate-default (about 12 minutes; prints a Markdown table).
cv-sweep DATA=(shared_data / "emotify-dev"): build
    bash scripts/cv_sweep.sh "{{DATA}}"

# The original network (1 member, raw inputs) on librosa's own features of emotify-dev,
# on the same artist-grouped folds (README, "Accuracy").
evaluate-librosa DATA=(shared_data / "emotify-dev"): build
    "$(bash scripts/librosa-venv.sh)" scripts/librosa_features.py "{{DATA}}" target/emotify-dev-librosa.csv
    python3 -c 'import csv, sys; w = csv.writer(sys.stdout); w.writerow(["path", "group"]); [w.writerow([r["path"], r["artist"]]) for r in csv.DictReader(open(sys.argv[1]))]' "{{DATA}}/tracks.csv" > target/emotify-dev-groups.csv
    ./target/release/evaluate --cv 5 --repeats 4 --ensemble 1 --no-compress --groups target/emotify-dev-groups.csv target/emotify-dev-librosa.csv

# Put features, train, classify and evaluate on PATH (~/.cargo/bin).
install: setup
    LIBTORCH="$(readlink -f .libtorch)" cargo install --locked --path . --force

# criterion benchmarks of the feature kernels and of one 30-s file (crates/features/benches);
# FILTER picks benchmarks by name (`just bench file_30s`).
bench *FILTER:
    cargo bench -p musicgenre-features -- {{FILTER}}

# Side-by-side with librosa 0.11.0 on AUDIO_DIR: per-clip speed, memory, throughput and
# parity (tables on stdout, JSON in bench-out/). Installs the pinned librosa once.
bench-compare AUDIO_DIR=(shared_data / "emotify-dev") *FLAGS: build
    cargo build --release --locked -p musicgenre-features --example bench_files --example load
    "$(bash scripts/librosa-venv.sh)" scripts/bench_compare.py {{FLAGS}} "{{AUDIO_DIR}}"

# Fuzz decode -> features with arbitrary bytes for SECONDS (cargo-fuzz; see scripts/fuzz.sh).
fuzz SECONDS="60":
    bash scripts/fuzz.sh {{SECONDS}}

# Regenerate the librosa reference fixtures (pinned librosa 0.11.0 in .venv-librosa).
fixtures:
    "$(bash scripts/librosa-venv.sh)" crates/features/tests/fixtures/generate.py
