#!/usr/bin/env python3
"""Inputs and expectations for image_folder.test (numpy and the stdlib).

  image_folder.py make <root> <fixtures>   folders of PNG files (written here
                                           with zlib) and the JPEG fixtures,
                                           and one spec <root>/<case>.toml per
                                           case
  image_folder.py make-train <dir>        a small training folder (3 x 8 PNGs)
  image_folder.py check <case> <root> <dump.jsonl> [<dump.jsonl> ...]
                                           compares what ftc-dataset-dump
                                           printed with numpy's computation

The expected values are computed here independently of ftc: the pixels the
generator wrote, ITU-R 601-2 luma, and bilinear resizing with half-pixel
centres and no antialiasing (PyTorch's interpolate(mode="bilinear",
align_corners=False)) in float64. Prints "<case>: ok" or raises.
"""
import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np

H, W = 4, 6  # every PNG of the small set


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(rows, color_type, depth=8, palette=None):
    """`rows`: a (h, w) or (h, w, c) array of the stored samples."""
    h, w = rows.shape[:2]
    samples = rows.astype(">u2" if depth == 16 else np.uint8)
    raw = b"".join(b"\x00" + samples[y].tobytes() for y in range(h))
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    return out + chunk(b"IEND", b"")


def grid():
    return np.mgrid[0:H, 0:W]


PALETTE = np.array([[250, 0, 0], [0, 250, 0], [0, 0, 250], [90, 90, 90]])


def small_images():
    """(class, relative path, PNG bytes, the RGB pixels ftc must decode)."""
    y, x = grid()
    rgb = np.stack([40 * y + 7 * x + 3, 255 - 30 * y - 11 * x, (13 * x * y + 5) % 256], -1)
    grey = 20 * y + 9 * x + 1
    grey16 = 60 + 10 * y + 20 * x  # stored as v * 257: exactly v after scaling
    index = (x + y) % 4
    alpha = (17 * x + 50 * y) % 256
    rgba = np.concatenate([rgb[..., ::-1], alpha[..., None]], -1)
    grey_alpha = np.stack([255 - grey, alpha], -1)
    rep = lambda g: np.repeat(g[..., None], 3, -1)
    return [
        ("ant", "a.png", png_bytes(rgb, 2), rgb),
        ("ant", "noext", png_bytes(grey, 0), rep(grey)),  # no extension
        ("bird", "0.png", png_bytes(grey16 * 257, 0, 16), rep(grey16)),
        ("bird", "1.png", png_bytes(index, 3, palette=PALETTE), PALETTE[index]),
        ("cat", "sub/deep.png", png_bytes(rgba, 6), rgb[..., ::-1]),
        ("cat", "z.png", png_bytes(grey_alpha, 4), rep(255 - grey)),
    ]


# The order ftc serves them: round robin over the classes (ant, bird, cat),
# each class's files sorted by path.
ORDER = [0, 2, 4, 1, 3, 5]
CLASSES = ["ant", "bird", "cat"]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def spec(root, case, train, extra="", eval_dir=None):
    text = f'[pipeline]\nseed = 7\n\n[dataset]\ntype = "image-folder"\ntrain = "{train}"\n'
    if eval_dir:
        text += f'eval = "{eval_dir}"\n'
    with open(os.path.join(root, case + ".toml"), "w") as f:
        f.write(text + extra)


