# The two commands of the README. Each provisions libtorch first (.ci/setup, idempotent).
.PHONY: quickstart test setup paper

setup:
	@./.ci/setup

# Main job: the quickstart script on built-in defaults.
quickstart: setup
	cargo run --release --quiet -- run scripts/quickstart.rhai

# All tests: unit, physics against analytic values and fidimag references, golden
# examples, REPL, CLI and script fuzzing.
test: setup
	cargo test --no-fail-fast

# The paper's experiment, step by step (scripts/paper/): CONFIG=reduced (default, about half
# an hour on 2 cores), tiny (minutes) or paper (the paper's sizes; for a GPU or a cluster).
CONFIG ?= reduced
paper: setup
	cargo build --release --quiet
	for step in scripts/paper/0*.rhai; do ./target/release/coercive run $$step $(CONFIG) || exit 1; done
