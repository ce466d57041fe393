"""torchvision's ResNet as the reference for ftc's resnet plugin: logits,
loss, every gradient, the batch norms' running statistics and N SGD steps on
one batch, in ftc-trace's layout.

    resnet_torchvision_parity.py --spec JOB.toml --checkpoint DIR
        --inputs INPUTS.safetensors --ftc FTC.safetensors --steps N
        -o OUT.safetensors

Builds torchvision.models.resnet.ResNet (BasicBlock for resnet18/34,
Bottleneck for resnet50; the spec's layers) with model.num_labels classes,
loads DIR/model.safetensors (the classifier takes ftc's initial values,
init.fc.*). Training mode, except that a batch norm whose weight and bias
are both frozen runs in eval mode (freeze.batch_norm = "eval", ftc's
default). freeze_below = k freezes the stem and layer1 ... layer<k>.
torch.optim.SGD with the spec's lr, momentum, dampening, Nesterov and weight
decay, none on biases and batch-norm parameters (ftc's default no_decay,
["**.bias", "@norm"]). Outputs init.*, loss, logits (eval mode, after the
first training forward), grad.* and param.* (running statistics included).
"""
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

import cnn_parity
import safetensors_io


def stage_of(name):
    """The freeze_below block of a parameter: -1 for the stem, k - 1 for
    layer<k>, None for the classifier (ftc's resnet layer_of)."""
    if name.startswith("layer"):
        return int(name[5]) - 1
    if name.startswith(("conv1.", "bn1.")):
        return -1
    return None


def main():
    a, spec, ftc = cnn_parity.setup(__doc__.splitlines()[0])
    ms, opt, freeze = spec["model"], spec.get("optimizer", {}), spec.get("freeze", {})
    variant = ms.get("variant", "resnet18")
    layers = ms.get("layers") or ([2, 2, 2, 2] if variant == "resnet18" else [3, 4, 6, 3])
    block = Bottleneck if variant == "resnet50" else BasicBlock
    model = ResNet(block, layers, num_classes=int(ms["num_labels"]))
    cnn_parity.load_checkpoint(model, a.checkpoint, ftc, ("fc.weight", "fc.bias"))
    names = [n for n, _ in model.named_parameters()]
    below = freeze.get("freeze_below")
    trainable = {n for n in names
                 if below is None or stage_of(n) is None or stage_of(n) >= int(below)}
    out, loss, frozen_bns = cnn_parity.run(model, trainable, spec, a.inputs, a.steps)
    safetensors_io.save(a.output, out, {"producer": "resnet_torchvision_parity.py"})
    print(f"resnet_torchvision_parity: torchvision {variant} {layers}: loss "
          f"{loss:.6f}, {len(trainable)} of {len(names)} parameters trainable, "
          f"{len(frozen_bns)} frozen batch norms, {a.steps} steps")


if __name__ == "__main__":
    main()