def make(root, fixtures):
    small = os.path.join(root, "small")
    for cls, rel, data, _ in small_images():
        write(os.path.join(small, "train", cls, rel), data)
    # Ignored: hidden files and folders, files beside the class folders.
    write(os.path.join(small, "train", "ant", ".DS_Store"), b"not an image")
    write(os.path.join(small, "train", "cat", ".cache", "x.png"), small_images()[0][2])
    write(os.path.join(small, "train", ".hidden", "x.png"), small_images()[0][2])
    write(os.path.join(small, "train", "README.txt"), b"one folder per class\n")
    write(os.path.join(small, "eval", "cat", "only.png"), small_images()[0][2])
    write(os.path.join(small, "evalbad", "zebra", "z.png"), small_images()[0][2])
    train = os.path.join(small, "train")

    spec(root, "raw3", train, "channels = 3\nnormalize = false\n")
    spec(root, "grey", train, "channels = 1\nmean = 0.5\nstd = 0.25\n")
    spec(root, "resize", train, "channels = 3\nimage_size = [6, 9]\ncrop = [5, 7]\n"
         "mean = [0.1, 0.2, 0.3]\nstd = [0.5, 0.25, 2.0]\n")
    spec(root, "shorter", train, "channels = 1\nimage_size = 3\nnormalize = false\n")
    spec(root, "random", train, "channels = 3\nimage_size = [6, 9]\ncrop = [4, 5]\n"
         'crop_mode = "random"\nhflip = 0.5\nnormalize = false\n',
         eval_dir=train)
    spec(root, "eval", train, "channels = 3\nnormalize = false\n",
         eval_dir=os.path.join(small, "eval"))
    spec(root, "evalbad", train, "channels = 3\n", eval_dir=os.path.join(small, "evalbad"))
    spec(root, "mixed", train, "")
    spec(root, "meanlen", train, "channels = 3\nmean = [0.5, 0.5]\n")
    spec(root, "bigcrop", train, "channels = 3\ncrop = [5, 5]\n")

    jpeg = os.path.join(root, "jpeg", "train")
    for cls, name in (("grey", "grey-60-200.jpg"), ("rgb", "rgb-red-blue.jpg")):
        os.makedirs(os.path.join(jpeg, cls), exist_ok=True)
        shutil.copy(os.path.join(fixtures, name), os.path.join(jpeg, cls, name))
    spec(root, "jpeg", jpeg, "channels = 3\nnormalize = false\n")

    # Corrupt files: each kind alone (its message), then all together.
    good = small_images()[1][2]
    whole = small_images()[0][2]
    truncated_png = whole[: len(whole) // 2]
    crc = bytearray(whole)
    at = whole.index(b"IDAT")
    crc[at + 4 + struct.unpack(">I", whole[at - 4:at])[0]] ^= 0x55  # its CRC
    with open(os.path.join(fixtures, "rgb-red-blue.jpg"), "rb") as f:
        jpg = f.read()
    truncated_jpg = jpg[: len(jpg) * 3 // 5]
    for case, name, data in (("text", "bad.png", b"just some text\n"),
                             ("truncpng", "trunc.png", truncated_png),
                             ("crc", "crc.png", bytes(crc)),
                             ("truncjpg", "trunc.jpg", truncated_jpg),
                             ("empty", "empty.jpg", b"")):
        d = os.path.join(root, "bad-" + case, "train")
        write(os.path.join(d, "a", "good.png"), good)
        write(os.path.join(d, "a", name), data)
        spec(root, "bad-" + case, d, "channels = 3\n")
    corrupt = os.path.join(root, "corrupt", "train")
    shutil.copytree(train, corrupt)
    write(os.path.join(corrupt, "ant", "bad.png"), b"just some text\n")
    write(os.path.join(corrupt, "bird", "trunc.png"), truncated_png)
    write(os.path.join(corrupt, "cat", "trunc.jpg"), truncated_jpg)
    spec(root, "corrupt", corrupt, "channels = 3\n")
    spec(root, "corrupt-skip", corrupt, 'channels = 3\non_corrupt = "skip"\n')
    # A whole job over the corrupt folder, for ftc check (the train key is
    # on line 7).
    with open(os.path.join(root, "job.toml"), "w") as f:
        f.write(f'[model]\nfamily = "mlp"\nhidden_sizes = [8]\n\n[dataset]\n'
                f'type = "image-folder"\ntrain = "{corrupt}"\nchannels = 3\n\n'
                f'[train]\nbatch_size = 2\nepochs = 1\n')


#----------------------------------------------------------------------------
# Expectations
#----------------------------------------------------------------------------

def luma(rgb):
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def taps(n_in, n_out):
    s = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0)
    i0 = np.minimum(np.floor(s).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, s - i0


def resize(chw, oh, ow):
    r0, r1, wr = taps(chw.shape[1], oh)
    c0, c1, wc = taps(chw.shape[2], ow)
    wr, wc = wr[:, None], wc[None, :]
    a = lambda r, c: chw[:, r][:, :, c]
    return ((1 - wr) * ((1 - wc) * a(r0, c0) + wc * a(r0, c1)) +
            wr * ((1 - wc) * a(r1, c0) + wc * a(r1, c1)))


def chw(rgb):
    return np.transpose(rgb.astype(np.float64), (2, 0, 1))


def read_dump(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f]
    return lines[0], lines[1:]


def images(head, examples):
    shape = head["features"]["image"]
    return [np.array(e["image"]).reshape(shape) for e in examples]


def expect_close(got, want, what, atol=1e-4):
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape}")
    if not np.allclose(got, want, atol=atol, rtol=0):
        raise AssertionError(f"{what}: max difference {np.abs(got - want).max()}\n"
                             f"got {got}\nexpected {want}")


def check_small(case, head, examples):
    pixels = [small_images()[i][3] for i in ORDER]
    assert head["examples"] == 6, head
    assert head["classes"] == CLASSES, head
    assert head["skipped_records"] == 0, head
    assert [e["label"] for e in examples] == [[0], [1], [2], [0], [1], [2]], examples
    got = images(head, examples)
    for k, (g, rgb) in enumerate(zip(got, pixels)):
        if case == "raw3":
            want = chw(rgb)
        elif case == "grey":
            want = (luma(rgb.astype(np.float64))[None] / 255 - 0.5) / 0.25
        elif case == "resize":
            r = resize(chw(rgb), 6, 9)[:, 0:5, 1:8]  # centre: (1 -> 0, 2 -> 1)
            mean = np.array([0.1, 0.2, 0.3])[:, None, None]
            std = np.array([0.5, 0.25, 2.0])[:, None, None]
            want = (r / 255 - mean) / std
        elif case == "shorter":
            want = resize(luma(rgb.astype(np.float64))[None], 3, 4)
        expect_close(g, want, f"{case} example {k}")


def windows(full, crop):
    """Every crop (and its mirror) of `full`, by (top, left, flip)."""
    _, h, w = full.shape
    for top in range(h - crop[0] + 1):
        for left in range(w - crop[1] + 1):
            win = full[:, top:top + crop[0], left:left + crop[1]]
            yield (top, left, False), win
            yield (top, left, True), win[:, :, ::-1]


def check_random(root, dumps):
    """dumps: epoch 1, epoch 1 again, epoch 2, epoch 1 with another seed,
    the eval split."""
    runs = [read_dump(d) for d in dumps]
    for head, _ in runs[:4]:
        assert head["features"]["image"] == [3, 4, 5], head
        assert head["varies"] is True, head
    assert runs[4][0]["varies"] is False, runs[4][0]
    e1, again, e2, seed8, ev = [images(h, ex) for h, ex in runs]
    assert all(np.array_equal(a, b) for a, b in zip(e1, again)), "epoch 1 twice differs"
    assert any(not np.array_equal(a, b) for a, b in zip(e1, e2)), "epochs 1 and 2 agree"
    assert any(not np.array_equal(a, b) for a, b in zip(e1, seed8)), "seeds 7 and 8 agree"
    pixels = [small_images()[i][3] for i in ORDER]
    chosen = []
    for run in (e1, e2, seed8):
        for k, g in enumerate(run):
            full = resize(chw(pixels[k]), 6, 9)
            found = [which for which, win in windows(full, (4, 5))
                     if np.allclose(g, win, atol=1e-3)]
            if not found:
                raise AssertionError(f"example {k} is no crop of the resized image")
            chosen.append(found[0])
    flips = {f for _, _, f in chosen}
    offsets = {(t, l) for t, l, _ in chosen}
    assert flips == {True, False}, chosen
    assert len(offsets) >= 4, chosen
    # The eval split: the centre (top 1, left 2), never flipped.
    for k, g in enumerate(ev):
        full = resize(chw(pixels[k]), 6, 9)
        expect_close(g, full[:, 1:5, 2:7], f"eval example {k}", atol=1e-3)


def check_jpeg(head, examples):
    assert head["classes"] == ["grey", "rgb"], head
    got = images(head, examples)
    # Flat 8x8 blocks at quality 100: each decodes to its colour, within
    # the YCbCr round trip.
    for g, (left, right) in zip(got, [((60,) * 3, (200,) * 3),
                                      ((200, 30, 30), (30, 60, 220))]):
        assert g.shape == (3, 8, 16), g.shape
        for half, colour in ((g[:, :, :8], left), (g[:, :, 8:], right)):
            want = np.array(colour, dtype=np.float64)[:, None, None]
            if np.abs(half - want).max() > 3:
                raise AssertionError(f"jpeg: {half} is not {colour}")


def make_train(root, per_class=8, size=8):
    """A small training folder: three classes of grey size x size PNGs, each
    class a pattern under noise (deterministic)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    patterns = [16 * x, 16 * y, 8 * (x + y)]
    for c, name in enumerate(["circle", "square", "star"]):
        for i in range(per_class):
            img = np.clip(patterns[c] + rng.integers(0, 60, (size, size)), 0, 255)
            write(os.path.join(root, name, f"{i:03d}.png"), png_bytes(img, 0))


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1] == "make-train":
        make_train(sys.argv[2])
        return
    case, root, dumps = sys.argv[2], sys.argv[3], sys.argv[4:]
    if case == "random":
        check_random(root, dumps)
    else:
        head, examples = read_dump(dumps[0])
        if case == "jpeg":
            check_jpeg(head, examples)
        elif case == "eval":
            assert head["examples"] == 1 and head["classes"] == CLASSES, head
            assert examples[0]["label"] == [2], examples
            expect_close(images(head, examples)[0], chw(small_images()[0][3]), "eval")
        elif case == "skip":
            assert head["examples"] == 6 and head["skipped_records"] == 3, head
            # Round robin before the corrupt ones were left out: ant/a,
            # bird/0, cat/sub/deep, [ant/bad], bird/1, [cat/trunc.jpg],
            # ant/noext, [bird/trunc], cat/z.
            labels = [e["label"][0] for e in examples]
            assert labels == [0, 1, 2, 1, 0, 2], labels
        else:
            check_small(case, head, examples)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
