#!/usr/bin/env python3
"""Starts a command, sends it a signal once training is under way, and
prints its exit status.

    interrupt.py --signal INT --wait-for OUTDIR/metrics.jsonl -- CMD ARGS...

Waits until the metrics file holds a 'train' event (so the trainer is in its
loop and has its signal handlers), sends the signal, and waits for the
command (at most --timeout seconds, then kills it and fails). Prints
"exit N" (N = 128 + signal number when the command died of a signal).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--signal", default="INT")
p.add_argument("--wait-for", required=True)
p.add_argument("--timeout", type=float, default=120)
p.add_argument("cmd", nargs=argparse.REMAINDER)
a = p.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd


def training(path):
    try:
        with open(path) as f:
            return any(json.loads(l).get("event") == "train" for l in f if l.strip())
    except (OSError, ValueError):
        return False


proc = subprocess.Popen(cmd, restore_signals=True)
deadline = time.monotonic() + a.timeout
while not training(a.wait_for):
    if proc.poll() is not None:
        sys.exit(f"interrupt.py: the command ended (status {proc.returncode}) "
                 "before training started")
    if time.monotonic() > deadline:
        proc.kill()
        sys.exit("interrupt.py: training did not start in time")
    time.sleep(0.02)
proc.send_signal(getattr(signal, "SIG" + a.signal))
try:
    rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
except subprocess.TimeoutExpired:
    proc.kill()
    sys.exit("interrupt.py: the command did not stop after the signal")
print(f"exit {128 - rc if rc < 0 else rc}")
