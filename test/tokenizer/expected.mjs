// expected.mjs - Expected bert-base-uncased ids from Hugging Face's JS port.
// SPDX-License-Identifier: Apache-2.0
//
// usage: node expected.mjs <node_modules dir> <model parent dir> <model name>
//                          <corpus.jsonl> <out.jsonl>
//
// Loads the tokenizer folder written by make_model.js with
// @huggingface/transformers, local files only, and writes one JSON line per
// corpus line: {"ids", "type_ids", "tokens"} from the JS tokenizer (special
// tokens added, no truncation), plus "trunc" when the case has max_length.
//
// transformers.js truncates by cutting the finished sequence (it would drop
// the final [SEP]), unlike the Python tokenizers. So "trunc" is built here
// from the JS tokenizer's ids of each part without special tokens and a
// transcription of transformers' truncate_sequences(longest_first) +
// build_inputs_with_special_tokens + pad-to-max_length.
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const [modules, modelRoot, modelName, corpusPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node expected.mjs <node_modules> <model root> <model name> <corpus> <out>');
  process.exit(2);
}
const tf = await import(pathToFileURL(
    path.join(modules, '@huggingface/transformers/dist/transformers.node.mjs')).href);
tf.env.allowRemoteModels = false;
tf.env.allowLocalModels = true;
tf.env.localModelPath = path.resolve(modelRoot) + '/';
const tok = await tf.AutoTokenizer.from_pretrained(modelName, {local_files_only: true});

const idOf = (t) => tok.convert_tokens_to_ids([t])[0];
const CLS = idOf('[CLS]');
const SEP = idOf('[SEP]');
const PAD = idOf('[PAD]');
const plain = (x) => Array.from(x, Number);

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.length);
const out = [];
for (const line of lines) {
  const c = JSON.parse(line);
  const item = typeof c === 'string' ? {text: c} : c;
  const hasPair = typeof item.pair === 'string';
  if (hasPair && item.pair.length === 0)
    throw new Error('empty pairs are not supported (transformers.js treats them as absent)');
  const enc = tok(item.text, {...(hasPair ? {text_pair: item.pair} : {}), return_tensor: false});
  const rec = {
    ids: plain(enc.input_ids),
    type_ids: plain(enc.token_type_ids),
    tokens: tok.tokenize(item.text),
  };
  if (item.max_length) {
    let a = plain(tok.encode(item.text, {add_special_tokens: false}));
    let b = hasPair ? plain(tok.encode(item.pair, {add_special_tokens: false})) : null;
    const budget = item.max_length - (hasPair ? 3 : 2);
    // truncate_sequences, TruncationStrategy.LONGEST_FIRST
    let remove = a.length + (b ? b.length : 0) - budget;
    for (; remove > 0; --remove) {
      if (b === null || a.length > b.length) a = a.slice(0, -1);
      else b = b.slice(0, -1);
    }
    let ids = [CLS, ...a, SEP];
    let types = ids.map(() => 0);
    if (b !== null) {
      ids = ids.concat(b, [SEP]);
      types = types.concat(b.map(() => 1), [1]);
    }
    const mask = ids.map(() => 1);
    while (ids.length < item.max_length) {
      ids.push(PAD);
      types.push(0);
      mask.push(0);
    }
    rec.trunc = {max_length: item.max_length, ids, type_ids: types, attention_mask: mask};
  }
  out.push(JSON.stringify(rec));
}
fs.writeFileSync(outPath, out.join('\n') + '\n');
console.log(`wrote ${outPath}: ${out.length} cases`);
