"""ftc against PyTorch on the same BERT, weights, batch, freeze set and
optimizer, run alternately in one process tree; prints a table and writes
JSON. Not a test: timings are measurements, never assertions.

    bench.py --ftc build/bin/ftc [--configs bert-mini,...] [--threads 1,2]
             [--steps 10] [--warmup 3] [--rounds 2] [--json FILE]

Each configuration runs `rounds` times, alternating ftc and PyTorch, at each
thread count. ftc's step time is batch / examples_per_s of its per-step
train events (log_every = 1: the whole step as the trainer sees it, feeding
included); PyTorch's is the wall time of zero_grad + forward + backward +
AdamW step (bench/torch_peer.py). "est. step" is the step time ftc estimated
before the run from the plan's FLOPs and this machine's calibrated rates
(`ftc plan`'s cost; estimated_seconds in the start event). Peak RSS: GNU time for ftc, getrusage for
the PyTorch process. Compile time: ftc's own report on the first round (the
later rounds are plan-cache hits, reported as such).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, with python3-torch

# name: (make_tiny_bert sizes, batch, seq, freeze)
BERT_MINI = ["--layers", "4", "--hidden", "256", "--heads", "4",
             "--inter", "1024", "--vocab", "30522", "--max-pos", "512"]
BERT_BASE = ["--layers", "12", "--hidden", "768", "--heads", "12",
             "--inter", "3072", "--vocab", "30522", "--max-pos", "512"]
# The "-cached" rows turn on frozen-prefix caching (train.cache_frozen_prefix
# = "auto"; dropout is 0 in these models) and time steps after the first
# epoch only, when the frozen prefix is read from the cache; the rows without
# it compile with caching off, to compare one step with PyTorch's.
CONFIGS = {
    "bert-mini": (BERT_MINI, 32, 128, "none"),
    "bert-mini-bottom-half": (BERT_MINI, 32, 128, "freeze_below=2"),
    "bert-mini-head-only": (BERT_MINI, 32, 128, "head-only"),
    "bert-mini-bottom-half-cached": (BERT_MINI, 32, 128, "freeze_below=2"),
    "bert-mini-head-only-cached": (BERT_MINI, 32, 128, "head-only"),
    "bert-base": (BERT_BASE, 8, 128, "none"),
    # Fashion-MNIST's MLP (pipelines/fashion-mnist-mlp.toml): 784-256-128-10.
    "mlp": (None, 64, 0, "none"),
    # CNNs on random 224x224 RGB images, 10 classes, SGD with momentum:
    # torchvision's ResNet-18 and EfficientNet-Lite0 (its reference code).
    "resnet18": (None, 16, 224, "none"),
    "efficientnet-lite0": (None, 16, 224, "none"),
}
VISION = {"resnet18": ("resnet", ""),
          "efficientnet-lite0": ("efficientnet-lite",
                                 "dropout = 0.0\ndrop_connect_rate = 0.0\n")}
# Examples in a BERT configuration's dataset, in batches: steps per epoch.
BATCHES_PER_EPOCH = 4
MLP_SIZES = "784,256,128,10"
# A step of the MLP takes about a millisecond: time windows of this many
# steps (the trainer logs once per window) instead of single steps.
MLP_WINDOW = 50


def openblas_core(env):
    """The kernel set OpenBLAS picks in a python3-torch process under `env`
    (OPENBLAS_VERBOSE=2 prints "Core: <name>")."""
    r = subprocess.run([PYTHON, "-c", "import torch; a = torch.ones(64, 64); a @ a"],
                       capture_output=True, text=True,
                       env=dict(env, OPENBLAS_VERBOSE="2"))
    m = re.findall(r"Core: (\w+)", r.stdout + r.stderr)
    return m[-1] if m else "?"


def peer_env():
    """The PyTorch peer's environment, its BLAS at its best: Debian's
    OpenBLAS 0.3.21 takes recent Xeons (family 6 model 207) for "Prescott"
    and runs generic SSE3 kernels, so where it picked an old core and the CPU
    has AVX-512 (or AVX2) the peer gets OPENBLAS_CORETYPE set to the best
    kernel set the CPU supports. Returns (env, core name in use)."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    core = openblas_core(env)
    if core in ("Haswell", "Skylakex", "Cooperlake", "Sapphirerapids", "Zen"):
        return env, core
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    want = ("COOPERLAKE" if "avx512_bf16" in flags else
            "SKYLAKEX" if "avx512f" in flags else
            "HASWELL" if "avx2" in flags else None)
    if want:
        env["OPENBLAS_CORETYPE"] = want
        core = openblas_core(env) + f" (OPENBLAS_CORETYPE={want}; detected {core})"
    return env, core


