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
config.substitutions.append(("%fashion_mnist", "/usr/share/datasets/fashion-mnist"))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", bin_dir, append_path=True)
# Tests must not see a developer's own plugin directories.
config.environment.pop("FTC_PLUGIN_PATH", None)

if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    config.available_features.add("fashion-mnist")

# lit runs tests in parallel; OpenMP threads that spin while waiting would
# fight each other for the cores.
config.environment["OMP_WAIT_POLICY"] = "PASSIVE"

# Some tests npm-install reference tools or data (the tokenizer golden test,
# the corpus for the BERT pipelines): pass the environment that reaches the
# registry (proxies, extra CA certificates, npm settings), which lit drops.
for name, value in os.environ.items():
    upper = name.upper()
    if (upper in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                  "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "SSL_CERT_FILE",
                  "SSL_CERT_DIR")
            or upper.startswith("NPM_CONFIG_")):
        config.environment[name] = value
