# -*- Python -*-
# lit configuration for ftc: .mlir pass tests, .toml spec tests, .test
# plugin and end-to-end tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "FTC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".toml", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit", "reference"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ftc_obj_root, "test")

bin_dir = os.path.join(config.ftc_obj_root, "bin")
config.substitutions.append(("%ftc_testing_plugins", config.ftc_testing_plugin_dir))
config.substitutions.append(("%ftc-opt", os.path.join(bin_dir, "ftc-opt")))
config.substitutions.append(("%ftc-trace", os.path.join(bin_dir, "ftc-trace")))
config.substitutions.append(("%ftc", os.path.join(bin_dir, "ftc")))
config.substitutions.append(("%src", config.ftc_src_root))
config.substitutions.append(("%build_dir", config.ftc_obj_root))
config.substitutions.append(("%fashion_mnist", "/usr/share/datasets/fashion-mnist"))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", bin_dir, append_path=True)
# Tests must not see a developer's own plugin directories.
config.environment.pop("FTC_PLUGIN_PATH", None)

if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    config.available_features.add("fashion-mnist")

# bf16 products need AVX512-BF16 or AMX on the CPU (train.precision =
# "bf16"); where ftc info says they are not native, the bf16 numerics tests
# are reported UNSUPPORTED, and this note says why.
import subprocess
try:
    info = subprocess.run([os.path.join(bin_dir, "ftc"), "info"],
                          capture_output=True, text=True, timeout=60).stdout
except (OSError, subprocess.SubprocessError):
    info = ""
if "bf16: native" in info:
    config.available_features.add("cpu-bf16")
else:
    lit_config.note("this CPU has no native bf16 (AVX512-BF16 or AMX): the "
                    "bf16 parity tests are UNSUPPORTED here (ftc info: " +
                    " ".join(info.split()) + ")")

# The kernel-rate calibration (ftc plan's cost estimate) is cached in the
# build tree rather than in the developer's ~/.cache: rates measured while
# tests share the cores would mislead later estimates.
config.environment["FTC_CALIBRATION_FILE"] = os.path.join(
    config.ftc_obj_root,
    "calibration-under-test.json")

# lit runs tests in parallel; OpenMP threads that spin while waiting would
# fight each other for the cores.
config.environment["OMP_WAIT_POLICY"] = "PASSIVE"

# The Hugging Face reference libraries (transformers, tokenizers, peft) live
# in the project-local venv that tools/setup and tools/test create
# (tools/deps/requirements.txt); test/reference/run-venv runs a script there
# and fails with a clear message when the venv is missing.
config.environment["FTC_VENV"] = os.environ.get(
    "FTC_VENV", os.path.join(config.ftc_src_root, ".venv"))
config.substitutions.append(
    ("%venv-python", os.path.join(config.ftc_src_root, "test", "reference", "run-venv")))
# The tests read the model and data only from local files.
config.environment["HF_HUB_OFFLINE"] = "1"
config.environment["TRANSFORMERS_OFFLINE"] = "1"
config.environment["TOKENIZERS_PARALLELISM"] = "false"