PEER_ENV = None


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({r.returncode}):\n"
                 f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r


def make_model(work, sizes, batch, seq):
    out = os.path.join(work, "model")
    if not os.path.exists(os.path.join(out, "inputs.safetensors")):
        run([PYTHON, os.path.join(ROOT, "test", "reference",
                                  "make_tiny_bert.py"), out, "--seed", "1",
             *sizes, "--labels", "2", "--batch", str(batch), "--seq",
             str(seq), "--examples", str(batch * BATCHES_PER_EPOCH)])
    return out


def pipeline_section(name, out):
    """The [pipeline] table every bench spec starts with."""
    return f"""[pipeline]
name = "{name}"
seed = 1
output_dir = "{out}"
"""


def ftc_spec(path, name, model, batch, threads, steps, freeze, out, cache):
    policy = "head-only" if freeze == "head-only" else "none"
    below = (f"freeze_below = {freeze.split('=')[1]}\n"
             if freeze.startswith("freeze_below=") else "")
    with open(path, "w") as f:
        f.write(pipeline_section(name, out) + f"""[model]
family = "bert"
checkpoint = "{model}/ckpt"
task = "sequence-classification"
[dataset]
type = "tensors"
train = "{model}/inputs.safetensors"
[freeze]
policy = "{policy}"
{below}[optimizer]
type = "adamw"
lr = 1e-4
weight_decay = 0.01
""" + train_section(steps, batch, threads, 1,
                    f'cache_frozen_prefix = "{"auto" if cache else "off"}"\n'))


def train_section(steps, batch, threads, log_every, extra=""):
    """The [train] (plus `extra` keys) and [checkpoint] tables every bench
    spec shares."""
    return f"""[train]
epochs = 1000
max_steps = {steps}
batch_size = {batch}
threads = {threads}
log_every = {log_every}
shuffle = false
{extra}[checkpoint]
every = "end"
"""


def mlp_spec(path, name, data, batch, threads, steps, out):
    with open(path, "w") as f:
        f.write(pipeline_section(name, out) + f"""[model]
family = "mlp"
hidden_sizes = [256, 128]
[dataset]
type = "idx"
train = "{data}-images-idx3-ubyte"
[optimizer]
type = "adamw"
lr = 1e-3
weight_decay = 0.01
""" + train_section(steps, batch, threads, MLP_WINDOW))


def vision_spec(path, name, config, data, batch, threads, steps, out):
    family, keys = VISION[config]
    with open(path, "w") as f:
        f.write(pipeline_section(name, out) + f"""[model]
family = "{family}"
{keys}[dataset]
type = "tensors"
train = "{data}"
[optimizer]
type = "sgd"
lr = 0.01
momentum = 0.9
weight_decay = 1e-4
no_decay = []
""" + train_section(steps, batch, threads, 1))


def run_torch_vision(config, batch, size, threads, steps, warmup):
    env = PEER_ENV[0]
    # The venv's python: it has the EfficientNet-Lite reference code beside
    # Debian's torch and torchvision (system site packages).
    python = os.path.join(ROOT, ".venv", "bin", "python")
    r = run([python if os.path.exists(python) else PYTHON,
             os.path.join(HERE, "torch_peer.py"), "--checkpoint", "-",
             "--inputs", "-", "--batch", str(batch), "--threads",
             str(threads), "--steps", str(steps), "--warmup", str(warmup),
             "--vision", config, "--image-size", str(size)], env=env)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_ftc(ftc, spec, out, batch, warmup, cache, precision="fp32"):
    # One plan cache per configuration: later rounds measure a cache hit.
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", FTC_CACHE_DIR=cache)
    r = run(["/usr/bin/time", "-f", "peak_rss_kb %M", ftc, "run", spec,
             "--set", f"train.precision={precision}"], env=env)
    m = re.search(r"(compiled|loaded) .* in (\d+) ms", r.stderr)
    rss = int(re.search(r"peak_rss_kb (\d+)", r.stderr).group(1)) * 1024
    steps = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    rates = [e["examples_per_s"] for e in steps if e.get("event") == "train"]
    start = next(e for e in steps if e.get("event") == "start")
    # The compiler's estimate before the run (ftc plan's cost) of a step of
    # the epochs timed: the later epochs' where the warm-up covers the first
    # (the -cached rows: the frozen prefix then comes from the cache).
    est = start.get("estimated_step_seconds", {})
    estimate = est.get("later_epochs" if warmup >= start["steps_per_epoch"]
                       else "first_epoch", 0)
    return {"step_seconds": [batch / r for r in rates[warmup:]],
            "estimated_step_seconds": estimate,
            "peak_rss_bytes": rss,
            "compile_ms": int(m.group(2)) if m else None,
            "plan_cache_hit": bool(m and m.group(1) == "loaded")}


