"""The 8k vocabulary of the small BERT pipelines, from bert-base-uncased's.

usage: make-small-vocab.py <bert-base-uncased vocab.txt> <out vocab.txt> <words>

Keeps, in bert-base-uncased's order: the special tokens, every single
character with and without "##" (so every word still has a WordPiece split
and no character bert-base-uncased knows becomes [UNK]), and the first
<words> whole tokens after them (bert-base-uncased lists those roughly by
frequency); drops the [unusedN] rows. Tokenization stays greedy
longest-match-first: a word whose pieces are all kept splits the same way
(with new ids); a rarer one splits into shorter pieces. The masked-LM
decoder's cost is linear in the vocabulary size.
"""
import os
import re
import sys

# Well-known bert-base-uncased ids: the input must be that vocabulary.
KNOWN = {0: "[PAD]", 1: "[unused0]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]",
         103: "[MASK]", 999: "!", 1996: "the", 2015: "##s", 13137: "straw",
         20968: "##berries", 30521: "##～"}
SPECIALS = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}


def main():
    src, out, words = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(src, encoding="utf-8") as f:
        vocab = [t for t in f.read().split("\n") if t]
    if len(vocab) != 30522 or any(vocab[i] != t for i, t in KNOWN.items()):
        sys.exit(f"{src}: not the bert-base-uncased vocabulary")
    kept = []
    for t in vocab:
        if t in SPECIALS or len(t[2:] if t.startswith("##") else t) == 1:
            kept.append(t)
        elif not re.fullmatch(r"\[unused\d+\]", t) and words > 0:
            words -= 1
            kept.append(t)
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(kept) + "\n")
    os.replace(out + ".tmp", out)
    print(f"wrote {out}: {len(kept)} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
