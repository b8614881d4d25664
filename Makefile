# The two commands of the README. Each provisions libtorch first (.ci/setup, idempotent).
.PHONY: quickstart test setup

setup:
	@./.ci/setup

# Main job: the quickstart script on built-in defaults.
quickstart: setup
	cargo run --release --quiet -- run scripts/quickstart.rhai

# All tests: unit, physics against analytic values and fidimag references, golden
# examples, REPL, CLI and script fuzzing.
test: setup
	cargo test --no-fail-fast