def run_torch(model, batch, threads, steps, warmup, freeze, precision="fp32"):
    env = PEER_ENV[0]
    r = run([PYTHON, os.path.join(HERE, "torch_peer.py"), "--checkpoint",
             f"{model}/ckpt", "--inputs", f"{model}/inputs.safetensors",
             "--batch", str(batch), "--threads", str(threads), "--steps",
             str(steps), "--warmup", str(warmup), "--freeze", freeze]
            + (["--autocast"] if precision == "bf16" else []), env=env)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_torch_mlp(batch, threads, windows):
    env = PEER_ENV[0]
    r = run([PYTHON, os.path.join(HERE, "torch_peer.py"), "--checkpoint", "-",
             "--inputs", "-", "--batch", str(batch), "--threads",
             str(threads), "--steps", str(windows * MLP_WINDOW), "--warmup",
             str(MLP_WINDOW), "--mlp", MLP_SIZES], env=env)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # Per-window means, as ftc's examples_per_s windows.
    s = out["step_seconds"]
    out["step_seconds"] = [sum(s[i:i + MLP_WINDOW]) / MLP_WINDOW
                           for i in range(0, len(s), MLP_WINDOW)]
    return out


def summary(xs):
    med = statistics.median(xs)
    spread = (max(xs) - min(xs)) / med if med else 0.0
    return med, spread


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ftc", default=os.path.join(ROOT, "build", "bin", "ftc"))
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--precisions", default="fp32",
                    help="fp32 and/or bf16 (BERT configurations): ftc's "
                         "train.precision against PyTorch with or without "
                         "CPU autocast, in the same run")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    global PEER_ENV
    PEER_ENV = peer_env()
    print(f"PyTorch peer's OpenBLAS kernels: {PEER_ENV[1]}", flush=True)
    work = a.work or tempfile.mkdtemp(prefix="ftc-bench-")
    peak = {}
    for t in map(int, a.threads.split(",")):
        peak[t] = float(run([os.path.join(os.path.dirname(a.ftc),
                                          "ftc-sgemm-peak"), str(t)]).stdout)
    rows = []
    for name in a.configs.split(","):
        sizes, batch, seq, freeze = CONFIGS[name]
        if name in VISION:
            model = os.path.join(work, "images-%d-%d.safetensors" % (batch, seq))
            os.makedirs(work, exist_ok=True)
            if not os.path.exists(model):
                run([PYTHON, os.path.join(ROOT, "test", "reference",
                                          "make_image_batch.py"), model,
                     "--seed", "1", "--examples", str(2 * batch), "--size",
                     str(seq), "--labels", "10"])
        elif name == "mlp":
            model = os.path.join(work, "mlp-data", "d")
            if not os.path.exists(model + "-images-idx3-ubyte"):
                os.makedirs(os.path.dirname(model), exist_ok=True)
                run([PYTHON, os.path.join(ROOT, "test", "e2e", "Inputs",
                                          "make_idx.py"), model, "--count",
                     "1024", "--size", "28", "--classes", "10"])
        else:
            model = make_model(os.path.join(work, name.split("-bottom")[0]
                                            .split("-head")[0]), sizes,
                               batch, seq)
        cached = name.endswith("-cached")
        # Cached rows: every timed step comes after the first epoch.
        warmup = max(a.warmup, BATCHES_PER_EPOCH) if cached else a.warmup
        precisions = a.precisions.split(",")
        if name in VISION or name == "mlp":
            precisions = ["fp32"]  # ftc's convolutions have no bf16 form yet
        for t, precision in ((t, p) for t in map(int, a.threads.split(","))
                             for p in precisions):
            ftc_runs, torch_runs = [], []
            for rnd in range(a.rounds):
                out = os.path.join(work, f"{name}-{precision}-t{t}-r{rnd}")
                spec = out + ".toml"
                # The same name every round: the plan cache then hits.
                cache = os.path.join(work, f"cache-{name}-{precision}-t{t}")
                if name in VISION:
                    vision_spec(spec, f"bench-{name}-t{t}", name, model, batch,
                                t, warmup + a.steps, out)
                    ftc_runs.append(run_ftc(a.ftc, spec, out, batch, warmup,
                                            cache))
                    torch_runs.append(run_torch_vision(name, batch, seq, t,
                                                       a.steps, a.warmup))
                    continue
                if name == "mlp":
                    # Windows of MLP_WINDOW steps; the first is warm-up.
                    windows = max(a.steps // 2, 2)
                    mlp_spec(spec, f"bench-{name}-t{t}", model, batch, t,
                             (windows + 1) * MLP_WINDOW, out)
                    ftc_runs.append(run_ftc(a.ftc, spec, out, batch, 1, cache))
                    torch_runs.append(run_torch_mlp(batch, t, windows))
                    continue
                ftc_spec(spec, f"bench-{name}-t{t}", model, batch, t,
                         warmup + a.steps, freeze, out, cached)
                ftc_runs.append(run_ftc(a.ftc, spec, out, batch, warmup,
                                        cache, precision))
                torch_runs.append(run_torch(model, batch, t, a.steps,
                                            a.warmup, freeze, precision))
            f_med, f_spread = summary(sum((r["step_seconds"]
                                           for r in ftc_runs), []))
            p_med, p_spread = summary(sum((r["step_seconds"]
                                           for r in torch_runs), []))
            rows.append({
                "config": name if precision == "fp32" else f"{name}-{precision}",
                "threads": t, "batch": batch, "seq": seq,
                "freeze": freeze, "precision": precision,
                "ftc": {"step_median_s": f_med, "spread": f_spread,
                        "examples_per_s": batch / f_med,
                        "peak_rss_bytes": max(r["peak_rss_bytes"]
                                              for r in ftc_runs),
                        "compile_ms": ftc_runs[0]["compile_ms"],
                        "estimated_step_s": ftc_runs[0]["estimated_step_seconds"],
                        "plan_cache_hit_ms": next(
                            (r["compile_ms"] for r in ftc_runs[1:]
                             if r["plan_cache_hit"]), None)},
                "torch": {"step_median_s": p_med, "spread": p_spread,
                          "examples_per_s": batch / p_med,
                          "peak_rss_bytes": max(r["peak_rss_bytes"]
                                                for r in torch_runs),
                          "blas": torch_runs[0]["blas"],
                          "openblas_core": PEER_ENV[1],
                          "threads": torch_runs[0]["threads"],
                          "version": torch_runs[0]["torch"]},
                "ratio_step_time": f_med / p_med,
                "sgemm_peak_gflops": peak[t],
            })
            print_row(rows[-1], header=len(rows) == 1)
    isa = run([a.ftc, "info"]).stdout.strip().replace("\n", "; ")
    print(f"ftc info: {isa}")
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": os.uname().nodename, "cpus": os.cpu_count(),
              "ftc_info": isa,
              "rows": rows}
    path = a.json or os.path.join(work, "bench.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nJSON: {path}")
    print(f"PyTorch: {rows[0]['torch']['version']}, BLAS "
          f"{rows[0]['torch']['blas']}, OpenBLAS kernels {PEER_ENV[1]}")


