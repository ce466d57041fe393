"""A GPT-2-style byte-level BPE tokenizer, trained with Hugging Face's tokenizers.

usage: train-byte-bpe.py <out dir> <vocab size> <text file>...

Trains ByteLevelBPETokenizer (ByteLevel pre-tokenizer and decoder,
add_prefix_space=False as GPT-2's; all 256 byte symbols in the vocabulary;
min_frequency 2; the special token <|endoftext|>, id 0) on the lines of the
text files and writes <out dir>/tokenizer.json, vocab.json and merges.txt
(GPT-2's original layout), plus tokenizer_config.json and
special_tokens_map.json so that transformers' AutoTokenizer loads the
directory as a GPT2TokenizerFast whose bos, eos and unk are <|endoftext|>.

Deterministic: the trainer breaks count ties by pair, and the caller runs it
on one thread (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false).
"""
import json
import os
import sys

from tokenizers import ByteLevelBPETokenizer

EOT = "<|endoftext|>"
# GPT-2's context; the tokenizer itself does not truncate.
MODEL_MAX_LENGTH = 1024


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    out, vocab_size, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    tok.train(files, vocab_size=vocab_size, min_frequency=2,
              special_tokens=[EOT], show_progress=False)
    if tok.token_to_id(EOT) != 0 or tok.get_vocab_size() != vocab_size:
        sys.exit(f"unexpected vocabulary: {EOT} = {tok.token_to_id(EOT)}, "
                 f"size {tok.get_vocab_size()}")
    os.makedirs(out, exist_ok=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    tok.save_model(out)  # vocab.json, merges.txt (with a #version line)
    specials = {"bos_token": EOT, "eos_token": EOT, "unk_token": EOT}
    write_json(os.path.join(out, "special_tokens_map.json"), specials)
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "GPT2Tokenizer",
        **specials,
        "add_prefix_space": False,
        "model_max_length": MODEL_MAX_LENGTH,
        "clean_up_tokenization_spaces": False,
    })


if __name__ == "__main__":
    main()
