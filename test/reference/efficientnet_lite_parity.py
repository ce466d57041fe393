"""efficientnet_lite_pytorch (the model code shipped with the pretrained
EfficientNet-Lite0) as the reference for ftc's efficientnet-lite plugin:
logits, loss, every gradient, the running statistics and N SGD steps on one
batch, in ftc-trace's layout.

    efficientnet_lite_parity.py --spec JOB.toml --checkpoint DIR
        --inputs INPUTS.safetensors --ftc FTC.safetensors --steps N
        -o OUT.safetensors

EfficientNet.from_name('efficientnet-lite0') with model.num_labels classes,
dynamic "SAME" padding (image_size=None), dropout and drop connect 0 (the
spec must say so: both are random), DIR/model.safetensors loaded (the
classifier `_fc` takes ftc's initial values when its class count differs).
Training mode but for batch norms whose weight and bias are frozen (eval
mode, ftc's freeze.batch_norm = "eval"); freeze_below = k freezes the stem
and blocks 0 ... k-1. torch.optim.SGD with the spec's lr and momentum, no
weight decay on biases and batch norms (cnn_parity.run).
"""
from efficientnet_lite_pytorch import EfficientNet

import cnn_parity
import safetensors_io


def block_of(name):
    if name.startswith("_blocks."):
        return int(name.split(".")[1])
    if name.startswith(("_conv_stem.", "_bn0.")):
        return -1
    if name.startswith(("_conv_head.", "_bn1.")):
        return 16
    return None


def main():
    a, spec, ftc = cnn_parity.setup(__doc__.splitlines()[0])
    ms, opt, freeze = spec["model"], spec.get("optimizer", {}), spec.get("freeze", {})
    assert float(ms.get("dropout", 0.2)) == 0 and float(ms.get("drop_connect_rate", 0.2)) == 0, \
        "the parity job must switch off dropout and drop connect"
    labels = int(ms["num_labels"])
    model = EfficientNet.from_name("efficientnet-lite0", image_size=None,
                                   num_classes=labels, dropout_rate=0.0,
                                   drop_connect_rate=0.0)
    cnn_parity.load_checkpoint(model, a.checkpoint, ftc, ("_fc.weight", "_fc.bias"))
    names = [n for n, _ in model.named_parameters()]
    below = freeze.get("freeze_below")
    trainable = {n for n in names
                 if below is None or block_of(n) is None or block_of(n) >= int(below)}
    if freeze.get("policy") == "head-only":
        trainable = {n for n in names if n.startswith("_fc.")}
    out, loss, frozen_bns = cnn_parity.run(model, trainable, spec, a.inputs, a.steps)
    safetensors_io.save(a.output, out, {"producer": "efficientnet_lite_parity.py"})
    print(f"efficientnet_lite_parity: loss {loss:.6f}, {len(trainable)} of "
          f"{len(names)} parameters trainable, {len(frozen_bns)} frozen batch norms, "
          f"{a.steps} steps")


if __name__ == "__main__":
    main()