def print_row(r, header):
    if header:
        print(f"{'config':28} {'thr':>3} {'ftc step':>10} {'±':>5} "
              f"{'torch step':>10} {'±':>5} {'ftc/torch':>9} {'ftc ex/s':>9} "
              f"{'torch ex/s':>10} {'ftc RSS':>8} {'torch RSS':>9} "
              f"{'compile':>8} {'cache':>6} {'sgemm':>7} {'torch thr':>9} "
              f"{'est. step':>10} {'est/ftc':>7}")
    f, p = r["ftc"], r["torch"]
    mb = lambda b: f"{b / 2**20:.0f}M"  # noqa: E731
    def secs(x):
        return f"{x * 1000:.2f}ms" if x < 0.1 else f"{x:.3f}s"
    print(f"{r['config']:28} {r['threads']:>3} {secs(f['step_median_s']):>10} "
          f"{f['spread']:>5.0%} {secs(p['step_median_s']):>10} "
          f"{p['spread']:>5.0%} {r['ratio_step_time']:>9.2f} "
          f"{f['examples_per_s']:>9.1f} {p['examples_per_s']:>10.1f} "
          f"{mb(f['peak_rss_bytes']):>8} {mb(p['peak_rss_bytes']):>9} "
          f"{str(f['compile_ms']) + 'ms':>8} "
          f"{str(f['plan_cache_hit_ms']) + 'ms':>6} "
          f"{r['sgemm_peak_gflops']:>6.0f}G {p['threads']:>9} "
          f"{secs(f['estimated_step_s']):>10} "
          f"{f['estimated_step_s'] / f['step_median_s']:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
