#!/usr/bin/env bash
# The differential tier for CI: a seeded run of 200,000 generated cases (Cortex-M3) plus the
# regression corpus, and 40,000 DSP-extension cases on a Cortex-M4 (400,000 with
# DIFFTEST_TIER=long), armlet against Unicorn; then the FPU's instructions on both FPU cores and the
# floating-point library's own differential test. Creates its own venv under target/; needs
# python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/difftest-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import unicorn" 2>/dev/null || "$venv/bin/pip" install -q "unicorn>=2.1,<3"
cargo build --release -q -p armlet-conformance
runner=target/release/armlet-conformance
tier="${DIFFTEST_TIER:-fast}"
"$venv/bin/python" emulator/conformance/difftest.py --runner "$runner" --corpus emulator/conformance/corpus.txt
"$venv/bin/python" emulator/conformance/difftest.py --runner "$runner" --tier "$tier" --coverage target/difftest-coverage.txt
# The DSP extension on a Cortex-M4 (armlet's cortex-m4 features, Unicorn's cortex-m4 model):
# seeded cases for the DSP table entries only, with saturation-edge lanes and random GE.
dsp_cases=40000
if [ "$tier" = long ]; then dsp_cases=400000; fi
"$venv/bin/python" emulator/conformance/difftest.py --runner "$runner" --cpu cortex-m4 --ext dsp \
  --cases "$dsp_cases" --seed 20261125 --coverage target/difftest-coverage-dsp.txt
# The FPU's instructions (decoder table entries of the fp extension, S0-S31/FPSCR compared) on
# both FPU cores.
for cpu in cortex-m4 cortex-m7; do
  "$venv/bin/python" emulator/conformance/difftest.py --runner "$runner" --cpu "$cpu" --ext fp \
    --cases "${FP_DIFFTEST_CASES:-20000}"
done
# The floating-point library against Unicorn: seeded, 100,000 single-precision and 100,000
# double-precision/conversion cases (about 20 s).
"$venv/bin/python" emulator/conformance/fpdiff.py --runner "$runner" --cases "${FPDIFF_CASES:-100000}"
